"""The lab: the zoo, its runs and its experiments in a local web application
(``cnnzoo lab``), served from the package itself with no build step."""

from __future__ import annotations

from cnnzoo.lab.app import create_app
from cnnzoo.lab.server import serve

__all__ = ["create_app", "serve"]
