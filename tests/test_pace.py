"""studio/pace.py: a paced run waits between epochs on a schedule that lets a person watch, and the waits
change no number."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from linreg_core import TrainConfig, Trainer, build_design
from studio.pace import PACES, Pacer, pace_of


class FakeClock:
    """A clock that only moves when the pacer waits (or a test says so): the schedule, not this machine."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now


class FakeWake:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.set_ = False

    def wait(self, seconds: float) -> bool:
        self.clock.waits.append(seconds)
        if not self.set_:
            self.clock.now += seconds
        return self.set_


def test_watch_plays_the_tutorial_in_three_to_five_seconds_and_speeds_up_later():
    watch, fast, asap = PACES["watch"], PACES["fast"], PACES["asap"]
    assert 3.0 <= watch.seconds_to(100) <= 5.0
    assert watch.seconds_to(10) > 0.1 * 10 / 2  # the first ten epochs are on screen for most of a second
    assert fast.seconds_to(100) < watch.seconds_to(100) and asap.seconds_to(100) == 0.0
    # Later epochs go faster: a million epochs at Watch still end within a minute.
    per_epoch = [watch.seconds_to(e + 1) - watch.seconds_to(e) for e in (0, 100, 10_000, 1_000_000)]
    assert per_epoch == sorted(per_epoch, reverse=True)
    assert watch.seconds_to(1_000_000) < 60
    assert pace_of(None) is watch and pace_of("nonsense") is watch


def test_pacer_waits_until_each_epoch_is_due():
    clock = FakeClock()
    pacer = Pacer(lambda: "watch", FakeWake(clock), clock)
    for epoch in range(1, 101):
        pacer(epoch)
    # Counted from epoch 0 (the first call, after epoch 1, anchors the schedule there): epoch 1 is on screen for its
    # share of the schedule too, so the tutorial's 100 epochs take T(100).
    expected = PACES["watch"].seconds_to(100)
    assert clock.now - 100.0 == pytest.approx(expected, rel=1e-9)
    assert pacer.waited == pytest.approx(expected, rel=1e-9)


def test_pacer_never_slows_a_trainer_that_is_behind_and_follows_a_pace_change():
    clock = FakeClock()
    pace = {"now": "watch"}
    pacer = Pacer(lambda: pace["now"], FakeWake(clock), clock)
    pacer(1)
    clock.waits.clear()  # (epoch 1 waited for its share of the schedule)
    clock.now += 10.0  # the trainer took ten seconds for one epoch: far behind the schedule
    pacer(2)
    assert clock.waits == []  # no wait to "catch up"; the schedule starts again from here
    pacer(3)
    assert clock.waits and clock.waits[-1] < 1 / PACES["watch"].start_rate  # one epoch's share, no more
    pace["now"] = "asap"
    clock.waits.clear()
    for epoch in range(4, 1000):
        pacer(epoch)
    assert clock.waits == []


def test_a_set_wake_event_ends_the_wait_at_once():
    wake = threading.Event()
    wake.set()  # Stop or Pause was pressed
    pacer = Pacer(lambda: "watch", wake)
    pacer(1)
    pacer(2)  # would wait ~0.07 s; returns at once because the event is set
    assert pacer.waited > 0


@pytest.mark.parametrize("pace", ["watch", "fast"])
def test_pacing_changes_no_number(tutorial_df, pace):
    """The tutorial run paced (real clock, real waits) equals the unpaced run bit for bit."""
    design = build_design(tutorial_df, "y")
    config = TrainConfig(device="cpu", epochs=100 if pace == "fast" else 30)
    plain = Trainer(design, config).fit()
    paced_trainer = Trainer(design, config)
    pacer = Pacer(lambda: pace, threading.Event())
    paced = paced_trainer.fit(between=pacer)
    assert pacer.waited > 0.3
    assert paced.loss_history == plain.loss_history
    np.testing.assert_array_equal(paced.coef, plain.coef)
    assert paced.intercept == plain.intercept
