"""The load loop behind benchmarks/bench_load.py: N sessions on one server press Train at the same moment; each
session's time from its Train click to its final chart is measured, and the server's health endpoint is polled
meanwhile (from another process, as a load balancer would).

Why not N Chromium tabs: on this 2-core machine one headless Chromium tab watching the tutorial uses ~60% of the
machine (Streamlit's frontend re-rendering the page on every redraw, Plotly painting in software) against ~6% for
the server; 32 tabs would measure the browser. So each session here is a :class:`Tab` that speaks the browser's
own protocol to the server — the websocket ``/_stcore/stream``, the ``BackMsg``/``ForwardMsg`` protobufs, the widget
ids the server sends — and does what the page's JavaScript does: it answers the live-chart ticker
(studio/live_chart.redraw_after) the way the ticker component does, so the server does exactly the work a
watched run costs, and only the painting (done by each student's own computer) is left out. tests/test_load.py
checks that such a session and a Chromium tab running the same run end on the same status line.

Two runs: the tutorial as a learner gets it (the default data and settings, Watch pace: 100 epochs paced over
~3.7 s), and a heavy one — each session generates 200,000 rows on the Data page (its exact fit included) and
trains 2,000 epochs, standardized, as fast as possible.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DONE = re.compile(r"\b(Completed|Converged)\W* after [\d,]+ epochs")
BUSY = re.compile(r"(Queued: [^.]*\.|Running alongside [^:]*: the charts redraw every [\d.]+ s)")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear between the nearest ranks; nan for no values."""
    return float(np.percentile(values, q)) if values else float("nan")


class Tab:
    """One browser tab's conversation with the server, without the browser."""

    def __init__(self, url: str, source: str | None = None) -> None:
        self.url = url
        self.source = source  # a loopback address to connect from (127.0.0.2, …): another client to the server
        self.ws: Any = None
        self.pages: dict[str, str] = {}  # page name → script hash
        self.page = ""  # the page hash the tab is on
        self.ids: dict[str, str] = {}  # widget key → the widget id the server gave it
        self.fragment: dict[str, str] = {}  # widget key → the fragment it is drawn in ("" for the page)
        self.values: dict[str, Any] = {}  # widget id → WidgetState the tab keeps sending (as the browser does)
        self.texts: list[tuple[float, str]] = []  # (arrival, text) of alerts, markdown and captions
        self.finished = asyncio.Event()  # set on each script_finished
        self.busy: str | None = None  # the first busy notice seen after Train
        self.clicked: float | None = None
        self.done: float | None = None
        self._tick_sent = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._reader: asyncio.Task | None = None
        self.error: Exception | None = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await connect(ws_url, subprotocols=["streamlit"], origin=self.url, max_size=None,
                                ping_interval=None, open_timeout=120,
                                **({"local_addr": (self.source, 0)} if self.source else {}))
        self._reader = asyncio.create_task(self._read())
        await self.rerun()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def rerun(self, page: str | None = None, fragment: str = "", trigger: str | None = None,
                    json_trigger: tuple[str, str] | None = None, wait: bool = True) -> None:
        """Send one rerun request as the browser would (every widget's value, at most one trigger); wait for the
        script (or fragment) run to finish unless ``wait`` is False."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if page is not None:
            if page not in self.pages:
                raise RuntimeError(f"no page {page!r} among {sorted(self.pages)} ({self.error!r})")
            self.page = self.pages[page]
            self.ids.clear()
            self.fragment.clear()
            self.values.clear()
        msg = BackMsg()
        cs = msg.rerun_script
        cs.page_script_hash = self.page
        cs.fragment_id = fragment
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        cs.context_info.url = self.url + "/"
        for state in self.values.values():
            cs.widget_states.widgets.append(state)
        if trigger is not None:
            w = cs.widget_states.widgets.add()
            w.id, w.trigger_value = self.ids[trigger], True
        if json_trigger is not None:
            w = cs.widget_states.widgets.add()
            w.id, w.json_trigger_value = json_trigger
        self.finished.clear()
        await self.ws.send(msg.SerializeToString())
        if wait:
            await self.finished.wait()

    def set(self, key: str, **value: Any) -> None:
        """Give widget ``key`` a value for the next rerun, e.g. ``set("_w_cfg_epochs", int_value=2000)``."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=self.ids[key])
        for name, v in value.items():
            if name == "string_array_value":
                state.string_array_value.data.extend(v)
            else:
                setattr(state, name, v)
        self.values[state.id] = state

    async def click(self, key: str) -> None:
        await self.rerun(fragment=self.fragment.get(key, ""), trigger=key)

    def watch(self) -> None:
        self.clicked, self.done, self.busy = time.monotonic(), None, None

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                kind = msg.WhichOneof("type")
                if kind == "delta":
                    self._delta(msg.delta)
                elif kind == "script_finished":
                    self.finished.set()
                elif kind in ("new_session", "navigation"):
                    for p in getattr(msg, kind).app_pages:
                        self.pages[p.page_name] = p.page_script_hash
        except Exception as exc:  # the connection closed under the reader (or a message it could not read)
            self.error = exc
            self.finished.set()

    def _delta(self, delta: Any) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        body = getattr(el, kind)
        wid = getattr(body, "id", "")
        if wid.startswith("$$ID-"):
            key = wid.split("-", 2)[2]
            self.ids[key], self.fragment[key] = wid, delta.fragment_id
            if kind == "bidi_component" and key.endswith("_ticker"):
                self._tick(wid, delta.fragment_id, json.loads(body.json))
        if kind in ("alert", "markdown"):
            now, text = time.monotonic(), body.body
            self.texts.append((now, text))
            if self.clicked is not None:
                if self.busy is None and (m := BUSY.search(text)):
                    self.busy = m.group(1)
                if self.done is None and DONE.search(text):
                    self.done = now

    def _tick(self, wid: str, fragment: str, data: dict[str, Any]) -> None:
        """What the ticker component does when it is drawn: tick ``every_ms`` after the previous tick (never
        sooner than 30 ms), or stop."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not data.get("active"):
            return
        since = time.monotonic() - self._tick_sent
        wait = max(0.03, data["every_ms"] / 1000 - since)
        event = json.dumps([{"event": "tick", "value": data["seq"]}], separators=(",", ":"))

        def fire() -> None:
            self._tick_sent = time.monotonic()
            trigger = (f"$$STREAMLIT_INTERNAL_KEY_{wid}__events", event)
            asyncio.ensure_future(self.rerun(fragment=fragment, json_trigger=trigger, wait=False))

        self._timer = asyncio.get_running_loop().call_later(wait, fire)


# --- health, CPU --------------------------------------------------------------------------------------------


# The probe runs in its own interpreter (not multiprocessing: under pytest, after AppTest, __main__ is the app
# script, and a spawned child would run it). It polls until its stdin closes, then prints what it measured.
_PROBE = """
import json, sys, threading, time, urllib.request
url, every = sys.argv[1], float(sys.argv[2])
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
seconds, failures = [], 0
while not done.is_set():
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
            ok = r.read().decode().strip() == "ok"
    except OSError:
        ok = False
    if ok:
        seconds.append(time.perf_counter() - t)
    else:
        failures += 1
    done.wait(every)
print(json.dumps([seconds, failures]))
"""


class HealthProbe:
    """Polls /_stcore/health every ``every`` seconds from its own process (so this process's own work does not
    delay the answers it times), as a load balancer's health check would."""

    def __init__(self, url: str, every: float = 0.25) -> None:
        self.url, self.every = url, every
        self.seconds: list[float] = []
        self.failures = 0

    def __enter__(self) -> HealthProbe:
        self._proc = subprocess.Popen([sys.executable, "-c", _PROBE, self.url, str(self.every)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._proc.communicate(input="", timeout=60)  # closing its stdin ends the polling
        self.seconds, self.failures = json.loads(out)


class CpuMeter:
    """Share of the machine's CPU used by the server processes, and by this process, between enter and exit."""

    def __init__(self, servers: list[Any]) -> None:
        import psutil

        self.servers, self.me = servers, psutil.Process()

    @staticmethod
    def _cpu(p: Any) -> float:
        t = p.cpu_times()
        return t.user + t.system

    def __enter__(self) -> CpuMeter:
        self.t0, self.s0, self.m0 = time.monotonic(), sum(map(self._cpu, self.servers)), self._cpu(self.me)
        return self

    def __exit__(self, *exc: object) -> None:
        wall = max(time.monotonic() - self.t0, 1e-9) * (os.cpu_count() or 1)
        self.server_share = (sum(map(self._cpu, self.servers)) - self.s0) / wall
        self.client_share = (self._cpu(self.me) - self.m0) / wall


# --- one level ------------------------------------------------------------------------------------------


@dataclass
class Level:
    scenario: str
    sessions: int
    click_to_final: list[float]  # seconds, one per session
    health: list[float]  # seconds per /_stcore/health answer while the runs trained
    health_failures: int
    told_busy: int  # sessions that were told the server was busy
    example_notice: str | None
    server_cpu: float  # share of the machine's CPU the server used while the runs trained (0–1)
    client_cpu: float  # the same for the simulated tabs
    setup_seconds: float  # connecting (and generating the data, in the heavy run)

    def row(self) -> dict[str, Any]:
        c, h = self.click_to_final, self.health
        return {"scenario": self.scenario, "sessions": self.sessions,
                "p50_s": round(percentile(c, 50), 2), "p95_s": round(percentile(c, 95), 2), "max_s": round(max(c), 2),
                "health_p50_ms": round(1000 * percentile(h, 50), 1), "health_p95_ms": round(1000 * percentile(h, 95), 1),
                "health_max_ms": round(1000 * max(h), 1) if h else float("nan"), "health_failures": self.health_failures,
                "told_busy": self.told_busy, "server_cpu": round(self.server_cpu, 2), "client_cpu": round(self.client_cpu, 2)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"summary": self.row()}


async def _heavy_setup(tab: Tab, rows: int, epochs: int) -> None:
    await tab.rerun(page="Data")
    tab.set("_w_gen_n", int_value=rows)
    await tab.rerun()
    await tab.click("btn_generate")
    await tab.rerun(page="Train")
    tab.set("_w_ui_pace", string_array_value=["As fast as possible"])
    tab.set("_w_cfg_epochs", int_value=epochs)
    tab.set("_w_cfg_standardize", bool_value=True)
    await tab.rerun()


async def _level(urls: list[str], servers: list[Any], scenario: str, sessions: int, rows: int, epochs: int,
                 timeout: float) -> Level:
    t = time.monotonic()
    tabs = [Tab(urls[i % len(urls)]) for i in range(sessions)]  # replicas: sessions spread evenly, as by ip_hash
    await asyncio.gather(*(tab.open() for tab in tabs))
    try:
        if scenario == "heavy":
            await asyncio.gather(*(_heavy_setup(tab, rows, epochs) for tab in tabs))
        setup = time.monotonic() - t
        with HealthProbe(urls[0]) as probe, CpuMeter(servers) as cpu:
            for tab in tabs:  # the clicks go out back to back, as a class pressing Train together
                tab.watch()
                await tab.rerun(fragment=tab.fragment["btn_train"], trigger="btn_train", wait=False)
            end = time.monotonic() + timeout
            while any(tab.done is None for tab in tabs):
                if time.monotonic() > end:
                    raise TimeoutError(f"{sum(tab.done is None for tab in tabs)} of {sessions} runs did not finish "
                                       f"within {timeout:.0f} s")
                await asyncio.sleep(0.05)
        notices = [tab.busy for tab in tabs if tab.busy]
        return Level(scenario, sessions, [tab.done - tab.clicked for tab in tabs], probe.seconds, probe.failures,
                     len(notices), notices[0] if notices else None, cpu.server_share, cpu.client_share, round(setup, 1))
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)


def measure(url: str | list[str], scenario: str, sessions: int, rows: int = 200_000, epochs: int = 2000,
            timeout: float = 900.0) -> Level:
    """One level: ``sessions`` tabs set up for ``scenario`` ("tutorial" or "heavy"), Train pressed on all. Several
    ``url``s: replicas, each given an equal share of the sessions (the health check polls the first)."""
    from .soak import _server_process

    urls = [url] if isinstance(url, str) else list(url)
    return asyncio.run(_level(urls, [_server_process(u) for u in urls], scenario, sessions, rows, epochs, timeout))


def run_levels(url: str | list[str], scenarios: list[str], levels: list[int], rows: int, epochs: int,
               log: Callable[[str], None] = lambda line: None) -> list[Level]:
    out = []
    for scenario in scenarios:
        for n in levels:
            level = measure(url, scenario, n, rows, epochs)
            out.append(level)
            r = level.row()
            log(f"{scenario:8} {n:3} sessions: Train→final chart p50 {r['p50_s']:.2f} s, p95 {r['p95_s']:.2f} s, "
                f"max {r['max_s']:.2f} s; health p50 {r['health_p50_ms']:.0f} ms, p95 {r['health_p95_ms']:.0f} ms, "
                f"max {r['health_max_ms']:.0f} ms ({r['health_failures']} failed); told busy {r['told_busy']}/{n}"
                f"{' (' + level.example_notice + ')' if level.example_notice else ''}; CPU server "
                f"{r['server_cpu']:.0%}, tabs {r['client_cpu']:.0%}; setup {level.setup_seconds:.0f} s")
    return out
