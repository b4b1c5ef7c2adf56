"""studio/stream.py: the numbers a run streams to the page's live charts, and who may read them."""

from __future__ import annotations

import asyncio
import json
import re

import numpy as np
from starlette.requests import Request

from devtools.server import run_async
from linreg_core import TrainConfig
from studio import stream
from studio.plotly_js import FULL_PLOTLY_JS, PLOTLY_JS, PLOTLY_JS_VERSION
from studio.run import RunRecord


def record(epochs: int = 10, status: str = "running", released: int | None = None, p: int = 1) -> RunRecord:
    run = RunRecord(key=("k",), config=TrainConfig(epochs=epochs), dataset="d", status=status)
    for e in range(epochs + 1):
        run.snapshots.append((e, 0.5 * e, tuple(float(e + k) for k in range(p))))
        run.snapshot_t.append(100.0 + e)
        if e:
            run.history.append(10.0 / e)
    run.epochs_run = epochs
    run.released = epochs if released is None else released
    return run


def test_an_increment_holds_each_new_epoch_with_its_loss_parameters_and_time():
    run = record(10)
    inc = stream.increment(run, 3)
    assert inc["e"] == list(range(4, 11))
    assert inc["loss"] == [10.0 / e for e in range(4, 11)]  # the loss chart's value at epoch e: history[e - 1]
    assert inc["b"] == [0.5 * e for e in range(4, 11)] and inc["w"][0] == [4.0]
    assert inc["t"] == [100.0 + e for e in range(4, 11)]
    assert stream.increment(run, 10)["e"] == []
    assert stream.increment(run, -1)["loss"][0] is None  # epoch 0 has no loss point: the curve starts at epoch 1


def test_epochs_the_pace_holds_back_are_not_sent_until_released():
    run = record(10, released=4)
    assert stream.increment(run, -1)["e"] == [0, 1, 2, 3, 4]
    run.status = "completed"  # once the run has ended, everything it recorded goes out
    assert stream.increment(run, -1)["e"] == list(range(11))


def test_a_model_with_many_terms_sends_fewer_epochs_but_always_the_newest():
    run = record(2000, p=200)
    inc = stream.increment(run, -1)
    assert len(inc["e"]) * 204 <= stream.MAX_FLOATS + 204
    assert inc["e"][-1] == 2000 and inc["e"] == sorted(inc["e"])


def test_values_json_cannot_spell_are_sent_as_null():
    assert stream._json_safe({"a": [1.0, float("nan"), float("inf")], "b": -float("inf")}) == {"a": [1.0, None, None],
                                                                                               "b": None}


def get(path: str, query: str) -> tuple[int, dict, dict]:
    """The route's answer to GET ``path``?``query``: (status, headers, JSON)."""
    route = stream.routes()[0]
    match = re.fullmatch(route.path.replace("{token}", "(?P<token>[^/]+)"), path)
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": [],
             "path_params": match.groupdict()}
    answer = run_async(stream.run_numbers(Request(scope)))
    return answer.status_code, dict(answer.headers), json.loads(answer.body)


def test_the_route_answers_only_a_registered_token_and_records_the_epoch_shown():
    run = record(10)
    url = stream.url(run)
    assert re.fullmatch(r"/_linreg/runs/[A-Za-z0-9_-]{32}", url)  # 24 random bytes: not guessable
    assert get("/_linreg/runs/not-a-token", "from=-1")[0] == 404
    status, headers, body = get(url, "from=7&shown=5&wait=0")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert body["e"] == [8, 9, 10]
    assert run.shown_epoch == 5 and run.pressed is None
    get(url, "from=99&shown=6&press=1&wait=0")
    assert run.pressed[0] == 6  # Pause's press: where the run stops
    assert run.draws == 2 and run.streamed_bytes > 0


def long_poll(run: RunRecord, since: int, meanwhile) -> dict:
    """The route's answer to a request for news after epoch ``since`` while ``meanwhile()`` (a coroutine) runs."""
    url = stream.url(run)

    async def go():
        task = asyncio.ensure_future(meanwhile())
        scope = {"type": "http", "method": "GET", "path": url, "query_string": f"from={since}".encode(), "headers": [],
                 "path_params": {"token": run.token}}
        answer = await stream.run_numbers(Request(scope))
        await task
        return json.loads(answer.body)

    return run_async(go())


def test_a_long_poll_waits_for_the_next_epoch_then_answers_at_once():
    run = record(10, released=3)

    async def release():
        await asyncio.sleep(0.1)
        run.released = 4

    assert long_poll(run, 3, release)["e"] == [4]


def test_the_last_epoch_is_answered_with_the_runs_end_so_the_page_hears_of_it_at_once():
    run = record(10, released=9)

    async def finish():
        await asyncio.sleep(0.05)
        run.released = 10  # the last planned epoch: the trainer then wraps up and marks the run completed
        await asyncio.sleep(0.1)
        run.status = "completed"

    got = long_poll(run, 9, finish)
    assert got["e"] == [10] and got["status"] == "completed"  # one answer: the last epoch and the end


def test_the_live_charts_plotly_bundle_is_the_version_the_plotly_package_ships():
    head = FULL_PLOTLY_JS.read_text()[:300]
    assert f"v{PLOTLY_JS_VERSION}" in head and f"(cartesian - minified) v{PLOTLY_JS_VERSION}" in PLOTLY_JS.read_text()[:300]
    assert np.isclose(PLOTLY_JS.stat().st_size / FULL_PLOTLY_JS.stat().st_size, 0.31, atol=0.1)


def test_a_click_takes_the_epoch_the_press_said_even_when_the_press_arrives_after_it():
    # The browser says which epoch it shows on its own request as the button goes down; the click comes on the
    # websocket and can be handled first (seen on a loaded machine: Pause took the last polled epoch, 1, with 7 on
    # screen). The click waits for the press; without one it takes the last epoch the page said; else None.
    import threading
    import time

    film = stream.Streamed()
    film.shown_epoch = 11  # the last poll's word
    threading.Timer(0.2, lambda: setattr(film, "pressed", (23, time.monotonic()))).start()
    assert stream.pressed_epoch(film) == 23
    late = stream.Streamed()
    late.shown_epoch = 11
    assert stream.pressed_epoch(late, wait=0.05) == 11
    assert stream.pressed_epoch(stream.Streamed(), wait=0.05) is None


def test_a_poll_that_knows_no_epoch_leaves_the_one_the_press_said():
    run = record(status="completed")  # answered at once, no long poll
    url = stream.routes()[0].path.replace("{token}", stream.register(run))
    get(url, "from=-1&shown=7&press=1&wait=0")
    get(url, "from=-1&shown=-1&wait=0")  # a poll sent before the press, answered after it
    assert run.shown_epoch == 7 and run.pressed[0] == 7
