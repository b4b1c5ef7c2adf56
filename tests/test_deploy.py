"""docs/deployment.md's nginx block, run for real in front of the app: headers once, websockets through, no framing.

scripts/test.sh installs Debian's nginx next to Chromium. The server block is taken from the document itself,
so the document cannot drift from what is tested; only its ports are changed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtools.server import IDLE, ROOT, assert_cannot_be_framed, free_port, streamlit_server, wait_healthy

pytestmark = [pytest.mark.e2e, pytest.mark.perf]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REPLICAS: list[str] = []  # the two app servers behind the proxy


def documented_server_block() -> str:
    doc = (ROOT / "docs" / "deployment.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", doc, flags=re.S)
    assert len(blocks) == 1, "docs/deployment.md should hold one nginx block (upstream and server)"
    return blocks[0]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    if not Path(NGINX).exists():
        pytest.fail("nginx not found: run scripts/test.sh, which installs Debian's nginx.")
    work = tmp_path_factory.mktemp("nginx")
    (work / "logs").mkdir()
    with (open(ROOT / "test-artifacts" / "deploy-server.log", "w") as log, streamlit_server(log) as app_url,
          streamlit_server(log) as replica_url):  # the documented upstream has two replicas
        app_port, replica_port, proxy_port = app_url.rsplit(":", 1)[1], replica_url.rsplit(":", 1)[1], free_port()
        server = documented_server_block().replace("127.0.0.1:8501", f"127.0.0.1:{app_port}")
        server = server.replace("127.0.0.1:8502", f"127.0.0.1:{replica_port}")
        server = server.replace("listen 8080;", f"listen 127.0.0.1:{proxy_port};")
        (work / "nginx.conf").write_text(
            "worker_processes 1;\nerror_log logs/error.log;\npid nginx.pid;\nevents { worker_connections 256; }\n"
            "http {\n access_log logs/access.log;\n client_body_temp_path tmp; proxy_temp_path tmp;\n"
            f"{server}\n}}\n")
        (work / "tmp").mkdir()
        proc = subprocess.Popen([NGINX, "-p", str(work), "-c", "nginx.conf", "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{proxy_port}"
        try:
            if not wait_healthy(url, 30, proc):  # nginx answers, and through it the app
                pytest.fail(f"nginx did not proxy the app: {(work / 'logs' / 'error.log').read_text()}")
            REPLICAS[:] = [app_url, replica_url]
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_the_proxy_sends_each_security_header_once(proxied):
    with urllib.request.urlopen(proxied, timeout=10) as response:
        headers = response.headers
    for name, value in [("X-Frame-Options", "SAMEORIGIN"), ("X-Content-Type-Options", "nosniff"),
                        ("Referrer-Policy", "no-referrer")]:
        assert headers.get_all(name) == [value], name
    [csp] = headers.get_all("Content-Security-Policy")
    assert "frame-ancestors 'self'" in csp and "img-src 'self' data: blob:" in csp


def test_the_app_works_through_the_proxy_and_cannot_be_framed(proxied, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(proxied)
    page.wait_for_selector(IDLE)  # the websocket went through nginx
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    page.close()
    assert_cannot_be_framed(browser, proxied, tmp_path)


def test_with_one_replica_down_the_proxy_serves_from_the_other(proxied, browser):
    """Runs last: it stops the first replica. nginx sends the next request to the one still up."""
    from devtools.soak import _server_process

    assert len(REPLICAS) == 2
    for url in REPLICAS:
        assert wait_healthy(url, 10), url  # both replicas answer on their own
    down = _server_process(REPLICAS[0])
    down.kill()  # as a crash would
    down.wait(10)
    assert not wait_healthy(REPLICAS[0], 1)
    assert wait_healthy(proxied, 30)  # through nginx: the other replica answers
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(proxied)
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed\W* after 100 epochs"))).to_be_visible()
    page.close()
