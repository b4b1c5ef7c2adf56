"""A run's numbers for the browser: the live charts poll this route and draw every frame themselves.

The server sends numbers, not figures. While a run trains, the page's live charts (studio/live_chart.py) ask
``GET /_linreg/runs/<token>?from=<epoch>`` for the epochs they have not seen: each recorded epoch's parameters,
its loss (and validation loss) and the server's clock when it ended, a few hundred bytes per answer. The browser
interpolates between them at its own frame rate, so the motion is continuous at every pace while the server does
no drawing at all: no script reruns, no Plotly figures, during a run.

An answer waits up to :data:`LONG_POLL` seconds for news (a paced run's next epoch), so a watching browser asks a
few times a second at most. The token is unguessable and given only to the session that owns the run (in its
component's data); with it, the browser also tells the server which epoch it shows (``shown=``), where Pause stops.
"""

from __future__ import annotations

import asyncio
import bisect
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROUTE = "/_linreg/runs/{token}"
LONG_POLL = 0.4  # seconds an answer waits for a new epoch before saying "nothing new"
CHECK_EVERY = 0.025
MAX_FLOATS = 60_000  # per answer: a model with many terms sends fewer of its epochs (the browser interpolates)

_RUNS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()  # token -> RunRecord, RaceStream or Film


def picked(first: int, end: int, floats_per_epoch: int, max_floats: int = MAX_FLOATS) -> range:
    """The indices ``first`` … ``end`` − 1 an answer sends: all, or every n-th so that it holds at most ``max_floats``
    numbers — the newest always kept (the run's "now"); the browser interpolates between them."""
    stride = max(1, -(-(end - first) * floats_per_epoch // max_floats))
    return range(end - 1, first - 1, -stride)[::-1]


@dataclass(eq=False)
class Streamed:
    """What the stream route keeps of whoever watches a stream that is not a Train run's record (which has these
    fields itself): its token, the epoch the page shows and when Pause was pressed there, and the cost of watching."""

    token: str = field(default="", kw_only=True)
    shown_epoch: int = field(default=-1, kw_only=True)
    pressed: tuple[int, float] | None = field(default=None, kw_only=True)
    draws: int = field(default=0, kw_only=True)
    draw_seconds: float = field(default=0.0, kw_only=True)
    streamed_bytes: int = field(default=0, kw_only=True)


PRESS_WAIT = 1.0  # seconds a click waits for the browser's word on the epoch it showed when the button went down


def pressed_epoch(watched: Any, wait: float = PRESS_WAIT) -> int | None:
    """The epoch the page showed when Pause (or Stop during a played Step k) was pressed, for a run or film the
    browser draws. The browser says it on its own request as the button goes down, which can reach the server after
    the click on the websocket: wait a moment for it, then take the epoch the page last said it showed (None: it has
    said none)."""
    clicked = time.monotonic()
    while time.monotonic() - clicked < wait:
        pressed = watched.pressed
        if pressed is not None and clicked - pressed[1] < 2.0:
            return pressed[0]
        time.sleep(0.01)
    return watched.shown_epoch if watched.shown_epoch >= 0 else None


def register(run: Any) -> str:
    """Give ``run`` a token its session's page can stream it with; the entry goes when the record does."""
    if not run.token:
        run.token = secrets.token_urlsafe(24)
        _RUNS[run.token] = run
    return run.token


def url(run: Any) -> str:
    return ROUTE.replace("{token}", register(run))


def increment(run: Any, since: int) -> dict[str, Any]:
    """What the run recorded after epoch ``since`` (-1: everything), in columns. Each entry is a recorded epoch
    (every one early on, then evenly spaced ones): its epoch, the server's clock then, its parameters, and the
    loss the loss chart plots at that epoch (the loss before its update, as in ``history``)."""
    with run.lock:
        snaps, times = run.snapshots, run.snapshot_t
        end = len(snaps)
        if run.status == "running":  # an epoch its pace holds back is not on screen yet (its time is its release)
            end = bisect.bisect_right(snaps, run.released, key=lambda s: s[0])
        i = bisect.bisect_right(snaps, since, hi=end, key=lambda s: s[0])
        p = len(snaps[i][2]) if i < end else 0
        chosen = picked(i, end, p + 4)
        new = [snaps[j] for j in chosen]
        timed = len(times) == len(snaps)
        tnew = [times[j] if timed else 0.0 for j in chosen]
        hist, val = run.history, run.val_history
        out = {
            "status": run.status,
            "epochs_run": run.epochs_run,
            "total": run.config.epochs,
            "rows_done": run.rows_done,
            "now": time.monotonic(),
            "e": [s[0] for s in new],
            "t": tnew,
            "b": [s[1] for s in new] if run.intercept is not None or (new and new[0][1] is not None) else None,
            "w": [list(s[2]) for s in new],
            "loss": [hist[s[0] - 1] if 0 < s[0] <= len(hist) else None for s in new],
            "val": [val[s[0] - 1] if 0 < s[0] <= len(val) else None for s in new] if val else None,
            "last_loss": hist[-1] if hist else None,
        }
    return out


@dataclass(eq=False)
class Film(Streamed):
    """Numbers computed ahead and shown on a schedule: a paced Step k (app_pages/step.py) trains its k epochs at
    once, then the browser plays them at the pace, as it plays a Train run. The route serves each epoch once its
    time (``times``, this clock) has come; ``status`` is "running" until the last one's."""

    epochs: list[int]
    times: list[float]
    b: list[float | None]
    w: list[list[float]]
    loss: list[float | None]
    val: list[float | None] | None = None
    planned: int = 0  # the run's planned epochs, for the status line ("Epoch 12 / 100")
    stopped: bool = False  # (its ``shown_epoch`` is where Stop stops it)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return self.epochs[-1]

    @property
    def released(self) -> int:
        k = bisect.bisect_right(self.times, time.monotonic())
        return self.epochs[k - 1] if k else -1

    @property
    def status(self) -> str:
        if self.stopped:
            return "stopped"
        return "running" if time.monotonic() < self.times[-1] else "completed"

    def end_now(self) -> None:
        """Show the rest at once (the speed was switched to As fast as possible)."""
        now = time.monotonic()
        self.times = [min(t, now) for t in self.times]

    def increment(self, since: int, max_floats: int) -> dict[str, Any]:
        end = len(self.epochs) if self.status != "running" else bisect.bisect_right(self.times, time.monotonic())
        i = bisect.bisect_right(self.epochs, since, hi=end)
        chosen = picked(i, end, (len(self.w[0]) if self.w else 1) + 4, max_floats)
        return {"status": self.status, "epochs_run": self.released, "total": self.planned or self.total, "rows_done": 0,
                "now": time.monotonic(), "e": [self.epochs[j] for j in chosen], "t": [self.times[j] for j in chosen],
                "b": [self.b[j] for j in chosen], "w": [self.w[j] for j in chosen],
                "loss": [self.loss[j] for j in chosen],
                "val": [self.val[j] for j in chosen] if self.val is not None else None, "last_loss": None}


def _json_safe(obj: Any) -> Any:
    """NaN and infinities as None: JSON has no spelling for them (a diverging run's last losses)."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    return obj


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


async def run_numbers(request: Request) -> JSONResponse:
    """The route: news of one run after ``from``; ``shown``: the epoch the page shows now (for Pause)."""
    run = _RUNS.get(request.path_params["token"])
    headers = {"cache-control": "no-store"}
    if run is None:
        return JSONResponse({"status": "gone"}, status_code=404, headers=headers)
    since = _int(request.query_params.get("from"), -1)
    shown = _int(request.query_params.get("shown"), -1)
    if shown >= 0:  # (-1: the page has not said; a poll sent before a press must not undo what the press said)
        run.shown_epoch = shown
        if request.query_params.get("press"):  # Pause pressed: its click follows on the websocket
            run.pressed = (shown, time.monotonic())
    if request.query_params.get("wait") != "0":
        deadline = time.monotonic() + LONG_POLL
        # News is a new epoch, or the run's end; the last planned epoch is answered with the end (its status comes a
        # moment after it), so that the page hears of the end at once, not one request later.
        total = run.total if hasattr(run, "total") else run.config.epochs
        while (run.status == "running" and (run.released <= since or run.released >= total)
               and time.monotonic() < deadline):
            await asyncio.sleep(CHECK_EVERY)
    t0 = time.thread_time()
    # A Train run's record, or a race's stream (studio/live.py), which answers for itself.
    news = run.increment(since, MAX_FLOATS) if hasattr(run, "increment") else increment(run, since)
    answer = JSONResponse(_json_safe(news), headers=headers)
    run.draws += 1  # the cost of watching, for the page's "Live charts" note
    run.draw_seconds += time.thread_time() - t0
    run.streamed_bytes += len(answer.body)
    return answer


def routes() -> list[Route]:
    return [Route(ROUTE, run_numbers)]
