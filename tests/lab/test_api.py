"""The lab's API through the framework's test client: every endpoint, and every refusal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cnnzoo.lab import create_app
from cnnzoo.lab.guard import TOKEN_COOKIE
from cnnzoo.listing import LISTING
from cnnzoo.models import model_info
from tests.helpers import needs_data

LOCAL = "http://127.0.0.1:8765"


def _client(root: Path, token: str | None = None, base_url: str = LOCAL) -> TestClient:
    return TestClient(create_app(root, token), base_url=base_url, raise_server_exceptions=False)


def test_the_zoo_lists_every_model_with_the_figures_it_sorts_by(tmp_path: Path) -> None:
    models = _client(tmp_path).get("/api/models").json()
    assert [m["name"] for m in models] == list(LISTING)
    by_name = {m["name"]: m for m in models}
    resnet34 = by_name["resnet34"]
    assert resnet34["params"] == 21_797_672  # torchvision's count of the same network
    assert resnet34["macs"] == LISTING["resnet34"].macs and resnet34["depth"] == 34
    assert resnet34["top5_error"] == model_info("resnet34").top5_error.value  # type: ignore[union-attr]
    assert resnet34["weights"] and not by_name["resnet50"]["weights"]
    assert by_name["alexnet"]["receptive_field"] == 195 and by_name["alexnet"]["year"] == 2012


def test_a_model_page_has_its_diagram_and_each_layers_arithmetic(tmp_path: Path) -> None:
    client = _client(tmp_path)
    page = client.get("/api/models/alexnet").json()
    assert page["input_size"] == [3, 227, 227] and page["paper"]["year"] == 2012
    layers = {row["name"]: row for row in page["analysis"]["layers"]}
    conv1 = layers["features.conv1"]
    assert conv1["output_shape"] == [1, 96, 55, 55]
    assert "output  (227 - 11 + 2·0)/4 + 1 = 55" in conv1["explain"]
    assert conv1["params"] == 11 * 11 * 3 * 96 + 96
    assert conv1["receptive_field"]["size"] == [11, 11]
    # every block the diagram draws is a row the page can show
    drawn = set(_names_drawn(page["svg"]))
    assert "features.conv1" in drawn and drawn <= set(layers)
    assert page["analysis"]["misfits"] == []

    at_224 = client.get("/api/models/alexnet", params={"input": "3x224x224"}).json()
    assert at_224["input_size"] == [3, 224, 224]
    assert any("(224 - 11 + 2·0)/4 + 1" in m for m in at_224["analysis"]["misfits"])


def _names_drawn(svg: str) -> list[str]:
    import re

    return re.findall(r"<g class='part[^']*' data-name='([^']*)'", svg)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/models/resnet99", 404, "unknown model 'resnet99'. Did you mean: resnet56"),
        ("/api/models/resnet18?input=3x7", 400, "input '3x7' is not a size"),
        ("/api/models/lenet5?input=1x64x64", 400, "lenet5 takes exactly 32x32 images"),
        ("/api/models/alexnet?input=3x8x8", 400, "8x8"),
        ("/api/nothing", 404, "/api/nothing: no such endpoint"),
        ("/elsewhere", 404, "/elsewhere: no such page"),
        ("/static/secret.py", 404, "no such file"),
    ],
)
def test_bad_requests_get_json_errors_with_their_status(
    tmp_path: Path, path: str, status: int, message: str
) -> None:
    answer = _client(tmp_path).get(path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert message in answer.json()["error"]


def test_every_page_url_serves_the_front_end(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for path in ("/", "/zoo", "/models/resnet34", "/runs", "/runs/a/b"):
        answer = client.get(path)
        assert answer.status_code == 200 and "/static/app.js" in answer.text, path
    assert "function route()" in client.get("/static/app.js").text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


@needs_data
def test_runs_are_listed_with_their_curves_and_pictures(runs_root: Path) -> None:
    client = _client(runs_root)
    (listed,) = client.get("/api/runs").json()
    assert listed["id"] == "lenet" and listed["status"] == "finished"
    assert (listed["model"], listed["epochs"], listed["epochs_done"]) == ("lenet5_modern", 2, 2)
    run = client.get("/api/runs/lenet").json()
    written = [json.loads(line) for line in (runs_root / "lenet" / "metrics.jsonl").open()]
    assert run["metrics"] == written
    assert run["test_top1"] == written[-1]["test_top1"] == run["summary"]["test_top1"]
    assert run["config"]["train_subset"] == 128 and run["files"] == ["confusion.png"]
    picture = client.get("/api/file", params={"run": "lenet", "name": "confusion.png"})
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")


@needs_data
def test_nothing_outside_the_runs_root_is_read(runs_root: Path, tmp_path: Path) -> None:
    """``..``, absolute paths, links out of the root, and files that are not a run's
    pictures are refused; none of it is a traceback."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"\x89PNG secret")
    (outside / "config.json").write_text("{}")
    (outside / "metrics.jsonl").write_text("")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(runs_root / "lenet", root / "lenet")  # a run, but one outside this root
    os.symlink(outside, root / "away")
    client = _client(runs_root)
    (runs_root / "lenet" / "leak.png").symlink_to(outside / "secret.png")
    try:
        for path, status in [
            ("/api/runs/..%2F..%2Fetc", 403),
            ("/api/file?run=lenet&name=..%2Fsecret.png", 403),
            ("/api/runs/%2Fetc%2Fpasswd", 403),
            ("/api/file?run=lenet&name=config.json", 404),
            ("/api/file?run=lenet&name=leak.png", 403),  # a link out of the run
            ("/api/runs/nothing-here", 404),
        ]:
            answer = client.get(path)
            assert answer.status_code == status, (path, answer.text)
            assert "error" in answer.json()
        assert "leak.png" not in client.get("/api/runs/lenet").json()["files"]
        # a root whose runs are links out of it: neither listed nor read
        other = _client(root)
        assert other.get("/api/runs").json() == []
        answer = other.get("/api/runs/away")
        assert answer.status_code == 403 and "leads outside the runs root" in answer.json()["error"]
    finally:
        (runs_root / "lenet" / "leak.png").unlink()


def test_the_loopback_lab_answers_only_requests_to_the_loopback(tmp_path: Path) -> None:
    """A page of another site reaching 127.0.0.1 through DNS rebinding names its own host."""
    assert _client(tmp_path, base_url="http://localhost:8765").get("/api/models").status_code == 200
    assert _client(tmp_path, base_url="http://[::1]:8765").get("/api/runs").status_code == 200
    refused = _client(tmp_path, base_url="http://attacker.example:8765").get("/api/runs")
    assert refused.status_code == 403
    assert refused.json() == {"error": "the lab answers requests to localhost only"}


def test_a_lab_on_another_address_requires_its_token(tmp_path: Path) -> None:
    client = _client(tmp_path, token="s3cret-token", base_url="http://10.1.2.3:8765")
    for asked in ({}, {"token": "wrong"}):
        answer = client.get("/api/runs", params=asked)
        assert answer.status_code == 403 and "access token" in answer.json()["error"]
    assert client.get("/zoo").status_code == 403  # pages too, not only the API
    opened = client.get("/zoo", params={"token": "s3cret-token"})
    assert opened.status_code == 200
    assert f"{TOKEN_COOKIE}=s3cret-token" in opened.headers["set-cookie"]
    assert "HttpOnly" in opened.headers["set-cookie"]
    assert client.get("/api/runs").status_code == 200  # the page's calls carry the cookie
    bare = _client(tmp_path, token="s3cret-token", base_url="http://10.1.2.3:8765")
    assert bare.get("/api/runs", headers={"authorization": "token s3cret-token"}).status_code == 200


@needs_data
def test_a_damaged_run_is_listed_with_what_is_wrong_and_hides_no_other(
    runs_root: Path, tmp_path: Path
) -> None:
    import shutil

    root = tmp_path / "runs"
    shutil.copytree(runs_root / "lenet", root / "good")
    shutil.copytree(runs_root / "lenet", root / "bad")
    with (root / "bad" / "metrics.jsonl").open("a") as f:
        f.write("{not json\n")
    listed = {run["id"]: run for run in _client(root).get("/api/runs").json()}
    assert listed["good"]["problem"] is None and listed["good"]["epochs_done"] == 2
    assert "line 3: not JSON" in listed["bad"]["problem"]


@needs_data
def test_a_run_a_live_process_writes_is_running(runs_root: Path, tmp_path: Path) -> None:
    import shutil
    import socket

    root = tmp_path / "runs"
    shutil.copytree(runs_root / "lenet", root / "live")
    (root / "live" / "summary.json").unlink()
    lock = root / "live" / ".lock"
    lock.write_text(f"{os.getpid()} {socket.gethostname()}\n")
    client = _client(root)
    assert client.get("/api/runs/live").json()["status"] == "running"
    lock.write_text(f"999999999 {socket.gethostname()}\n")  # a killed run's lock
    assert client.get("/api/runs/live").json()["status"] == "stopped"
    lock.write_text("")  # released
    assert client.get("/api/runs/live").json()["status"] == "stopped"


@needs_data
def test_a_runs_own_files_are_read_only_when_they_are_its_own(
    runs_root: Path, tmp_path: Path
) -> None:
    """A run folder inside the root whose files are links (to a secret, to a device that
    never ends) or a pipe: listed with what is wrong, nothing read through them."""
    import shutil

    secret = tmp_path / "secret.json"
    secret.write_text('{"api_key": "TOPSECRET"}')
    root = tmp_path / "runs"
    for name in ("linked", "endless", "piped"):
        shutil.copytree(runs_root / "lenet", root / name)
    for name in ("config.json", "summary.json"):
        (root / "linked" / name).unlink()
        (root / "linked" / name).symlink_to(secret)
    (root / "endless" / "metrics.jsonl").unlink()
    (root / "endless" / "metrics.jsonl").symlink_to("/dev/zero")
    (root / "piped" / ".lock").unlink(missing_ok=True)
    os.mkfifo(root / "piped" / ".lock")  # a lock nobody writes to: never blocks the listing
    client = _client(root)
    listed = {run["id"]: run for run in client.get("/api/runs").json()}
    assert "not a regular file" in listed["linked"]["problem"]
    assert "not a regular file" in listed["endless"]["problem"]
    assert listed["piped"]["status"] == "finished"
    detail = client.get("/api/runs/linked")
    assert detail.status_code == 200 and "TOPSECRET" not in detail.text
    assert client.get("/api/runs/endless").json()["metrics"] == []


def test_every_answer_carries_headers_that_keep_other_sites_out(tmp_path: Path) -> None:
    client = _client(tmp_path)
    page = client.get("/zoo")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"  # a token never leaves in a Referer
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    # another site's page may link to the lab, but not call its API (an <img> of a heavy GET)
    assert client.get("/zoo", headers={"sec-fetch-site": "cross-site"}).status_code == 200
    for site in ("cross-site", "same-site"):
        called = client.get("/api/models", headers={"sec-fetch-site": site})
        assert called.status_code == 403 and "own pages only" in called.json()["error"]
    assert client.get("/api/models", headers={"sec-fetch-site": "same-origin"}).status_code == 200
    refused = client.get("/api/runs", headers={"host": "attacker.example"})
    assert refused.status_code == 403 and refused.headers["x-frame-options"] == "DENY"


@needs_data
def test_a_runs_svg_is_served_in_a_sandbox(runs_root: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "runs"
    shutil.copytree(runs_root / "lenet", root / "r")
    (root / "r" / "evil.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    )
    answer = _client(root).get("/api/file", params={"run": "r", "name": "evil.svg"})
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"].startswith("sandbox; default-src 'none'")


@needs_data
def test_a_run_may_be_named_like_an_action_and_empty_names_are_not_found(
    runs_root: Path, tmp_path: Path
) -> None:
    import shutil

    root = tmp_path / "runs"
    for name in ("grp/log", "grp/files", "grp/stop"):
        shutil.copytree(runs_root / "lenet", root / name)
    client = _client(root)
    for name in ("grp/log", "grp/files", "grp/stop"):
        assert client.get(f"/api/runs/{name}").json()["id"] == name
    for path in ("/api/runs/a//b", "/api/experiments/"):
        assert client.get(path).status_code == 404, path
