"""The load loop behind benchmarks/bench_load.py: N sessions on one server press Train at the same moment; each
session's time from its Train click to its final chart is measured, with the bytes it received meanwhile, and the
server's health endpoint is polled (from another process, as a load balancer would).

Why not N Chromium tabs: on this 2-core machine one headless Chromium tab watching the tutorial uses a large share of
the machine (Streamlit's frontend, Plotly and the live charts painting in software), far more than the server
spends on it; 32 tabs would measure the browser. So each session here is a :class:`Tab` that speaks the browser's
own protocol to the server — the websocket ``/_stcore/stream``, the ``BackMsg``/``ForwardMsg`` protobufs, the widget
ids the server sends, the HTTP route a run's numbers stream on — and does what the page's JavaScript does, so the
server does exactly the work a watched run costs and only the painting (done by each student's own computer) is
left out:

- a training run's status component (``linreg_live_chart`` with ``anim.stream``, studio/live_chart.js): the tab
  polls ``GET <stream>?from=<last epoch it has>&shown=<epoch it shows>`` (studio/stream.py) at most every 90 ms,
  as ``Stream.poll`` does, until the run no longer runs; then, once its playback — 320 ms behind the newest numbers,
  as the browser's — has reached the last epoch, it sends the component's ``ended`` trigger, which reruns the
  fragment that draws the final status line and charts (``Stream.finish``). The status line the component paints
  meanwhile is written to :attr:`Tab.texts` too, in the words of the server's own status line;
- a queued run's ticker (studio/live_chart.redraw_after): the tab ticks as the ticker component does.

tests/test_load.py checks that such a session and a Chromium tab running the same run end on the same status line.

Two runs: the tutorial as a learner gets it (the default data and settings, Watch pace: 100 epochs paced over
~4.5 s, studio/pace.py), and a heavy one — each session generates 200,000 rows on the Data page (its exact fit
included) and trains 2,000 epochs, standardized, as fast as possible.
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
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np

DONE = re.compile(r"\b(Completed|Converged)\W* after ([\d,]+) epochs")
BUSY = re.compile(r"(Queued: [^.]*\.|Running alongside [^:]*: the charts redraw every [\d.]+ s)")
DELAY = 0.32  # s the browser's picture runs behind the newest numbers (live_chart.js DELAY)
POLL_GAP = 0.09  # s between two of its requests for news at least (live_chart.js POLL_GAP)
POLL_FAILS = 50  # failed requests in a row after which it gives up (the page's reconnect message says why)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear between the nearest ranks; nan for no values."""
    return float(np.percentile(values, q)) if values else float("nan")


class Http:
    """One keep-alive HTTP/1.1 connection to the server, as a browser's ``fetch`` reuses one; ``received`` counts
    every byte read from it (status line, headers and bodies)."""

    def __init__(self, url: str, source: str | None = None) -> None:
        u = urlsplit(url)
        self.host, self.port, self.netloc, self.source = u.hostname, u.port or 80, u.netloc, source
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.received = 0

    async def get(self, target: str) -> tuple[int, bytes]:
        """(status, body) of ``GET target``; one fresh connection is tried if the kept one has closed."""
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(
                    self.host, self.port, **({"local_addr": (self.source, 0)} if self.source else {}))
            try:
                return await self._exchange(target)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, target: str) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.netloc}\r\nAccept: */*\r\nCache-Control: no-store\r\n"
                          "Connection: keep-alive\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        self.received += len(head)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line = await self.reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                self.received += len(size_line) + len(chunk)
                body += chunk[:-2]
                if size == 0:
                    break
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
            self.received += len(body)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Stream:
    """A run's numbers as the page holds them (live_chart.js ``Stream``): one per stream url, shared by the run's
    status line and charts, kept across reruns."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.e: list[int] = []
        self.t: list[float] = []  # the server's clock (s) when each epoch was let out
        self.b: list[float | None] = []
        self.w: list[list[float]] = []
        self.loss: list[float | None] = []
        self.status, self.epochs_run, self.total, self.rows_done = "running", 0, 0, 0
        self.offset: float | None = None  # local − server clock, the smallest seen (the least delayed answer)
        self.shown = -1  # the epoch on screen, as the page tells the server
        self.ended = False  # the ``ended`` trigger has been sent
        self.resumed = False
        self.trigger: tuple[str, str] | None = None  # (widget id, fragment id) of the status component that asks
        self.spec: dict[str, Any] | None = None  # the status component's data["status"]: how its line is worded
        self.task: asyncio.Task | None = None
        self.requests = 0
        self.painted = ""  # the status line last written to the tab's texts

    @property
    def running(self) -> bool:
        return self.status == "running"

    def merge(self, inc: dict[str, Any], local: float) -> None:
        """An answer of the stream route (or the seed that came with the component), as ``Stream.merge``."""
        if not inc or "e" not in inc:
            return
        off = local - inc["now"]
        if self.offset is None or off < self.offset:
            self.offset = off
        last = self.e[-1] if self.e else -1
        if inc["status"] == "running" and not self.running:  # resumed: the pause is no part of the film
            self.ended, self.resumed = False, True
        if inc["epochs_run"] < last:  # paused and taken back to the epoch the page showed: forget what came after
            k = len(self.e)
            while k > 0 and self.e[k - 1] > inc["epochs_run"]:
                k -= 1
            for a in (self.e, self.t, self.b, self.w, self.loss):
                del a[k:]
            last = self.e[-1] if self.e else -1
        for i, e in enumerate(inc["e"]):
            if e <= last:
                continue
            t = inc["t"][i]
            if self.resumed and self.t:  # close the gap the pause left in the server's clock
                shift = t - self.t[-1] - 0.1
                if shift > 0:
                    self.t = [v + shift for v in self.t]
                self.resumed = False
            self.e.append(e)
            self.t.append(t)
            self.b.append(inc["b"][i] if inc.get("b") else None)
            self.w.append(inc["w"][i])
            self.loss.append(inc["loss"][i])
            last = e
        self.status, self.epochs_run = inc["status"], inc["epochs_run"]
        self.total, self.rows_done = inc.get("total") or self.total, inc.get("rows_done") or 0

    def at(self, local: float) -> int | None:
        """The index of the recorded epoch on screen at local time ``local``: the run played DELAY behind its
        newest numbers while it runs; to its end once it has ended."""
        if not self.e:
            return None
        if not self.running:
            return len(self.e) - 1
        target = local - DELAY - (self.offset or 0.0)
        i = 0
        for k in range(len(self.t) - 1, -1, -1):
            if self.t[k] <= target:
                i = k
                break
        return i

    def end_at(self, learned: float) -> float:
        """Local time at which the page's playback reaches the last epoch, the run's end having been heard at local
        time ``learned``: as live_chart.js's ``at``, the picture ran DELAY behind and plays the rest at 3×."""
        off, last = self.offset or 0.0, self.t[-1] if self.t else 0.0
        return learned + max(0.0, last - (learned - DELAY - off)) / 3

    def line(self, i: int) -> str | None:
        """The status line the component paints for recorded epoch ``i`` (live_chart.js drawStatus), in the words
        of the server's own (app_pages/train.py status_line)."""
        S = self.spec
        if S is None:
            return None
        b, w, loss = self.b[i], self.w[i], self.loss[i]
        exact = ([S["exact_b"]] if S.get("exact_b") is not None else []) + list(S["exact_w"])
        got = ([b] if S.get("exact_b") is not None else []) + list(w)
        gap = max((abs(x - y) for x, y in zip(got, exact) if x is not None and y is not None), default=0.0)
        inside = (f" (epoch {self.epochs_run + 1:,}: {self.rows_done:,} / {S['rows']:,} rows)"
                  if self.rows_done and self.running and i == len(self.e) - 1 else "")
        icpt = f"intercept {b:.4g}, " if b is not None else ""
        params = ", ".join(f"{t} {v:.4g}" for t, v in zip(S["terms"], w))
        lo = "—" if loss is None else f"{loss:.6g}"
        return (f"**Epoch {self.e[i]:,} / {self.total or S['total']:,}**{inside} &nbsp;·&nbsp; loss **{lo}** "
                f"&nbsp;·&nbsp; {icpt}{params} &nbsp;·&nbsp; gap to exact **{gap:.3g}**")


class Tab:
    """One browser tab's conversation with the server, without the browser."""

    def __init__(self, url: str, source: str | None = None) -> None:
        self.url = url
        self.source = source  # a loopback address to connect from (127.0.0.2, …): another client to the server
        self.ws: Any = None
        self.http = Http(url, source)  # the page's fetch()es: the runs' numbers
        self.pages: dict[str, str] = {}  # page name → script hash
        self.page = ""  # the page hash the tab is on
        self.ids: dict[str, str] = {}  # widget key → the widget id the server gave it
        self.fragment: dict[str, str] = {}  # widget key → the fragment it is drawn in ("" for the page)
        self.values: dict[str, Any] = {}  # widget id → WidgetState the tab keeps sending (as the browser does)
        self.texts: list[tuple[float, str]] = []  # (arrival, text) of alerts, markdown, captions, painted status lines
        self.streams: dict[str, Stream] = {}  # stream url → the run's numbers (live_chart.js ``streams``)
        self.finished = asyncio.Event()  # set on each script_finished
        self.busy: str | None = None  # the first busy notice seen after Train
        self.clicked: float | None = None
        self.done: float | None = None
        self.final_epochs: int | None = None  # the epochs the final chart's "Completed after" says
        self.ws_bytes = 0  # bytes of the websocket messages received, in all
        self.ticks = 0  # ticker ticks sent, in all
        self.ended_sent = 0  # ``ended`` triggers sent, in all
        self.traffic: dict[str, int] = {}  # from the last watch() to its final chart: what :meth:`_counters` counts
        self.phases: dict[str, float] = {}  # where that time went, for a run the tab streamed: see :meth:`_phases`
        self._ended: tuple[float, float, float] | None = None  # (run start, last epoch, ended sent), local clock
        self._mark: dict[str, int] = {}
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
        tasks = [s.task for s in self.streams.values() if s.task is not None and not s.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.http.close()
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
        """Give widget ``key`` a value for the next rerun, e.g. ``set("_w_epochs", int_value=2000)``."""
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
        """From now on, time the run the next Train click starts: its final chart, and the bytes until then."""
        self.clicked, self.done, self.busy, self.traffic, self.phases = time.monotonic(), None, None, {}, {}
        self._ended = None
        self._mark = self._counters()

    def _counters(self) -> dict[str, int]:
        return {"ws_bytes": self.ws_bytes, "stream_bytes": self.http.received,
                "stream_requests": sum(s.requests for s in self.streams.values()), "ticks": self.ticks,
                "ended": self.ended_sent}

    def where(self) -> str:
        """Where the tab is, in words (for a run that did not finish in time)."""
        streams = [f"{s.url.rsplit('/', 1)[-1][:6]}…: {s.status}, epoch {s.e[-1] if s.e else '—'} of {s.total}"
                   f"{', ended sent' if s.ended else ''}{', no status component' if s.trigger is None else ''}"
                   for s in self.streams.values()]
        last = self.texts[-1][1][:80] if self.texts else ""
        return f"streams [{'; '.join(streams)}], {self.ticks} ticks, last text {last!r}, error {self.error!r}"

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for raw in self.ws:
                self.ws_bytes += len(raw)
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
            if kind == "bidi_component":
                data = body.json if body.WhichOneof("data") == "json" else body.mixed.json
                if key.endswith("_ticker"):
                    self._tick(wid, delta.fragment_id, json.loads(data))
                elif '"stream"' in data:  # a chart or status line of a run that streams its numbers
                    self._mount(wid, delta.fragment_id, json.loads(data))
        if kind in ("alert", "markdown"):
            self._said(body.body)

    def _said(self, text: str) -> None:
        now = time.monotonic()
        self.texts.append((now, text))
        if self.clicked is not None:
            if self.busy is None and (m := BUSY.search(text)):
                self.busy = m.group(1)
            if self.done is None and (m := DONE.search(text)):
                self.done, self.final_epochs = now, int(m.group(2).replace(",", ""))
                self.traffic = {k: v - self._mark.get(k, 0) for k, v in self._counters().items()}
                self.phases = self._phases()

    def _phases(self) -> dict[str, float]:
        """Seconds from the Train click to the run's epoch 0 ("start"), from there to its last epoch ("play", the
        pace's own time), from there to the ``ended`` trigger ("to_ended": the page's display delay, and any lag
        in hearing that the run ended) and from the trigger to the final chart ("final": that fragment rerun).
        Empty for a run the tab did not stream (it ended before its page drew it, or it was not watched)."""
        if self._ended is None or self.clicked is None or self.done is None or self._ended[2] < self.clicked:
            return {}
        start, last, sent = self._ended
        return {"start": start - self.clicked, "play": last - start, "to_ended": sent - last, "final": self.done - sent}

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
            self.ticks += 1
            trigger = (f"$$STREAMLIT_INTERNAL_KEY_{wid}__events", event)
            asyncio.ensure_future(self.rerun(fragment=fragment, json_trigger=trigger, wait=False))

        self._timer = asyncio.get_running_loop().call_later(wait, fire)

    def _mount(self, wid: str, fragment: str, data: dict[str, Any]) -> None:
        """What live_chart.js does when a component with ``anim.stream`` is drawn: join (or start) the run's
        stream, take the numbers that came with it, and follow it; the status component (``anim.trigger``) is the
        one that asks for the final look."""
        anim = data.get("anim") or {}
        url = anim.get("stream")
        if not url:
            return
        s = self.streams.get(url)
        if s is None:
            s = self.streams[url] = Stream(url)
        if anim.get("seed"):
            s.merge(anim["seed"], time.monotonic())
        if anim.get("trigger"):
            s.trigger = (wid, fragment)
        if data.get("status") is not None:
            s.spec = data["status"]
        if s.task is None or s.task.done():
            s.task = asyncio.get_running_loop().create_task(self._follow(s))

    async def _follow(self, s: Stream) -> None:
        """``Stream.poll`` while the run runs (a request at most every POLL_GAP), then ``Stream.finish`` once the
        playback has reached the last epoch: the ``ended`` trigger, which reruns the status line's fragment."""
        fails, heard = 0, time.monotonic()
        while s.running:
            t0 = time.monotonic()
            i = s.at(t0)
            if i is not None:
                s.shown = s.e[i]
                self._paint(s, i)
            last = s.e[-1] if s.e else -1
            try:
                status, body = await self.http.get(f"{s.url}?from={last}&shown={s.shown}")
                s.requests += 1
                if status == 404:
                    s.status = "gone"
                    break
                s.merge(json.loads(body), time.monotonic())
                heard = time.monotonic()  # (the page's frames play on to the end from the answer that says so)
                fails = 0
            except (OSError, ValueError, asyncio.IncompleteReadError):
                fails += 1
                if fails > POLL_FAILS:
                    break
            wait = POLL_GAP - (time.monotonic() - t0)
            if wait > 0:
                await asyncio.sleep(wait)
        if s.running or s.ended or s.trigger is None:
            return
        if s.e:
            await asyncio.sleep(max(0.0, s.end_at(heard) - time.monotonic()))
            self._paint(s, len(s.e) - 1)
        if s.ended or s.running or s.trigger is None:  # resumed meanwhile: a new follow will end it
            return
        s.ended = True
        self.ended_sent += 1
        off = s.offset or 0.0
        self._ended = (s.t[0] + off if s.t else time.monotonic(), s.t[-1] + off if s.t else time.monotonic(),
                       time.monotonic())
        wid, fragment = s.trigger
        event = json.dumps([{"event": "ended", "value": s.url}], separators=(",", ":"))
        await self.rerun(fragment=fragment, json_trigger=(f"$$STREAMLIT_INTERNAL_KEY_{wid}__events", event), wait=False)

    def _paint(self, s: Stream, i: int) -> None:
        """The status component's line changed: write it to the texts, as the page shows it."""
        line = s.line(i)
        if line is not None and line != s.painted:
            s.painted = line
            self.texts.append((time.monotonic(), line))


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
    # Per session, from its Train click to its final chart: bytes of websocket messages received, bytes read from
    # the stream route (headers included) and its requests, ticker ticks and ``ended`` triggers sent.
    traffic: list[dict[str, int]] = field(default_factory=list)
    paced_seconds: float | None = None  # when a paced run's last epoch is due (the tutorial's T(100)); None: unpaced
    phases: list[dict[str, float]] = field(default_factory=list)  # per session: Tab.phases (streamed runs only)

    def rate(self, what: str) -> list[float]:
        """Bytes per second of ``what`` ("ws_bytes", "stream_bytes"), one per session, over its click → final chart."""
        return [t.get(what, 0) / s for t, s in zip(self.traffic, self.click_to_final) if s > 0]

    def row(self) -> dict[str, Any]:
        c, h = self.click_to_final, self.health
        ws, st = self.rate("ws_bytes"), self.rate("stream_bytes")
        late = (sum(s > self.paced_seconds + 1.0 for s in c) if self.paced_seconds is not None else None)
        return {"scenario": self.scenario, "sessions": self.sessions,
                "p50_s": round(percentile(c, 50), 2), "p95_s": round(percentile(c, 95), 2), "max_s": round(max(c), 2),
                "paced_s": round(self.paced_seconds, 2) if self.paced_seconds is not None else None,
                "later_than_paced_plus_1s": late,
                "health_p50_ms": round(1000 * percentile(h, 50), 1), "health_p95_ms": round(1000 * percentile(h, 95), 1),
                "health_max_ms": round(1000 * max(h), 1) if h else float("nan"), "health_failures": self.health_failures,
                "told_busy": self.told_busy, "server_cpu": round(self.server_cpu, 2), "client_cpu": round(self.client_cpu, 2),
                "ws_kB_s_p50": round(percentile(ws, 50) / 1000, 1), "ws_kB_s_max": round(max(ws, default=0) / 1000, 1),
                "stream_kB_s_p50": round(percentile(st, 50) / 1000, 1),
                "stream_kB_s_max": round(max(st, default=0) / 1000, 1),
                "ws_kB_p50": round(percentile([t.get("ws_bytes", 0) for t in self.traffic], 50) / 1000, 1),
                "stream_kB_p50": round(percentile([t.get("stream_bytes", 0) for t in self.traffic], 50) / 1000, 1),
                "stream_requests_p50": percentile([t.get("stream_requests", 0) for t in self.traffic], 50),
                "ticks": sum(t.get("ticks", 0) for t in self.traffic),
                "ended": sum(t.get("ended", 0) for t in self.traffic),
                **{f"{k}_p50_s": round(percentile([p[k] for p in self.phases if k in p], 50), 2)
                   for k in ("start", "play", "to_ended", "final")}}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"summary": self.row()}


async def _heavy_setup(tab: Tab, rows: int, epochs: int) -> None:
    await tab.rerun(page="Data")
    tab.set("_w_gen_n", int_value=rows)
    await tab.rerun()
    await tab.click("btn_generate")
    await tab.rerun(page="Train")
    tab.set("_w_ui_pace", string_array_value=["As fast as possible"])
    tab.set("_w_epochs", int_value=epochs)
    tab.set("_w_standardize", bool_value=True)
    await tab.rerun()


def _paced_seconds(tabs: list[Tab], root: str | None = None) -> float:
    """When the tutorial's last epoch is due at the default pace, for the epochs its runs said they ran: its paced
    time, by the studio/pace.py of the checkout served from ``root`` (None: this one's)."""
    if root is None:
        from studio import pace
    else:  # another checkout's paces (an older commit's Watch was faster): its own module, loaded by path
        import importlib.util
        from pathlib import Path

        spec = importlib.util.spec_from_file_location("_served_pace", Path(root) / "studio" / "pace.py")
        pace = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = pace  # its dataclasses look their module up while they are made
        try:
            spec.loader.exec_module(pace)
        finally:
            del sys.modules[spec.name]
    return pace.PACES[pace.DEFAULT_PACE].seconds_to(max(tab.final_epochs or 0 for tab in tabs))


async def _level(urls: list[str], servers: list[Any], scenario: str, sessions: int, rows: int, epochs: int,
                 timeout: float, root: str | None = None) -> Level:
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
                    late = [tab for tab in tabs if tab.done is None]
                    raise TimeoutError(f"{len(late)} of {sessions} runs did not finish within {timeout:.0f} s; the "
                                       f"first: {late[0].where()}")
                await asyncio.sleep(0.05)
        notices = [tab.busy for tab in tabs if tab.busy]
        return Level(scenario, sessions, [tab.done - tab.clicked for tab in tabs], probe.seconds, probe.failures,
                     len(notices), notices[0] if notices else None, cpu.server_share, cpu.client_share, round(setup, 1),
                     [tab.traffic for tab in tabs], _paced_seconds(tabs, root) if scenario == "tutorial" else None,
                     [tab.phases for tab in tabs])
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)


def measure(url: str | list[str], scenario: str, sessions: int, rows: int = 200_000, epochs: int = 2000,
            timeout: float = 900.0, root: str | None = None) -> Level:
    """One level: ``sessions`` tabs set up for ``scenario`` ("tutorial" or "heavy"), Train pressed on all. Several
    ``url``s: replicas, each given an equal share of the sessions (the health check polls the first). ``root``:
    the checkout the servers serve, if not this one (its pace gives the tutorial's paced time)."""
    from .soak import _server_process

    urls = [url] if isinstance(url, str) else list(url)
    return asyncio.run(_level(urls, [_server_process(u) for u in urls], scenario, sessions, rows, epochs, timeout,
                              root))


def run_levels(url: str | list[str], scenarios: list[str], levels: list[int], rows: int, epochs: int,
               log: Callable[[str], None] = lambda line: None, root: str | None = None) -> list[Level]:
    out = []
    for scenario in scenarios:
        for n in levels:
            level = measure(url, scenario, n, rows, epochs, root=root)
            out.append(level)
            r = level.row()
            paced = (f" (paced {r['paced_s']:.2f} s; {r['later_than_paced_plus_1s']}/{n} later than paced + 1 s)"
                     if r["paced_s"] is not None else "")
            log(f"{scenario:8} {n:3} sessions: Train→final chart p50 {r['p50_s']:.2f} s, p95 {r['p95_s']:.2f} s, "
                f"max {r['max_s']:.2f} s{paced}; health p50 {r['health_p50_ms']:.0f} ms, p95 {r['health_p95_ms']:.0f} "
                f"ms, max {r['health_max_ms']:.0f} ms ({r['health_failures']} failed); told busy {r['told_busy']}/{n}"
                f"{' (' + level.example_notice + ')' if level.example_notice else ''}; CPU server "
                f"{r['server_cpu']:.0%}, tabs {r['client_cpu']:.0%}; per session p50 websocket {r['ws_kB_s_p50']:.1f} "
                f"kB/s ({r['ws_kB_p50']:.0f} kB), stream {r['stream_kB_s_p50']:.1f} kB/s ({r['stream_kB_p50']:.0f} kB, "
                f"{r['stream_requests_p50']:.0f} requests); ticks {r['ticks']}, ended {r['ended']}; streamed runs' "
                f"p50 phases: click→epoch 0 {r['start_p50_s']:.2f} s, epoch 0→last {r['play_p50_s']:.2f} s, "
                f"last→ended sent {r['to_ended_p50_s']:.2f} s, ended→final chart {r['final_p50_s']:.2f} s; "
                f"setup {level.setup_seconds:.0f} s")
    return out
