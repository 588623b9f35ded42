"""How fast the lab answers: each model's page (diagram and anatomy) on its first visit
against its 1 s budget, beside the anatomy trace it is built on; a layer's activation maps
for one image against 0.5 s; and how long other pages take while a run trains, beside the
same requests idle. Run:

    python benchmarks/lab_speed.py [PATTERN] [--no-training]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path

from _common import machine_line
from cnnzoo import create_model, list_models, model_info
from cnnzoo.anatomy import GeometryWarning, analyze

PAGE_BUDGET_S = 1.0
MAPS_BUDGET_S = 0.5


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def model_pages(pattern: str) -> None:
    from fastapi.testclient import TestClient

    from cnnzoo.lab import create_app, zoo

    client = TestClient(create_app(tempfile.mkdtemp()), base_url="http://127.0.0.1:8765")
    client.get("/api/models/lenet5")  # first-use imports, paid once per process
    zoo.warm()  # what the lab does as it starts: every network built once
    print(f"{'model page':<20} {'trace':>8} {'page':>8} {'page/trace':>11} {'budget':>8}")
    over = []
    for name in list_models(pattern):
        meta = create_model(name, device="meta")
        trace = timed(lambda meta=meta, name=name: analyze(meta, model_info(name).input_size))
        zoo._page.cache_clear()  # a first visit: the page traced and drawn
        page = timed(lambda name=name: client.get(f"/api/models/{name}").raise_for_status())
        over += [name] * (page > PAGE_BUDGET_S)
        verdict = "over" if page > PAGE_BUDGET_S else "ok"
        print(f"{name:<20} {trace:>7.3f}s {page:>7.3f}s {page / trace:>10.1f}x {verdict:>8}")
    print(f"over the {PAGE_BUDGET_S:g} s budget: {', '.join(over) or 'none'}")


def activation_maps() -> None:
    """LeNet-5's first layer and Grad-CAM for one uploaded image, as the page asks for them."""
    import io

    from PIL import Image

    from cnnzoo.data.inputs import InputSpec
    from cnnzoo.lab.inside import Subject, Uploads, look
    from cnnzoo.train import TrainConfig
    from cnnzoo.train.inference import Trained

    model = create_model("lenet5_modern", num_classes=10, in_chans=1).eval()
    spec = InputSpec((32, 32), 1, "pad", (0.29,), (0.35,), (28, 28), 1)
    subject = Subject("lenet5_modern", Trained(model, tuple("0123456789"), spec, TrainConfig(), 0))
    uploads = Uploads()
    photo = io.BytesIO()
    Image.new("L", (28, 28), 128).save(photo, format="PNG")
    key = uploads.store(photo.getvalue())["id"]
    look(subject, f"upload:{key}", uploads, None, None)  # first use
    seconds = min(
        timed(lambda: look(subject, f"upload:{key}", uploads, None, None)) for _ in range(5)
    )
    verdict = "over" if seconds > MAPS_BUDGET_S else "ok"
    print(
        f"activation maps, filters and Grad-CAM of lenet5_modern: {seconds:.3f}s ({verdict}, "
        f"budget {MAPS_BUDGET_S:g} s)"
    )


def while_training() -> None:
    """The zoo and runs pages' latency over a real server, idle and while a run trains."""
    import uvicorn

    from cnnzoo.lab import create_app
    from cnnzoo.lab.jobs import NewRun
    from cnnzoo.lab.server import bind

    root = Path(tempfile.mkdtemp())
    app = create_app(root)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def latencies(seconds: float) -> list[float]:
        times, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            for path in ("/api/models", "/api/runs", "/zoo"):
                times.append(timed(lambda path=path: urllib.request.urlopen(base + path).read()))
        return times

    idle = latencies(3)
    job = app.state.jobs.start(NewRun("lenet5", epochs=3, train_subset=4096))
    time.sleep(3)  # past PyTorch's import: training
    busy = latencies(6)
    trained = job.running
    app.state.jobs.stop_all()
    server.should_exit = True
    for label, times in (("idle", idle), ("while a run trains", busy)):
        print(
            f"pages {label:<19} median {1000 * statistics.median(times):7.1f} ms, "
            f"slowest {1000 * max(times):7.1f} ms ({len(times)} requests)"
        )
    ratio = statistics.median(busy) / statistics.median(idle)
    print(
        f"median while training / idle: {ratio:.1f}x"
        + ("" if trained else " (the run ended before the measurement did: give it more images)")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pattern", nargs="?", default="*", help="models, e.g. 'resnet*'")
    parser.add_argument(
        "--no-training", action="store_true", help="skip the pages-while-training part"
    )
    args = parser.parse_args(argv)
    if not list_models(args.pattern):
        parser.error(f"no model matches {args.pattern!r}")
    warnings.simplefilter("ignore", GeometryWarning)
    print(machine_line())
    model_pages(args.pattern)
    activation_maps()
    if not args.no_training:
        while_training()


if __name__ == "__main__":
    main()
