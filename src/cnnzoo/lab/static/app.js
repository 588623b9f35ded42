// The lab's pages. Each URL is a page (/zoo, /models/NAME, /runs, /runs/ID); the script reads
// the URL, asks the API and draws the page. Text from the server (a run's folder name, a class
// name) is only ever set as text, never parsed as HTML; the one exception is the diagram, an
// SVG the lab itself draws with every name escaped.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let timer = null; // the page's polling, stopped when another page opens
let generation = 0; // counts the pages opened

function opened() {
  // What a page draws and polls, only while it is the page open: one still loading when the
  // user opens another draws nothing over it.
  const mine = generation;
  const live = () => mine === generation;
  return {
    show: (...nodes) => { if (live()) show(...nodes); },
    every: (ms, refresh) => {
      if (live()) timer = setInterval(() => { if (live()) refresh().catch(() => {}); }, ms);
    },
  };
}

function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

async function api(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

async function post(path, body = {}) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(answer.error || `${response.status} ${response.statusText}`);
  return answer;
}

function runUrl(id) {
  return id.split("/").map(encodeURIComponent).join("/");
}

function count(n) {
  if (n === null || n === undefined) return "–";
  for (const [unit, size] of [["G", 1e9], ["M", 1e6], ["K", 1e3]]) {
    if (Math.abs(n) >= size) return `${(n / size).toFixed(n >= 10 * size ? 1 : 2)}${unit}`;
  }
  return String(n);
}

function bytes(n) {
  if (!n) return "";
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]]) {
    if (n >= size) return `${(n / size).toFixed(1)} ${unit}`;
  }
  return `${n} B`;
}

function percent(v) {
  return v === null || v === undefined ? "–" : `${Number(v).toFixed(2)}%`;
}

function show(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
}

function failed(error) {
  show(h("h1", {}, "Something is wrong"), h("p", { class: "error", role: "alert" }, error.message));
}

// --- the zoo -----------------------------------------------------------------------------

const ZOO_COLUMNS = [
  ["name", "model", false],
  ["family", "family", false],
  ["year", "year", true],
  ["params", "params", true],
  ["macs", "MACs", true],
  ["depth", "depth", true],
  ["receptive_field", "RF", true],
  ["top5_error", "paper's top-5 error", true],
  ["weights", "weights", false],
];

async function zooPage() {
  const page_ = opened();
  document.title = "Zoo · cnnzoo lab";
  page_.show(h("h1", {}, "The zoo"), h("p", { class: "loading" }, "Counting every model…"));
  const models = await api("/api/models");
  const state = { text: "", family: "", key: "year", order: 1 };
  const families = [...new Set(models.map((m) => m.family))];
  const tbody = h("tbody");
  const heads = ZOO_COLUMNS.map(([key, label, num]) =>
    h("th", { class: num ? "num" : null, "data-key": key, scope: "col" },
      h("button", { type: "button", onclick: () => sortBy(key) }, label)));

  function sortBy(key) {
    state.order = state.key === key ? -state.order : 1;
    state.key = key;
    render();
  }

  function render() {
    const text = state.text.toLowerCase();
    const rows = models
      .filter((m) => !state.family || m.family === state.family)
      .filter((m) => !text || `${m.name} ${m.family} ${m.paper}`.toLowerCase().includes(text))
      .sort((a, b) => {
        const x = a[state.key], y = b[state.key];
        if (x === y) return a.name < b.name ? -1 : 1;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : 1) * state.order;
      });
    for (const th of heads) {
      const sorted = th.dataset.key === state.key;
      th.setAttribute("aria-sort", sorted ? (state.order > 0 ? "ascending" : "descending") : "none");
    }
    tbody.replaceChildren(...rows.map((m) => h("tr", { "data-model": m.name },
      h("td", {}, h("a", { href: `/models/${encodeURIComponent(m.name)}` }, m.name),
        m.faithful ? "" : h("span", { class: "muted", title: "departs from its paper" }, " (variant)")),
      h("td", {}, m.family),
      h("td", { class: "num" }, m.year),
      h("td", { class: "num", title: m.params.toLocaleString() }, count(m.params)),
      h("td", { class: "num", title: m.macs.toLocaleString() }, count(m.macs)),
      h("td", { class: "num" }, m.depth),
      h("td", { class: "num" }, m.receptive_field ?? "–"),
      h("td", { class: "num", title: m.top5_source || "" }, percent(m.top5_error)),
      h("td", {}, m.weights ? "ImageNet" : ""))));
    count_.textContent = `${rows.length} of ${models.length} models`;
  }

  const count_ = h("span", { class: "muted", "aria-live": "polite" });
  const search = h("input", {
    type: "search", placeholder: "name, family or paper", "aria-label": "filter the models",
    oninput: (e) => { state.text = e.target.value; render(); },
  });
  const family = h("select", { "aria-label": "family", onchange: (e) => { state.family = e.target.value; render(); } },
    h("option", { value: "" }, "every family"), families.map((f) => h("option", { value: f }, f)));
  render();
  page_.show(
    h("h1", {}, "The zoo"),
    h("p", { class: "muted" }, "Parameters, MACs (multiply-accumulates per image at the paper's input), depth (weight layers on the longest path) and receptive field as cnnzoo counts them; the top-5 error is the paper's own."),
    h("div", { class: "toolbar" }, search, family, count_),
    h("table", { class: "zoo" }, h("thead", {}, h("tr", {}, heads)), tbody),
    h("h2", {}, "Accuracy against cost"),
    costChart(models.filter((m) => m.top5_error !== null)),
  );
}

function costChart(models) {
  // ILSVRC top-5 error against MACs (log scale); the area of a point is the parameters.
  const W = 760, H = 420, L = 56, R = 24, T = 16, B = 44;
  const xs = models.map((m) => Math.log10(m.macs));
  const ys = models.map((m) => m.top5_error);
  const x0 = Math.floor(Math.min(...xs)), x1 = Math.ceil(Math.max(...xs));
  const y1 = Math.ceil(Math.max(...ys) / 5) * 5;
  const px = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const py = (v) => T + (1 - v / y1) * (H - T - B);
  const maxParams = Math.max(...models.map((m) => m.params));
  const svg = h("svg:svg", { class: "chart cost", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": "the papers' top-5 error against MACs per image" });
  for (let e = x0; e <= x1; e++) {
    const tick = e >= 9 ? `${10 ** (e - 9)}G` : e >= 6 ? `${10 ** (e - 6)}M` : e >= 3 ? `${10 ** (e - 3)}K` : `${10 ** e}`;
    svg.append(h("svg:line", { class: "grid", x1: px(e), x2: px(e), y1: T, y2: H - B }),
      h("svg:text", { x: px(e), y: H - B + 16, "text-anchor": "middle" }, tick));
  }
  for (let v = 0; v <= y1; v += 5) {
    svg.append(h("svg:line", { class: "grid", x1: L, x2: W - R, y1: py(v), y2: py(v) }),
      h("svg:text", { x: L - 6, y: py(v) + 4, "text-anchor": "end" }, `${v}%`));
  }
  svg.append(
    h("svg:text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle" }, "MACs per image (log scale); the area of a point: parameters"),
    h("svg:text", { x: 14, y: (T + H - B) / 2, transform: `rotate(-90 14 ${(T + H - B) / 2})`, "text-anchor": "middle" }, "top-5 error (paper)"));
  // A label where it overlaps none placed before it (the earliest models first); every point
  // keeps its name in its tooltip.
  const placed = [];
  const free = (box) => placed.every((b) => box.x1 < b.x0 || box.x0 > b.x1 || box.y1 < b.y0 || box.y0 > b.y1);
  models.forEach((m, i) => {
    const r = 3 + 14 * Math.sqrt(m.params / maxParams);
    const x = px(xs[i]) + r + 2, y = py(ys[i]) + 4;
    const box = { x0: x, x1: x + 6.2 * m.name.length, y0: y - 10, y1: y + 2 };
    const label = free(box) ? h("svg:text", { x, y }, m.name) : null;
    if (label) placed.push(box);
    svg.append(h("svg:a", { href: `/models/${encodeURIComponent(m.name)}` },
      h("svg:circle", { cx: px(xs[i]), cy: py(ys[i]), r, fill: "#1f5fbf", "fill-opacity": 0.35, stroke: "#1f5fbf" },
        h("svg:title", {}, `${m.name}: ${m.top5_error}% top-5 error, ${count(m.macs)} MACs, ${count(m.params)} parameters`)),
      label));
  });
  return svg;
}

// --- a model ------------------------------------------------------------------------------

async function modelPage(name, params) {
  const page_ = opened();
  document.title = `${name} · cnnzoo lab`;
  page_.show(h("h1", {}, name), h("p", { class: "loading" }, "Tracing the network…"));
  const input = params.get("input");
  const query = input ? `?input=${encodeURIComponent(input)}` : "";
  let page;
  try {
    page = await api(`/api/models/${encodeURIComponent(name)}${query}`);
  } catch (error) {
    page_.show(h("h1", {}, name), sizeForm(name, input || ""), h("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  const a = page.analysis;
  const t = a.totals;
  const layers = a.layers;
  const panel = h("div", { class: "panel", id: "layer", "aria-live": "polite" },
    h("p", { class: "muted" }, "Choose a block in the diagram or a row of the table to see its arithmetic."));
  const diagram = h("div", { class: "diagram", tabindex: "0", "aria-label": "the network's diagram" });
  diagram.innerHTML = page.svg; // the lab's own SVG, every name in it escaped
  const rows = h("tbody");
  const byName = new Map(layers.map((row, i) => [row.name, i]));

  function select(index) {
    const row = layers[index];
    for (const g of diagram.querySelectorAll("g.part.selected")) g.classList.remove("selected");
    const part = [...diagram.querySelectorAll("g.part")].find((g) => g.dataset.name === row.name);
    if (part) part.classList.add("selected");
    for (const tr of rows.children) tr.classList.toggle("selected", Number(tr.dataset.index) === index);
    panel.replaceChildren(layerDetail(row, layers, a.input_size));
  }

  for (const part of diagram.querySelectorAll("g.part")) {
    const index = byName.get(part.dataset.name);
    if (index === undefined) continue;
    part.setAttribute("tabindex", "0");
    part.setAttribute("role", "button");
    part.setAttribute("aria-label", `${part.dataset.name}: show its arithmetic`);
    part.addEventListener("click", (e) => { e.stopPropagation(); select(index); });
    part.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.stopPropagation(); select(index); }
    });
  }
  const shown = layers.map((row, i) => [row, i]).filter(([row]) => row.depth <= 3);
  rows.replaceChildren(...shown.map(([row, i]) => h("tr", {
    "data-index": i, tabindex: "0",
    onclick: () => select(i),
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(i); } },
  },
    h("td", {}, "  ".repeat(row.depth - 1) + row.name),
    h("td", {}, row.type),
    h("td", {}, row.output_shape.slice(1).join("×")),
    h("td", { class: "num" }, row.params ? row.params.toLocaleString() : ""),
    h("td", { class: "num" }, row.macs ? row.macs.toLocaleString() : ""),
    h("td", { class: "num" }, bytes(row.memory)),
    h("td", { class: "num" }, row.receptive_field ? row.receptive_field.size.join("×") : ""))));

  const paper = page.paper;
  page_.show(
    h("h1", {}, page.name, h("span", { class: "muted" }, ` · ${page.family}`)),
    h("p", {}, `${paper.authors} (${paper.year}). `, h("a", { href: paper.url, rel: "noreferrer" }, paper.title), "."),
    h("p", {}, page.summary),
    page.faithful
      ? h("p", {}, "Built as the paper describes it.")
      : h("div", {}, h("p", {}, "Departs from the paper:"), h("ul", {}, page.deviations.map((d) => h("li", {}, d)))),
    page.assumptions.length ? h("details", {}, h("summary", {}, "What the paper leaves open, and our choices"),
      h("ul", {}, page.assumptions.map((d) => h("li", {}, d)))) : null,
    sizeForm(name, page.input_size.join("x")),
    a.misfits.length ? h("div", { class: "warning", role: "status" },
      h("p", {}, `${a.misfits.length} window(s) do not fit their input; PyTorch floors them silently:`),
      h("ul", {}, a.misfits.map((m) => h("li", {}, m)))) : null,
    h("p", { class: "totals" },
      `${t.params.toLocaleString()} parameters · ${t.macs.toLocaleString()} MACs per image · depth ${t.depth} · `,
      `receptive field ${t.receptive_field ? t.receptive_field.map((f) => f.size).join("×") : "–"}`,
      page.weights.length ? [" · weights: ", page.weights.join(", "), " · ",
        h("a", { href: `/inside?model=${encodeURIComponent(page.name)}&weights=DEFAULT` }, "look inside with them")] : ""),
    h("div", { class: "columns" }, diagram, panel),
    h("h2", {}, "Every layer"),
    h("div", { class: "layers" }, h("table", {},
      h("thead", {}, h("tr", {}, ["layer", "type", "output", "params", "MACs", "memory", "RF"].map((c, i) =>
        h("th", { scope: "col", class: i >= 3 ? "num" : null }, c)))), rows)),
    h("p", { class: "muted" }, a.convention),
  );
}

function sizeForm(name, value) {
  const field = h("input", { id: "input-size", name: "input", value, size: 14, "aria-describedby": "input-help" });
  return h("form", {
    class: "toolbar",
    onsubmit: (e) => {
      e.preventDefault();
      navigate(`/models/${encodeURIComponent(name)}?input=${encodeURIComponent(field.value.trim())}`);
    },
  },
    h("label", { for: "input-size" }, "Input (C×H×W)"), field,
    h("button", { class: "action", type: "submit" }, "Trace"),
    h("span", { id: "input-help", class: "muted" }, "e.g. 3x224x224, or 224 for a square RGB image"));
}

function layerDetail(row, layers, inputSize) {
  // A block's own row, and the arithmetic of every convolution and pooling inside it.
  const inside = layers.filter((r) => r.name === row.name || r.name.startsWith(`${row.name}.`));
  const worked = inside.filter((r) => r.explain.length);
  const field = row.receptive_field;
  return h("div", { class: "layer-detail", "data-name": row.name },
    h("h2", {}, row.name),
    h("dl", {},
      h("dt", {}, "type"), h("dd", {}, row.type),
      h("dt", {}, "input"), h("dd", {}, row.input_shapes.map((s) => s.slice(1).join("×")).join(", ") || "–"),
      h("dt", {}, "output"), h("dd", {}, row.output_shape.slice(1).join("×")),
      h("dt", {}, "parameters"), h("dd", {}, row.params.toLocaleString()),
      h("dt", {}, "MACs"), h("dd", {}, row.macs.toLocaleString()),
      h("dt", {}, "memory"), h("dd", {}, bytes(row.memory) || "0 (in place or a view)"),
      h("dt", {}, "receptive field"), h("dd", {}, field ? `${field.size.join("×")}, every ${field.jump.join("×")} pixels` : "–")),
    row.misfit ? h("p", { class: "warning" }, row.misfit) : null,
    worked.length ? h("h2", {}, "The arithmetic") : null,
    worked.map((r) => h("div", {},
      worked.length > 1 || r.name !== row.name ? h("p", { class: "muted" }, r.name) : null,
      h("pre", { class: "arithmetic" }, r.explain.join("\n")))),
    field && row.output_shape.length >= 4 ? fieldPicture(field, row.output_shape, inputSize) : null);
}

function fieldPicture(field, outputShape, inputSize) {
  // The input, and what the unit at the centre of the output map sees of it.
  const [, height, width] = inputSize;
  const units = [outputShape[2], outputShape[3]];
  const centre = units.map((n) => Math.floor((n - 1) / 2));
  const start = centre.map((c, axis) => c * field.jump[axis] - field.padding[axis]);
  const scale = 240 / Math.max(height, width);
  const pad = 40;
  const W = width * scale + 2 * pad, H = height * scale + 2 * pad;
  const svg = h("svg:svg", { class: "chart field", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-label": "the receptive field of the centre unit over the input" });
  const photo = `/api/demo-image?name=chelsea&height=${height}&width=${width}&channels=${inputSize[0] === 1 ? 1 : 3}`;
  svg.append(
    h("svg:rect", { x: pad, y: pad, width: width * scale, height: height * scale, fill: "#eef2f7", stroke: "#5b6472" }),
    h("svg:image", { href: photo, x: pad, y: pad, width: width * scale, height: height * scale, preserveAspectRatio: "none" }),
    h("svg:rect", { x: pad + start[1] * scale, y: pad + start[0] * scale, width: field.size[1] * scale,
      height: field.size[0] * scale, fill: "#e0008a", "fill-opacity": 0.25, stroke: "#e0008a", "stroke-dasharray": "4 2" }));
  const rowsSeen = `${Math.max(0, start[0])}..${Math.min(height, start[0] + field.size[0]) - 1}`;
  return h("figure", {}, svg, h("figcaption", { class: "muted" },
    `The unit (${centre.join(", ")}) of the ${units.join("×")} map sees ${field.size.join("×")} input pixels of a ${height}×${width} input (here a demo photo), rows ${rowsSeen}; a field beyond the input reaches into the padding.`));
}

// --- runs --------------------------------------------------------------------------------

function statusText(run) {
  return h("span", { class: `status-${run.status}` }, run.status);
}

async function runsPage() {
  const page_ = opened();
  document.title = "Runs · cnnzoo lab";
  const tbody = h("tbody");
  const note = h("p", { class: "muted" });
  async function refresh() {
    const found = await api("/api/runs");
    note.textContent = found.length ? `${found.length} runs, the latest first` : "No runs yet: `cnnzoo train lenet5` makes one.";
    tbody.replaceChildren(...found.map((run) => h("tr", { "data-run": run.id },
      h("td", {}, h("a", { href: `/runs/${runUrl(run.id)}` }, run.id)),
      h("td", {}, run.model ?? "?"), h("td", {}, run.data ?? "?"), h("td", {}, run.recipe ?? ""),
      h("td", {}, statusText(run)),
      h("td", { class: "num" }, `${run.epochs_done} / ${run.epochs ?? "?"}`),
      h("td", { class: "num" }, percent(run.test_top1)),
      h("td", {}, run.problem ? h("span", { class: "error" }, run.problem) : ""))));
  }
  await refresh();
  page_.show(h("h1", {}, "Runs"), await newRunForm(), note, h("table", { class: "runs" },
    h("thead", {}, h("tr", {}, ["run", "model", "data", "recipe", "status", "epochs", "test top-1", ""].map((c) => h("th", { scope: "col" }, c)))),
    tbody));
  page_.every(3000, refresh);
}

async function newRunForm() {
  // `cnnzoo train` underneath: the form offers what the lab accepts, and nothing else.
  const choices = await api("/api/choices");
  const message = h("p", { role: "status", class: "error" });
  const field = (id, label, control) => h("label", { for: id }, label, " ", control);
  const model = h("select", { id: "new-model", name: "model" }, choices.models.map((m) => h("option", { value: m, selected: m === "lenet5" }, m)));
  const recipe = h("select", { id: "new-recipe", name: "recipe" }, h("option", { value: "" }, "the model's own"),
    choices.recipes.map((r) => h("option", { value: r.name, title: r.source }, r.name)));
  const data = h("select", { id: "new-data", name: "data" }, choices.data.map((d) => h("option", { value: d }, d)));
  const epochs = h("input", { id: "new-epochs", name: "epochs", type: "number", min: 1, max: choices.max_epochs, placeholder: "recipe's", size: 6 });
  const subset = h("input", { id: "new-subset", name: "train_subset", type: "number", min: 0, placeholder: "all", size: 8 });
  const tests = h("input", { id: "new-test-subset", name: "test_subset", type: "number", min: 0, placeholder: "all", size: 8 });
  const threads = h("input", { id: "new-threads", name: "threads", type: "number", min: 0, placeholder: "all", size: 4 });
  const form = h("form", {
    class: "toolbar new-run", "aria-label": "start a run",
    onsubmit: async (e) => {
      e.preventDefault();
      message.textContent = "";
      const body = { model: model.value, data: data.value };
      if (recipe.value) body.recipe = recipe.value;
      if (epochs.value) body.epochs = Number(epochs.value);
      if (subset.value) body.train_subset = Number(subset.value);
      if (tests.value) body.test_subset = Number(tests.value);
      if (threads.value) body.threads = Number(threads.value);
      try {
        const started = await post("/api/runs", body);
        navigate(`/runs/${runUrl(started.id)}`);
      } catch (error) {
        message.textContent = error.message;
      }
    },
  },
    field("new-model", "model", model), field("new-recipe", "recipe", recipe), field("new-data", "data", data),
    field("new-epochs", "epochs", epochs), field("new-subset", "training images", subset),
    field("new-test-subset", "test images", tests), field("new-threads", "CPU threads", threads),
    h("button", { class: "action", type: "submit" }, "Train"));
  return h("section", {}, h("h2", {}, "A new run"), form, message);
}

function lineChart(title, series, yLabel) {
  // Curves over epochs: [{label, colour, points: [[epoch, value], ...]}].
  const W = 560, H = 280, L = 52, R = 16, T = 24, B = 36;
  const all = series.flatMap((s) => s.points);
  const svg = h("svg:svg", { class: "chart curve", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  svg.append(h("svg:text", { x: L, y: 14 }, title));
  if (!all.length) {
    svg.append(h("svg:text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no epoch finished yet"));
    return svg;
  }
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  let yMin = Math.min(...all.map((p) => p[1])), yMax = Math.max(...all.map((p) => p[1]));
  if (yMax === yMin) { yMax += 1; yMin -= 1; }
  const px = (v) => L + (v / xMax) * (W - L - R);
  const py = (v) => T + (1 - (v - yMin) / (yMax - yMin)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    svg.append(h("svg:line", { class: "grid", x1: L, x2: W - R, y1: py(v), y2: py(v) }),
      h("svg:text", { x: L - 6, y: py(v) + 4, "text-anchor": "end" }, v.toFixed(2)));
  }
  svg.append(h("svg:text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle" }, `epoch (of ${xMax})`),
    h("svg:text", { x: 12, y: (T + H - B) / 2, transform: `rotate(-90 12 ${(T + H - B) / 2})`, "text-anchor": "middle" }, yLabel));
  series.forEach((s, i) => {
    if (!s.points.length) return;
    svg.append(h("svg:polyline", { class: "series", "data-series": s.label, fill: "none", stroke: s.colour, "stroke-width": 2,
      points: s.points.map(([x, y]) => `${px(x)},${py(y)}`).join(" ") }));
    for (const [x, y] of s.points) svg.append(h("svg:circle", { cx: px(x), cy: py(y), r: 2.5, fill: s.colour }));
    svg.append(h("svg:text", { x: W - R - 120, y: T + 14 * (i + 1), fill: s.colour }, s.label));
  });
  return svg;
}

async function runPage(id) {
  const page_ = opened();
  document.title = `${id} · cnnzoo lab`;
  const path = `/api/runs/${runUrl(id)}`;
  const body = h("div");
  const log = h("pre", { class: "log", "aria-label": "what the run prints" });
  const message = h("p", { role: "status", class: "error" });
  let drawnFor = null;
  async function act(what, payload) {
    message.textContent = "";
    try {
      await post(`/api/${what}?run=${encodeURIComponent(id)}`, payload);
      drawnFor = null;
      await refresh();
    } catch (error) {
      message.textContent = error.message;
    }
  }
  async function refresh() {
    const run = await api(path);
    if (run.job) log.textContent = (await api(`/api/log?run=${encodeURIComponent(id)}`)).text;
    const key = `${run.epochs_done} ${run.status} ${run.job ? run.job.running : ""} ${run.evaluation ? run.evaluation.top1 : ""}`;
    if (key === drawnFor) return run;
    drawnFor = key;
    const m = run.metrics;
    const series = (field, label, colour) => ({ label, colour, points: m.filter((r) => r[field] !== undefined).map((r) => [r.epoch, r[field]]) });
    const busy = run.job && run.job.running;
    const training = busy && run.job.kind === "train";
    const extend = h("input", { type: "number", min: 1, max: 1000, value: run.epochs ?? "", size: 5, "aria-label": "epochs in all" });
    const controls = h("div", { class: "toolbar" },
      training ? h("button", { class: "action", type: "button", id: "stop", onclick: () => act("stop", {}) }, "Stop (keeps the checkpoint)") : null,
      !busy && ["stopped", "finished"].includes(run.status) ? [
        h("label", {}, "epochs in all ", extend),
        h("button", { class: "action", type: "button", id: "resume", onclick: () => act("resume", extend.value ? { epochs: Number(extend.value) } : {}) },
          run.status === "finished" ? "Train on" : "Resume"),
        h("button", { class: "action", type: "button", id: "evaluate", onclick: () => act("evaluate", {}) },
          "Evaluate (per class, confusion matrix)"),
      ] : null);
    const evaluation = run.evaluation;
    body.replaceChildren(
      run.status === "starting" || run.status === "failed"
        ? h("p", {}, statusText(run), run.status === "starting" ? " · the process is starting: loading PyTorch and the data" : " · the process ended before its first epoch; its log says why")
        : h("p", {}, statusText(run), ` · ${run.model} on ${run.data}, recipe ${run.recipe} · epoch ${run.epochs_done} of ${run.epochs}`,
          run.test_top1 !== null ? ` · test top-1 ${percent(run.test_top1)} (best ${percent(run.best_top1)})` : ""),
      controls, message,
      ["stopped", "finished"].includes(run.status) ? h("p", {}, h("a", { href: `/inside?run=${encodeURIComponent(run.id)}` }, "Look inside its network: activation maps, filters, Grad-CAM")) : null,
      run.job ? h("details", { open: training }, h("summary", {}, "Progress (what the run prints)"), log) : null,
      run.problem ? h("p", { class: "error" }, run.problem) : null,
      h("div", { class: "curves" },
        lineChart("loss", [series("train_loss", "train", "#1f5fbf"), series("test_loss", "test", "#e0008a")], "cross-entropy"),
        lineChart("top-1 accuracy", [series("train_top1", "train", "#1f5fbf"), series("test_top1", "test", "#e0008a")], "percent")),
      run.summary && run.status === "finished" ? h("p", {}, `Finished: ${run.summary.epochs} epochs, test top-1 ${percent(run.summary.test_top1)}, top-5 ${percent(run.summary.test_top5)} on ${run.summary.test_images} images, ${run.summary.train_time_s.toFixed(1)} s of training.`) : null,
      evaluation ? h("section", { class: "evaluation" }, h("h2", {}, "Evaluation"),
        h("p", {}, `${evaluation.count} test images: top-1 ${percent(evaluation.top1)}, top-5 ${percent(evaluation.top5)}, loss ${Number(evaluation.loss).toFixed(4)}`),
        h("table", { class: "per-class" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "class"), h("th", { scope: "col", class: "num" }, "accuracy"))),
          h("tbody", {}, Object.entries(evaluation.per_class || {}).map(([name, value]) =>
            h("tr", {}, h("td", {}, name), h("td", { class: "num" }, percent(value))))))) : null,
      run.files.length ? h("div", { class: "pictures" }, h("h2", {}, "Pictures"),
        run.files.map((f) => h("figure", {}, h("img", { src: `/api/file?run=${encodeURIComponent(id)}&name=${encodeURIComponent(f)}`, alt: f }), h("figcaption", {}, f)))) : null,
      h("h2", {}, "Config"),
      h("table", { class: "config" }, h("tbody", {}, Object.entries(run.config || {}).map(([k, v]) =>
        h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v)))))));
    return run;
  }
  let run;
  try {
    run = await refresh();
  } catch (error) {
    page_.show(h("h1", {}, "Something is wrong"), h("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  page_.show(h("h1", {}, id), body);
  page_.every(1500, refresh);
}

// --- experiments --------------------------------------------------------------------------

async function experimentsPage() {
  const page_ = opened();
  document.title = "Experiments · cnnzoo lab";
  const { found, known } = await api("/api/experiments");
  page_.show(
    h("h1", {}, "Experiments"),
    h("p", { class: "muted" }, "The papers' claims, each tested by training the arms they compare."),
    found.length
      ? h("table", { class: "experiments" },
        h("thead", {}, h("tr", {}, ["experiment", "claim", "setup", "claims held"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, found.map((e) => h("tr", { "data-experiment": e.id },
          h("td", {}, h("a", { href: `/experiments/${runUrl(e.id)}` }, e.id)),
          e.problem ? h("td", { colspan: 3, class: "error" }, e.problem) : [
            h("td", {}, e.title), h("td", {}, e.setup), h("td", { class: "num" }, `${e.held} of ${e.claims}`)]))))
      : h("p", {}, "No experiment has run under this folder yet."),
    h("h2", {}, "What can be run"),
    h("table", { class: "known" }, h("tbody", {}, known.map((e) => h("tr", {},
      h("td", {}, e.name), h("td", {}, e.title), h("td", { class: "muted" }, `${e.paper}, ${e.source}`),
      h("td", {}, h("code", {}, e.command)))))));
}

async function experimentPage(id) {
  const page_ = opened();
  document.title = `${id} · cnnzoo lab`;
  const path = `/api/experiments/${runUrl(id)}`;
  const e = await api(path);
  const verdictClass = (v) => (v.startsWith("held") ? "held" : v.startsWith("did not") ? "not-held" : "muted");
  page_.show(
    h("h1", {}, e.title),
    h("p", {}, e.question),
    h("p", { class: "muted" }, `${e.paper} — ${e.source}. ${e.setup}; recipe ${e.recipe}.`),
    e.note ? h("p", { class: "muted" }, e.note) : null,
    h("h2", {}, "The claims"),
    h("table", { class: "claims" },
      h("thead", {}, h("tr", {}, ["claim", "the paper", "measured", "verdict"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, e.claims.map((c) => h("tr", {},
        h("td", {}, c.text), h("td", {}, c.paper), h("td", {}, c.measured),
        h("td", { class: verdictClass(c.verdict) }, c.verdict))))),
    e.failed_runs.length ? h("p", { class: "warning" }, `Runs that did not learn: ${e.failed_runs.join("; ")}`) : null,
    h("h2", {}, "The arms"),
    h("table", { class: "arms" },
      h("thead", {}, h("tr", {}, ["arm", "network", "params", "MACs", "runs"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, e.arms.map((arm) => h("tr", {},
        h("td", {}, arm.label), h("td", {}, h("code", {}, arm.model)),
        h("td", { class: "num" }, count(arm.params)), h("td", { class: "num" }, count(arm.macs)),
        h("td", {}, arm.runs.map((r) => r.id
          ? h("a", { href: `/runs/${runUrl(r.id)}`, class: "run-link" }, `seed ${r.seed} `)
          : h("span", { class: "muted" }, `seed ${r.seed} (outside this folder) `))))))),
    e.pictures.length ? h("div", { class: "pictures" }, h("h2", {}, "Plots"),
      e.pictures.map((f) => h("figure", {}, h("img", { src: `/api/experiment-file?experiment=${encodeURIComponent(id)}&name=${encodeURIComponent(f)}`, alt: f }), h("figcaption", {}, f)))) : null);
}

// --- inside a layer -----------------------------------------------------------------------

async function insidePage(params) {
  // CNN Explainer's view for any zoo model: the image, the scores, a layer's maps and filters,
  // and where the evidence for a class lies (Grad-CAM).
  const page_ = opened();
  const source = new URLSearchParams();
  for (const key of ["run", "model", "weights"]) if (params.get(key)) source.set(key, params.get(key));
  const subject = await api(`/api/inside/subject?${source}`);
  document.title = `Inside ${subject.title} · cnnzoo lab`;
  const state = { image: subject.test_images ? "test:0" : `demo:${subject.demos[0].name}`, layer: subject.layers[0], target: "" };
  const demo = h("select", { id: "demo-choice" }, h("option", { value: "" }, "a demo photo…"),
    subject.demos.map((d) => h("option", { value: d.name }, d.description)));
  demo.addEventListener("change", () => { if (demo.value) { state.image = `demo:${demo.value}`; draw(); } });
  const out = h("div", { class: "inside", "aria-live": "polite" });
  const message = h("p", { role: "status", class: "error" });
  const index = h("input", { id: "test-index", type: "number", min: 0, max: Math.max(0, subject.test_images - 1), value: 0, size: 6 });
  const file = h("input", { id: "upload", type: "file", accept: "image/*" });
  const layer = h("select", { id: "layer-choice" }, subject.layers.map((l) => h("option", { value: l }, l)));
  const target = h("select", { id: "cam-class" }, h("option", { value: "" }, "the most likely"),
    subject.classes.map((c, i) => h("option", { value: i }, c)));

  async function draw() {
    message.textContent = "";
    const query = new URLSearchParams(source);
    query.set("image", state.image);
    query.set("layer", state.layer);
    if (state.target !== "") query.set("target", state.target);
    let seen;
    try {
      seen = await api(`/api/inside?${query}`);
    } catch (error) {
      message.textContent = error.message;
      return;
    }
    const best = seen.scores[0].probability;
    out.replaceChildren(
      h("figure", {}, h("img", { class: "pixels input", src: seen.input, alt: seen.caption }),
        h("figcaption", {}, `${seen.caption}, ${seen.input_size.join("×")} as the network reads it`)),
      h("figure", { class: "scores" }, h("ol", {}, seen.scores.map((s) => h("li", {},
        h("span", { class: "bar", style: `width: ${Math.max(2, (120 * s.probability) / best)}px` }),
        ` ${s.class} ${(100 * s.probability).toFixed(1)}%`))), h("figcaption", {}, "class scores (softmax)")),
      h("figure", {}, h("img", { class: "pixels maps", src: seen.maps, alt: `activation maps of ${seen.layer}` }),
        h("figcaption", {}, `${seen.layer}: ${seen.maps_shown} of ${seen.maps_shape[0]} maps, ${seen.maps_shape.slice(1).join("×")}, on one scale (${seen.maps_range.map((v) => v.toFixed(2)).join(" to ")})`)),
      seen.filters ? h("figure", {}, h("img", { class: "pixels filters", src: seen.filters, alt: `filters of ${seen.layer}` }),
        h("figcaption", {}, `its filters, ${seen.filters_shape.slice(1).join("×")} each (each stretched to its own range)`)) : null,
      h("figure", {}, h("img", { class: "pixels cam", src: seen.cam, alt: `Grad-CAM of ${seen.cam_class.class}` }),
        h("figcaption", {}, `Grad-CAM at ${seen.cam_layer}: where the evidence for ${seen.cam_class.class} lies`)));
  }

  const showTest = h("button", { class: "action", type: "button", id: "show-test",
    onclick: () => { state.image = `test:${index.value || 0}`; draw(); } }, "Show");
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    message.textContent = "";
    try {
      const picture = file.files[0];
      const response = await fetch("/api/images", { method: "POST", body: picture,
        headers: { "content-type": picture.type || "application/octet-stream", accept: "application/json" } });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error);
      state.image = `upload:${answer.id}`;
      await draw();
    } catch (error) {
      message.textContent = error.message;
    }
  });
  layer.addEventListener("change", () => { state.layer = layer.value; draw(); });
  target.addEventListener("change", () => { state.target = target.value; draw(); });
  page_.show(
    h("h1", {}, "Inside ", subject.title),
    h("div", { class: "toolbar" },
      subject.test_images ? [h("label", { for: "test-index" }, `test image (0 to ${subject.test_images - 1})`), index, showTest] : null,
      h("label", { for: "demo-choice" }, "or"), demo,
      h("label", { for: "upload" }, "or upload one"), file,
      h("label", { for: "layer-choice" }, "layer"), layer,
      h("label", { for: "cam-class" }, "Grad-CAM of"), target),
    message, out);
  await draw();
}

// --- the router --------------------------------------------------------------------------

function navigate(url) {
  history.pushState(null, "", url);
  route();
}

async function route() {
  clearInterval(timer);
  const mine = ++generation;
  let parts;
  try {
    parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch (error) {
    failed(new Error(`${location.pathname}: not a page address (${error.message})`));
    return;
  }
  const page = parts[0] || "zoo";
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page === page || (page === "models" && a.dataset.page === "zoo")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    if (page === "zoo") await zooPage();
    else if (page === "models" && parts[1]) await modelPage(parts[1], new URLSearchParams(location.search));
    else if (page === "runs" && parts.length > 1) await runPage(parts.slice(1).join("/"));
    else if (page === "runs") await runsPage();
    else if (page === "inside") await insidePage(new URLSearchParams(location.search));
    else if (page === "experiments" && parts.length > 1) await experimentPage(parts.slice(1).join("/"));
    else if (page === "experiments") await experimentsPage();
    else throw new Error(`${location.pathname}: no such page`);
  } catch (error) {
    if (mine === generation) failed(error);
  }
  if (mine === generation) document.getElementById("main").focus({ preventScroll: true });
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const href = a.getAttribute("href") || (a.href && a.href.baseVal);
  if (!href || !href.startsWith("/") || href.startsWith("/api/")) return;
  e.preventDefault();
  navigate(href);
});
window.addEventListener("popstate", route);
route();
