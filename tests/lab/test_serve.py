"""``cnnzoo lab`` as a user starts it: the URL it prints, the token off the loopback, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cnnzoo.cli import main


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_off_the_loopback_the_printed_url_carries_the_token_and_ctrl_c_stops(
    tmp_path: Path,
) -> None:
    command = [sys.executable, "-m", "cnnzoo", "lab", "--host", "0.0.0.0", "--port", "0"]
    command += ["--runs", str(tmp_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    lab = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert lab.stdout is not None
        line = lab.stdout.readline()
        found = re.search(r"http://(\S+):(\d+)/\?token=([\w-]{32})", line)
        assert found, line
        assert found[1] == socket.gethostname()
        base = f"http://127.0.0.1:{found[2]}"
        assert _status(f"{base}/api/runs") == 403
        assert _status(f"{base}/api/runs?token=not-{found[3]}") == 403
        assert _status(f"{base}/api/runs?token={found[3]}") == 200
        lab.send_signal(signal.SIGINT)
        out, err = lab.communicate(timeout=30)
    finally:
        lab.kill()
    assert lab.returncode == 0, err
    assert out.strip() == "cnnzoo lab: stopped" and "Traceback" not in err


def test_a_port_in_use_is_one_clear_error(capfd: pytest.CaptureFixture[str]) -> None:
    """Through ``cnnzoo lab``, which runs the lab as a process of its own."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        assert main(["lab", "--port", str(port)]) == 2
    finally:
        taken.close()
    err = capfd.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "give another --port" in err
    assert main(["lab", "--host", "no-such-host.invalid"]) == 2
    assert "--host no-such-host.invalid: not an address of this machine" in capfd.readouterr().err
    assert main(["lab", "--port", "-5"]) == 2
    assert "'-5': a port is 0 (any free one) to 65535" in capfd.readouterr().err
    assert main(["lab", "--help"]) == 0
    assert capfd.readouterr().out.startswith("usage: cnnzoo lab [-h] [--runs RUNS]")
