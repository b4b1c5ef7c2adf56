"""studio/workload.py: heavy work takes turns in order, says how many jobs are ahead, and a stopped job leaves the
queue; redraws are spaced out as more sessions watch runs at once."""

from __future__ import annotations

import threading
import time

import pytest

from studio import workload
from studio.workload import Gate, Redraws, Ticket


def wait_until(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.005)


def test_slots_are_taken_in_order_of_arrival_and_positions_are_told():
    gate = Gate(slots=1, quantum=1e9)
    first = Ticket("a")
    assert gate.enter(first)
    order: list[str] = []
    tickets = [Ticket(name) for name in "bcd"]
    threads = []
    for t in tickets:  # queue b, c, d in that order
        th = threading.Thread(target=lambda t=t: (gate.enter(t), order.append(t.what), gate.leave(t)))
        th.start()
        threads.append(th)
        wait_until(lambda t=t: gate.ahead(t) is not None)
    assert gate.ahead(first) is None  # it holds the slot
    assert [gate.ahead(t) for t in tickets] == [1, 2, 3]  # the holder, then those queued before
    assert gate.queued == 3 and gate.holding == 1
    gate.leave(first)
    for th in threads:
        th.join(10)
    assert order == ["b", "c", "d"]
    assert gate.queued == 0 and gate.holding == 0


def test_two_slots_run_two_jobs_at_once():
    gate = Gate(slots=2, quantum=1e9)
    a, b, c = Ticket("a"), Ticket("b"), Ticket("c")
    assert gate.enter(a) and gate.enter(b)
    th = threading.Thread(target=gate.enter, args=(c,))
    th.start()
    wait_until(lambda: gate.ahead(c) == 2)
    gate.leave(b)
    th.join(10)
    assert gate.ahead(c) is None and gate.holding == 2


def test_a_stopped_job_leaves_the_queue_and_the_next_moves_up():
    gate = Gate(slots=1, quantum=1e9)
    holder, quitter, patient = Ticket("h"), Ticket("q"), Ticket("p")
    gate.enter(holder)
    stop = threading.Event()
    got: dict[str, bool] = {}
    t1 = threading.Thread(target=lambda: got.setdefault("q", gate.enter(quitter, stop)))
    t1.start()
    wait_until(lambda: gate.ahead(quitter) == 1)
    t2 = threading.Thread(target=lambda: got.setdefault("p", gate.enter(patient)))
    t2.start()
    wait_until(lambda: gate.ahead(patient) == 2)
    stop.set()
    t1.join(10)
    assert got["q"] is False and gate.ahead(quitter) is None
    assert gate.ahead(patient) == 1  # moved up
    gate.leave(holder)
    t2.join(10)
    assert got["p"] is True and gate.holding == 1


def test_a_long_job_gives_its_slot_to_a_waiting_one_after_its_quantum():
    gate = Gate(slots=1, quantum=0.05)
    long, other = Ticket("long"), Ticket("other")
    gate.enter(long)
    assert gate.take_turns(long)  # nobody waits: it keeps the slot
    assert long.since is not None and gate.ahead(long) is None
    th = threading.Thread(target=gate.enter, args=(other,))
    th.start()
    wait_until(lambda: gate.ahead(other) == 1)
    time.sleep(0.06)  # the long job's quantum passes (a duration under test, not a wait for state)
    turned = threading.Thread(target=gate.take_turns, args=(long,))
    turned.start()
    th.join(10)
    assert other.since is not None  # the waiting job got the slot
    wait_until(lambda: gate.ahead(long) == 1)  # the long one queues behind it
    gate.leave(other)
    turned.join(10)
    assert long.since is not None


@pytest.mark.parametrize("rows, epochs, cols, batch, expected", [
    (4, 100, 1, 0, False),  # the tutorial
    (300, 100, 1, 0, False),
    (200_000, 2000, 1, 0, True),  # the class run
    (300, 3000, 1, 0, True),  # 3,000 optimizer steps
    (1_000_000, 5, 1, 65_536, False),
    (1_000_000, 50, 1, 1024, True),  # ~49,000 mini-batch steps
])
def test_heavy_is_estimated_from_steps_and_cells(rows, epochs, cols, batch, expected):
    assert workload.heavy(rows, epochs, cols, batch) is expected


def test_queue_note_names_the_jobs_ahead_and_the_rule():
    note = workload.queue_note(2)
    assert note.startswith("Queued: 2 heavy jobs ahead of your run.")
    assert "light runs go at once" in note and "starts by itself" in note
    assert workload.queue_note(1, "the exact fit of your data").startswith(
        "Queued: 1 heavy job ahead of the exact fit of your data.")


def test_redraws_are_spaced_out_as_more_sessions_watch():
    r = Redraws(share=0.5)  # a budget of 0.5 CPU seconds per second for all redraws
    for _ in range(50):
        r.drew("s0", 0.02)
    assert r.every(0.06) == 0.06  # one session: its own pace
    for i in range(1, 32):
        r.drew(f"s{i}", 0.02)
    assert r.watching() == 32
    assert r.every(0.06) == pytest.approx(32 * r.cost / 0.5)  # 32 × ~20 ms, in half a second: ~1.3 s apart
    assert 1.0 < r.every(0.06) < 1.6
    for i in range(1, 32):
        r.done(f"s{i}")
    assert r.watching() == 1 and r.every(0.06) == 0.06


@pytest.fixture
def one_slot(monkeypatch):
    gate = Gate(slots=1, quantum=1e9)
    monkeypatch.setattr(workload, "GATE", gate)
    return gate


def heavy_job(epochs: int = 20_000):
    """A TrainingJob as the Train page starts one: 2,000 rows, as fast as possible (heavy by the estimate)."""
    import numpy as np
    import pandas as pd

    from linreg_core import TrainConfig, Trainer, build_design
    from studio.jobs import TrainingJob
    from studio.run import RunRecord

    x = np.linspace(0, 10, 2000)
    design = build_design(pd.DataFrame({"x": x, "y": 2 * x + 1}), "y")
    config = TrainConfig(device="cpu", epochs=epochs, lr=0.01)
    assert workload.heavy(design.n_samples, epochs, 1)
    trainer = Trainer(design, config)
    run = RunRecord((), config, "test", pace="asap")
    return TrainingJob(run, trainer)


def test_a_queued_run_trains_nothing_until_its_turn_and_can_be_paused_there(one_slot):
    other = Ticket("someone else's run")
    one_slot.enter(other)
    job = heavy_job().start()
    wait_until(lambda: job.queued_behind == 1)
    assert job.run.running and job.run.epochs_run == 0
    job.pause()  # Pause while queued: nothing ran, the run waits for Resume
    assert job.run.paused and job.run.epochs_run == 0 and job.queued_behind is None
    assert one_slot.queued == 0
    job.resume(job.trainer.config)
    wait_until(lambda: job.queued_behind == 1)  # queued again
    one_slot.leave(other)
    assert job.run.finished.wait(60)
    assert job.run.status == "completed" and job.run.epochs_run == 20_000
    assert one_slot.holding == 0 and one_slot.queued == 0  # the slot was given back


def test_a_run_stopped_while_queued_leaves_the_queue(one_slot):
    other = Ticket("someone else's run")
    one_slot.enter(other)
    job = heavy_job().start()
    wait_until(lambda: job.queued_behind == 1)
    job.stop("Stopped by you at epoch {epoch}.")
    assert job.run.status == "stopped" and job.run.reason == "Stopped by you at epoch 0."
    assert one_slot.queued == 0 and one_slot.holding == 1
    one_slot.leave(other)


def test_a_paced_heavy_run_holds_no_slot_while_it_waits(one_slot):
    job = heavy_job(epochs=1_000_000)
    job.run.pace = "watch"
    job.start()
    wait_until(lambda: job.run.epochs_run >= 3)
    assert one_slot.holding == 0  # Watch pace: it mostly waits, so it takes no slot
    job.run.pace = "asap"  # switched to As fast as possible mid-run: it takes the slot
    wait_until(lambda: one_slot.holding == 1)
    job.stop("Stopped by you at epoch {epoch}.")
    assert one_slot.holding == 0


@pytest.mark.parametrize("name, raw", [("LINREG_HEAVY_SLOTS", "0"), ("LINREG_HEAVY_SLOTS", "two"),
                                       ("LINREG_QUANTUM_S", "-1"), ("LINREG_REDRAW_SHARE", "nan"),
                                       ("LINREG_REDRAW_SHARE", "inf")])
def test_a_bad_setting_in_the_environment_is_one_sentence(monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError, match=rf"^{name} must be a (whole )?number greater than 0\. Got '{raw}' instead\.$"):
        workload._setting(name, 1.0, integer=name == "LINREG_HEAVY_SLOTS")
    monkeypatch.setenv(name, "3")
    assert workload._setting(name, 1.0, integer=name == "LINREG_HEAVY_SLOTS") == 3
