"""``cnnzoo lab``: the application served by uvicorn on a socket bound first, so a port in use
is one clear error, and the URL printed is one that answers."""

from __future__ import annotations

import socket
import threading
import webbrowser
from pathlib import Path

from cnnzoo.errors import ConfigError
from cnnzoo.lab.app import create_app
from cnnzoo.lab.guard import is_loopback, new_token

__all__ = ["bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ConfigError(f"--host {host}: not an address of this machine ({error})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({error.strerror}): give another --port, or 0 "
            "for any free one"
        ) from None
    sock.listen(128)
    return sock


def serve(
    runs: str | Path = "runs",
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
) -> None:
    """Serve the lab until Ctrl-C. On the loopback anyone on this machine may ask it; bound to
    another address it requires a random token, which the printed URL carries."""
    import uvicorn

    token = None if is_loopback(host) else new_token()
    sock = bind(host, port)
    # Every address of the machine: the URL names the machine, which others can reach.
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    if token:
        url += f"?token={token}"
    app = create_app(runs, token)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    print(f"cnnzoo lab: {url}  (runs under {Path(runs).expanduser()}; Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops, then passes the Ctrl-C on: the way to stop it
        pass
    finally:
        sock.close()
    print("cnnzoo lab: stopped", flush=True)
