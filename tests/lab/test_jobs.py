"""Runs started, stopped and resumed from the lab: ``cnnzoo train`` underneath, with checked
options only."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cnnzoo.lab import create_app
from tests.helpers import needs_data

LOCAL = "http://127.0.0.1:8765"
QUICK = {"model": "lenet5", "epochs": 2, "train_subset": 256, "test_subset": 200, "threads": 1}


def _wait(check: Callable[[], Any], seconds: float = 300, explain: Callable[[], str] = str) -> Any:
    """``check()``'s first true value: each wait covers a ``cnnzoo train`` process starting
    (importing PyTorch), which takes minutes where other work shares a small machine's cores.
    A wait that runs out says what ``explain()`` finds (the run and its log)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {explain()}")


def _state(client: TestClient, run_id: str) -> str:
    """What the lab says of a run and the end of its log, for a wait that ran out."""
    run = client.get(f"/api/runs/{run_id}").json()
    shown = {key: run.get(key) for key in ("status", "epochs_done", "job", "problem")}
    log = client.get("/api/log", params={"run": run_id}).json().get("text", "")
    return f"{shown}; log ends:\n{log[-3000:]}"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "lenet5; rm -rf ~"}, 400, "not a zoo model"),
        ({"model": "lenet5", "data": "../../etc"}, 400, "data '../../etc': expected one of"),
        ({"model": "lenet5", "recipe": "mine"}, 400, "recipe 'mine': expected one of"),
        ({"model": "lenet5", "epochs": 0}, 422, "body.epochs: Input should be greater than"),
        ({"model": "lenet5", "out": "/tmp"}, 422, "body.out: Extra inputs are not permitted"),
        ({"model": "lenet5", "train_subset": -1}, 422, "body.train_subset"),
    ],
)
def test_a_new_run_takes_checked_choices_only(
    tmp_path: Path, body: dict[str, Any], status: int, message: str
) -> None:
    client = TestClient(create_app(tmp_path), base_url=LOCAL)
    answer = client.post("/api/runs", json=body)
    assert answer.status_code == status and message in answer.json()["error"]
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_changes_come_from_the_labs_own_pages_only(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path), base_url=LOCAL)
    # another site's form: its browser names the site as the origin
    foreign = client.post("/api/runs", json=QUICK, headers={"origin": "http://attacker.example"})
    assert foreign.status_code == 403 and "its own pages only" in foreign.json()["error"]
    # a form's body is not JSON: refused before anything runs (and would need a preflight)
    plain = client.post(
        "/api/runs", content=b'{"model": "lenet5"}', headers={"content-type": "text/plain"}
    )
    assert plain.status_code == 422
    assert client.post("/api/stop", params={"run": "x"}).status_code == 404
    assert list(tmp_path.iterdir()) == []
    choices = client.get("/api/choices").json()
    assert "lenet5" in choices["models"] and choices["data"][0] == "fashion-mnist"


@needs_data
def test_a_run_started_here_trains_stops_with_its_checkpoint_and_resumes(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path), base_url=LOCAL) as client:
        own = {"origin": LOCAL}  # the lab's own page
        started = client.post("/api/runs", json=QUICK, headers=own)
        assert started.status_code == 201
        run_id = started.json()["id"]
        assert run_id.startswith("lenet5-fashion-mnist-")
        done = _wait(
            lambda: (r := client.get(f"/api/runs/{run_id}").json())["status"] == "finished" and r,
            explain=lambda: _state(client, run_id),
        )
        assert done["epochs_done"] == 2
        assert done["job"] == {"running": False, "exit_code": 0, "kind": "train"}
        assert "epoch 2/2" in client.get("/api/log", params={"run": run_id}).json()["text"]

        long = client.post("/api/runs", json={**QUICK, "epochs": 1000}, headers=own).json()["id"]
        assert long != run_id
        show = partial(_state, client, long)
        _wait(lambda: client.get(f"/api/runs/{long}").json()["epochs_done"] >= 1, explain=show)
        assert (
            client.post("/api/stop", params={"run": long}, headers=own).json()["status"]
            == "stopping"
        )
        stopped = _wait(
            lambda: (r := client.get(f"/api/runs/{long}").json())["job"]["running"] is False and r,
            explain=show,
        )
        assert stopped["status"] == "stopped" and stopped["job"]["exit_code"] == 130
        log = client.get("/api/log", params={"run": long}).json()["text"]
        assert "checkpoint saved" in log
        before = stopped["epochs_done"]
        assert (
            client.post("/api/resume", params={"run": long}, json={}, headers=own).status_code
            == 200
        )
        _wait(lambda: client.get(f"/api/runs/{long}").json()["epochs_done"] > before, explain=show)
        again = client.post("/api/resume", params={"run": long}, json={}, headers=own)
        assert again.status_code == 400 and "training already" in again.json()["error"]
    # leaving the lab stopped the run it trained, which kept its checkpoint
    assert (tmp_path / long / "checkpoint.pt").exists()
    assert not (tmp_path / long / "summary.json").exists()


def test_the_log_folder_is_never_a_way_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / ".lab").symlink_to(tmp_path / "elsewhere")
    client = TestClient(create_app(root), base_url=LOCAL)
    answer = client.post("/api/runs", json=QUICK)
    assert answer.status_code == 403 and "is a link" in answer.json()["error"]
    (root / ".lab").unlink()
    (root / ".lab").write_text("a file, not a folder")
    answer = client.post("/api/runs", json=QUICK)
    assert answer.status_code == 403 and "not a folder" in answer.json()["error"]
    assert list((tmp_path / "elsewhere").iterdir()) == []


@needs_data
def test_a_run_evaluated_from_the_lab_shows_its_figures_per_class(
    runs_root: Path, tmp_path: Path
) -> None:
    import json
    import shutil

    root = tmp_path / "runs"
    shutil.copytree(runs_root / "lenet", root / "r")
    (root / "r" / "confusion.png").unlink()
    with TestClient(create_app(root), base_url=LOCAL) as client:
        assert client.post("/api/evaluate", params={"run": "r"}).json()["status"] == "evaluating"
        again = client.post("/api/evaluate", params={"run": "r"})
        assert again.status_code == 400 and "being evaluated already" in again.json()["error"]
        assert client.post("/api/stop", params={"run": "r"}).status_code == 404  # not training
        done = _wait(
            lambda: (r := client.get("/api/runs/r").json())["job"]["running"] is False and r
        )
    assert done["job"] == {"running": False, "exit_code": 0, "kind": "eval"}
    summary = json.loads((root / "r" / "summary.json").read_text())
    assert done["evaluation"]["count"] == 64  # the run's own test images
    assert done["evaluation"]["top1"] == pytest.approx(summary["test_top1"])
    assert len(done["evaluation"]["per_class"]) == 10 and "confusion.png" in done["files"]
    assert (
        TestClient(create_app(root), base_url=LOCAL)
        .post("/api/evaluate", params={"run": "nothing"})
        .status_code
        == 404
    )
