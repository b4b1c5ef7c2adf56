"""What ``streamlit run app.py`` serves besides the script: security headers and the charts' plotly.js.

``app.py`` defines Streamlit's ASGI entry point (``st.App``) with :func:`routes` and :func:`middleware`, so the
Streamlit way of starting an app is the whole studio. The middleware adds the headers ``.streamlit/config.toml``
cannot set:

- no framing by other sites (clickjacking): ``X-Frame-Options`` and CSP ``frame-ancestors 'self'`` — 'self',
  not 'none', because the app frames its own components;
- no images, media or fetches from other hosts, so even a string that slipped past escaping could not make
  a reader's browser call out (``img-src``, ``media-src``, ``connect-src``), no plugins, no foreign forms;
- no referrer: share links carry settings and data in the URL.

A second middleware drops Streamlit's ``clear_cache`` message, which any browser can send and which clears
every session's resources (their training jobs with them): see :class:`NoGlobalCacheClear`.

Extra routes: the plotly.js that ships with the plotly package and the live charts' own code (studio/live_chart.py),
and a run's numbers while it trains, which the live charts draw from (studio/stream.py).

Imported before Streamlit's runtime starts (no session here): keep it light.

Behind a reverse proxy, set the same headers there too (docs/deployment.md).
"""

from __future__ import annotations

import functools
import gzip
import os
import traceback

import streamlit
from starlette.middleware import Middleware
from starlette.responses import FileResponse, Response
from starlette.routing import Route
from streamlit.logger import get_logger

from . import early, stream
from .plotly_js import CHART_JS, CHART_JS_ROUTE, PLOTLY_JS, PLOTLY_JS_ROUTE

log = get_logger(__name__)

CSP = "; ".join([
    "frame-ancestors 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])
HEADERS = [
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class _Middleware:
    """A pure ASGI middleware that acts on the connections ``wants`` picks (``handle``) and passes the rest through."""

    def __init__(self, app) -> None:
        self.app = app

    def wants(self, scope) -> bool:
        raise NotImplementedError

    async def handle(self, scope, receive, send) -> None:
        raise NotImplementedError

    async def __call__(self, scope, receive, send) -> None:
        if self.wants(scope):
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class SecurityHeaders(_Middleware):
    """Adds HEADERS to every HTTP response (websocket traffic passes untouched)."""

    def wants(self, scope) -> bool:
        return scope["type"] == "http"

    async def handle(self, scope, receive, send) -> None:
        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class EarlyAssets(_Middleware):
    """The page that opens on Train or Step asks for plotly.js, the live charts' module and the Streamlit chunks its
    first run needs from the top of index.html's head (studio/early.py), not when the first run's elements arrive.
    Other pages (and every page after the first: navigation does not load index.html again) are left alone."""

    PATHS = ("/", "/step")

    TAG = b"<head>" + early.head_tags()

    def wants(self, scope) -> bool:
        return scope["type"] == "http" and scope.get("method") == "GET" and scope.get("path") in self.PATHS

    async def handle(self, scope, receive, send) -> None:
        start: dict | None = None
        body = b""

        async def send_with_script(message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                html = headers.get(b"content-type", b"").startswith(b"text/html")
                if not html or headers.get(b"content-encoding", b"identity") != b"identity":
                    start = None
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            body += message.get("body", b"")
            if message.get("more_body"):
                return
            body = body.replace(b"<head>", self.TAG, 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_with_script)


class NoGlobalCacheClear(_Middleware):
    """Drops the ``clear_cache`` message that any browser may send on its websocket.

    Streamlit answers it by clearing every cache of the process (its docstring: "it will be cleared for all
    users"), session-scoped resources included, and the studio's training jobs live in those: one client
    could end every other session's run. A session's runs end only by its own actions or its tab closing."""

    def wants(self, scope) -> bool:
        return scope["type"] == "websocket"

    async def handle(self, scope, receive, send) -> None:
        async def receive_without_clear_cache():
            while True:
                message = await receive()
                data = message.get("bytes") if message["type"] == "websocket.receive" else None
                if not data or not _is_clear_cache(data):
                    return message

        await self.app(scope, receive_without_clear_cache, send)


def _is_clear_cache(data: bytes) -> bool:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    try:
        msg.ParseFromString(data)
    except Exception:  # not ours to judge: Streamlit refuses what it cannot parse
        return False
    return msg.WhichOneof("type") == "clear_cache"


# Crafted requests that Streamlit itself fails on while it reads them, before any line of the page runs.
REFUSED_REQUEST = ("The browser sent a value this page cannot use (a file name or a setting no page offers), so "
                   "nothing was changed. Reload the page to go on.")
_STREAMLIT_DIR = os.path.dirname(os.path.abspath(streamlit.__file__)) + os.sep
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OURS = tuple(os.path.join(_ROOT, p) for p in ("app.py", "app_pages" + os.sep, "studio" + os.sep, "linreg_core" + os.sep))


def on_script_error(exc: Exception) -> bool:
    """One sentence instead of an error box for an exception raised inside Streamlit alone — no frame of the studio's
    code in its traceback: a crafted client's widget value outside its options, a file name with a NUL byte.
    Errors in the studio's own code keep Streamlit's display (the type; details in the server log)."""
    files = [os.path.abspath(f.filename) for f in traceback.extract_tb(exc.__traceback__)]
    if not any(f.startswith(_STREAMLIT_DIR) for f in files) or any(f.startswith(_OURS) for f in files):
        return False
    import streamlit as st

    log.warning("refused a request Streamlit could not read: %s: %s", type(exc).__name__, exc)
    st.error(REFUSED_REQUEST)
    return True


@functools.cache
def plotly_js_gzip() -> bytes:
    """plotly.js gzipped once per process (studio/warmup.py does it before a page asks): Streamlit's gzip middleware
    would compress its 1.5 MB again for every first visitor, in the server's event loop."""
    return gzip.compress(PLOTLY_JS.read_bytes(), 6, mtime=0)


async def plotly_js(request) -> Response:
    headers = {"cache-control": "public, max-age=31536000, immutable", "vary": "accept-encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(plotly_js_gzip(), media_type="text/javascript", headers={**headers, "content-encoding": "gzip"})
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=headers)


async def chart_js(request) -> Response:
    return Response(CHART_JS, media_type="text/javascript",
                    headers={"cache-control": "public, max-age=31536000, immutable"})


def routes() -> list[Route]:
    return [Route(PLOTLY_JS_ROUTE, plotly_js), Route(CHART_JS_ROUTE, chart_js), *stream.routes()]


def middleware() -> list[Middleware]:
    return [Middleware(SecurityHeaders), Middleware(EarlyAssets), Middleware(NoGlobalCacheClear)]
