"""Serving the console's files: a fixed table of names, read once from the package.

A request names a file of :data:`ASSETS` or gets 404: no path from a request ever reaches the
file system, so there is nothing to traverse. Every answer carries a Content-Security-Policy
that lets the page run only its own script and style and talk only to its own origin, and
``nosniff`` so a browser takes each file for the type it is served as.
"""

from __future__ import annotations

from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

__all__ = ["ASSETS", "PREFIX", "console_routes", "with_console"]

PREFIX = "/console"
"""Where the console is served."""

ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
"""The files served, by name, with their content types."""

_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # The files change with the gateway's version: revalidate rather than run a stale script.
    "cache-control": "no-cache",
}


def _read() -> dict[str, bytes]:
    folder = resources.files("gateway.console").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in ASSETS}


def console_routes() -> list[BaseRoute]:
    """The console's routes: ``/console`` (redirected to ``/console/``), ``/console/`` (the
    page) and ``/console/<file>`` for the files of :data:`ASSETS`."""
    contents = _read()

    def serve(name: str) -> Response:
        return Response(contents[name], media_type=ASSETS[name], headers=_HEADERS)

    async def page(request: Request) -> Response:
        return serve("index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return PlainTextResponse("not found", status_code=404, headers=_HEADERS)
        return serve(name)

    async def to_page(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    return [
        Route(PREFIX, to_page, methods=["GET", "HEAD"]),
        Route(f"{PREFIX}/", page, methods=["GET", "HEAD"]),
        # ``{name}`` matches one path segment: "a/b" and "../x" never reach ``asset``.
        Route(PREFIX + "/{name}", asset, methods=["GET", "HEAD"]),
        # Anything deeper under the prefix is no file of the console (and no RPC either).
        Route(PREFIX + "/{rest:path}", _not_found, methods=["GET", "HEAD", "POST"]),
    ]


async def _not_found(request: Request) -> Response:
    return PlainTextResponse("not found", status_code=404, headers=_HEADERS)


def with_console(api: ASGIApp) -> Starlette:
    """``api`` with the console in front of it: the console's routes first, then everything
    else to ``api`` unchanged."""
    return Starlette(routes=[*console_routes(), Mount("", app=api)])
