"""studio/server.py's middleware, as ASGI: the page that opens on Train or Step starts loading plotly.js, the live
charts' module and Streamlit's chunks early; plotly.js is served gzipped once per process."""

from __future__ import annotations

import gzip
import json
import re

from devtools.server import run_async
from studio import early
from studio.plotly_js import CHART_JS_ROUTE, PLOTLY_JS, PLOTLY_JS_ROUTE
from studio.server import EarlyAssets, plotly_js

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

    run_async(EarlyAssets(app)({"type": "http", "method": "GET", "path": path}, receive, send))
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_train_and_step_opened_first_load_plotly_and_the_charts_module_first():
    for path in ("/", "/step"):
        headers, body = serve(path)
        head = f'<head><script src="{PLOTLY_JS_ROUTE}" async fetchpriority="high"></script>' \
               f'<link rel="modulepreload" href="{CHART_JS_ROUTE}">'
        assert body.startswith(b"<html>" + head.encode()) and body.count(b"<head>") == 1, body[:300]
        assert body.endswith(b"<title>x</title></head><body></body></html>")
        assert int(headers[b"content-length"]) == len(body)


def test_the_train_pages_streamlit_chunks_are_read_from_streamlits_build():
    chunks = early.streamlit_chunks()
    names = {re.sub(r"\.[\w-]+\.js$", "", c.rsplit("/", 1)[1]) for c in chunks}
    assert set(early.CHUNKS) <= names  # each element's chunk, with what it imports
    index = (early.STATIC / "index.html").read_text()
    for c in chunks:
        assert (early.STATIC / c).is_file() and c not in index  # index.html loads none of them itself
    preload = re.search(r"for \(const href of (\[.*?\])\)", early.head_tags().decode())
    assert json.loads(preload.group(1)) == chunks


def test_an_unreadable_build_preloads_no_chunks(tmp_path):
    assert early.streamlit_chunks(static=tmp_path) == []
    (tmp_path / "index.html").write_text('<script type="module" src="./static/js/index.abc.js"></script>')
    assert early.streamlit_chunks(static=tmp_path) == []


def test_plotly_js_is_served_gzipped_where_the_browser_takes_it():
    class Request:
        def __init__(self, accept: str) -> None:
            self.headers = {"accept-encoding": accept}

    zipped = run_async(plotly_js(Request("gzip, deflate, br")))
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"] == "accept-encoding"
    assert gzip.decompress(zipped.body) == PLOTLY_JS.read_bytes()
    plain = run_async(plotly_js(Request("identity")))
    assert "content-encoding" not in plain.headers and plain.path == PLOTLY_JS


def test_other_pages_other_content_and_compressed_bodies_pass_untouched():
    assert serve("/data")[1] == PAGE
    assert serve("/", body=b"{}", content_type=b"application/json")[1] == b"{}"
    assert serve("/", encoding=b"gzip")[1] == PAGE
