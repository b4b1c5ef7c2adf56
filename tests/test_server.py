"""studio/server.py's middleware, as ASGI: the page that opens on Train or Step starts loading plotly.js early."""

from __future__ import annotations

from devtools.server import run_async
from studio.plotly_js import PLOTLY_JS_ROUTE
from studio.server import EarlyPlotly

PAGE = b"<html><head><title>x</title></head><body></body></html>"


def serve(path: str, body: bytes = PAGE, content_type: bytes = b"text/html; charset=utf-8",
          encoding: bytes | None = None) -> tuple[dict, bytes]:
    async def app(scope, receive, send):
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if encoding:
            headers.append((b"content-encoding", encoding))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body[:10], "more_body": True})
        await send({"type": "http.response.body", "body": body[10:]})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    run_async(EarlyPlotly(app)({"type": "http", "method": "GET", "path": path}, receive, send))
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_train_and_step_opened_first_load_plotly_with_the_page():
    for path in ("/", "/step"):
        headers, body = serve(path)
        assert body.count(f'<script src="{PLOTLY_JS_ROUTE}" async></script></head>'.encode()) == 1
        assert int(headers[b"content-length"]) == len(body)


def test_other_pages_other_content_and_compressed_bodies_pass_untouched():
    assert serve("/data")[1] == PAGE
    assert serve("/", body=b"{}", content_type=b"application/json")[1] == b"{}"
    assert serve("/", encoding=b"gzip")[1] == PAGE
