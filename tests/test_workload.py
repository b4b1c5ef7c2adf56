"""studio/workload.py: heavy work takes turns (shared between clients, each client's jobs in order), says how many
jobs are ahead, and a stopped job leaves the queue."""

from __future__ import annotations

import threading
import time

import pytest

from studio import workload
from studio.workload import Gate, Ticket


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


class Clock:
    """A clock the test moves by hand, so a quantum is checked exactly, not against the wall."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def queue(gate: Gate, ticket: Ticket, stop: threading.Event, granted: list[Ticket]) -> threading.Thread:
    """``ticket`` waits for a slot in its own thread (as a training job does); ``granted`` gets it when it has one."""
    th = threading.Thread(target=lambda: gate.enter(ticket, stop) and granted.append(ticket))
    th.start()
    wait_until(lambda: gate.ahead(ticket) is not None or ticket.since is not None)
    return th


def test_with_one_client_holding_many_heavy_runs_another_clients_run_starts_within_one_quantum():
    clock = Clock()
    gate = Gate(slots=1, quantum=5.0, clock=clock)
    stop, granted = threading.Event(), []
    a = [Ticket(f"a{i}", "address 10.0.0.1") for i in range(24)]  # one client's 24 million-epoch runs
    assert gate.enter(a[0])  # a0 trains from t = 0
    threads = [queue(gate, t, stop, granted) for t in a[1:]]
    assert [gate.ahead(t) for t in a[1:]] == list(range(1, 24))  # the client's own runs: in order of arrival
    clock.now = 2.0
    b = Ticket("b", "address 10.0.0.2")  # another client's short run
    threads.append(queue(gate, b, stop, granted))
    assert gate.ahead(b) == 1  # only the run that trains is ahead of it, not the 23 queued
    assert [gate.ahead(t) for t in a[1:]] == list(range(2, 25))  # each of those has one more job ahead now
    clock.now = 4.9
    assert gate.take_turns(a[0]) and a[0].since == 0.0  # within its quantum a0 keeps the slot
    clock.now = 5.0  # a0's quantum is used up: at its next epoch it gives the slot up
    turned = threading.Thread(target=gate.take_turns, args=(a[0], stop))
    turned.start()
    wait_until(lambda: len(granted) == 1)
    assert granted == [b] and b.since - 2.0 <= gate.quantum  # b waited 3 s of a 5 s quantum, no 23 turns more
    wait_until(lambda: gate.ahead(a[0]) == 24)  # a0 queued again, behind its own client's 23
    clock.now = 10.0  # b's quantum passes while a's runs wait: the turn goes back to a, the next of its runs
    again = threading.Thread(target=gate.take_turns, args=(b, stop))
    again.start()
    wait_until(lambda: len(granted) == 2)
    assert granted == [b, a[1]]  # a1, not a0 again: within a client the runs take turns in order
    assert gate.ahead(b) == 1  # and b is next again after a1's quantum, not behind a2…a23 and a0
    stop.set()
    for th in (*threads, turned, again):
        th.join(10)
    assert gate.queued == 0


def test_queue_positions_are_the_order_the_slots_are_really_handed_out_in():
    gate = Gate(slots=1, quantum=1e9)
    stop, granted = threading.Event(), []
    holder = Ticket("a0", "A")
    gate.enter(holder)
    arrivals = [Ticket(n, n[0].upper()) for n in ("a1", "a2", "a3", "b1", "b2", "c1")]
    threads = [queue(gate, t, stop, granted) for t in arrivals]
    # Round-robin over clients, A last as it holds the slot; each client's runs in order of arrival.
    expected = ["b1", "c1", "a1", "b2", "a2", "a3"]
    assert {t.what: gate.ahead(t) for t in arrivals} == {name: i + 1 for i, name in enumerate(expected)}
    assert gate.ahead_of_new("D") == 3  # a new client comes after b1 and c1, who waited first, before a1
    assert gate.ahead_of_new("A") == 7  # A's next one comes after all of them
    assert gate.ahead_of_new("C") == 5  # C's second: after b2, before a2
    for t in (holder, *(t for name in expected for t in arrivals if t.what == name)):
        n = len(granted)
        gate.leave(t)  # each job ends in turn; the next one gets the slot
        if n < len(arrivals):
            wait_until(lambda n=n: len(granted) == n + 1)
    assert [t.what for t in granted] == expected
    for th in threads:
        th.join(10)
    assert gate.holding == 0 and gate.queued == 0


def test_two_slots_are_shared_one_per_client_whatever_one_client_queues():
    clock = Clock()
    gate = Gate(slots=2, quantum=5.0, clock=clock)
    stop, granted = threading.Event(), []
    a = [Ticket(f"a{i}", "A") for i in range(6)]
    assert gate.enter(a[0]) and gate.enter(a[1])  # A takes both slots at t = 0
    threads = [queue(gate, t, stop, granted) for t in a[2:]]
    b = Ticket("b0", "B")
    threads.append(queue(gate, b, stop, granted))
    assert gate.ahead(b) == 2
    clock.now = 5.0
    turns = [threading.Thread(target=gate.take_turns, args=(t, stop)) for t in a[:2]]
    turns[0].start()
    wait_until(lambda: granted == [b])  # a0's quantum is up: its slot goes to B
    turns[1].start()
    wait_until(lambda: granted == [b, a[2]])  # a1's goes to A's next run: B already has one of the two
    clock.now = 10.0
    assert gate.take_turns(b, stop)  # B's turn ends with only A waiting, but B holds no more than its share:
    assert b.since == 10.0 and granted == [b, a[2]]  # it gives the slot up and gets it straight back
    stop.set()
    for th in (*threads, *turns):
        th.join(10)


@pytest.mark.parametrize("remote, key", [("10.1.2.3", "address 10.1.2.3"), ("2001:db8::7", "address 2001:db8::7"),
                                         ("127.0.0.1", "session test session id"), ("::1", "session test session id"),
                                         (None, "session test session id")])
def test_the_client_of_a_script_run_is_its_address_or_else_its_session(monkeypatch, remote, key):
    """The connection's address (what uvicorn made of a trusted proxy's X-Forwarded-For included); Streamlit gives
    loopback visitors none, so each of their sessions is its own client."""
    from types import SimpleNamespace

    import streamlit.runtime.context
    from streamlit.testing.v1 import AppTest

    def script() -> None:
        import streamlit as st

        from studio import workload

        st.text(workload.client_key())

    assert workload.client_key() == ""  # no script run: a job started by a test or the CLI
    monkeypatch.setattr(streamlit.runtime.context, "_get_client_context", lambda: SimpleNamespace(remote_ip=remote))
    assert AppTest.from_function(script).run().text[0].value == key


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


class RecordingGate(Gate):
    """The real gate, noting each ticket as it is handed a slot, and when."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.granted: list[Ticket] = []
        self.at: list[float] = []

    def _wait_turn(self, ticket: Ticket, stop: threading.Event | None) -> bool:
        got = super()._wait_turn(ticket, stop)
        if got:
            self.granted.append(ticket)
            self.at.append(self.clock())
        return got


def test_real_runs_one_client_with_eight_million_epoch_runs_and_another_clients_run_gets_the_next_turn(monkeypatch):
    gate = RecordingGate(slots=1, quantum=1e9)  # no turn-taking until every run is in place
    monkeypatch.setattr(workload, "GATE", gate)
    many: list = []
    try:
        for _ in range(8):  # one client's eight runs, as its script threads would start them
            job = heavy_job(epochs=1_000_000)
            job.client = "address 10.0.0.1"
            many.append(job.start())
            wait_until(lambda job=job: job.ticket is not None and (job.run.epochs_run > 0 or job.queued_behind))
        assert [j.queued_behind for j in many] == [None, 1, 2, 3, 4, 5, 6, 7]
        other = heavy_job(epochs=20_000)
        other.client = "address 10.0.0.2"
        other.start()
        wait_until(lambda: other.queued_behind is not None)
        assert other.queued_behind == 1  # "Queued: 1 heavy job ahead of your run", not 8
        assert [j.queued_behind for j in many[1:]] == [2, 3, 4, 5, 6, 7, 8]
        turns_from = time.monotonic()
        gate.quantum = 0.2  # now the runs take turns
        assert other.run.finished.wait(120)
        granted = list(gate.granted)  # the turns until the other client's run ended (stopping the rest grants more)
    finally:
        for job in many:
            job.stop("Stopped by you at epoch {epoch}.")
    first = [t for t in granted if t is not other.ticket]
    assert other.run.status == "completed" and other.run.epochs_run == 20_000
    # The next slot after the first run's quantum went to the other client; the first client's runs took their
    # turns in order of arrival (while the other client's run alternated with them, one quantum each).
    assert granted[1] is other.ticket
    assert first == [many[i % 8].ticket for i in range(len(first))]
    assert gate.holding == 0 and gate.queued == 0
    record("fair_share_real_runs", {"quantum_s": 0.2, "one_client_runs": 8,
                                    "other_client_wait_after_turns_begin_s": round(gate.at[1] - turns_from, 3),
                                    "other_client_first_slot_to_end_s": round(other.run.wall_seconds, 3),
                                    "other_client_turns": gate.granted.count(other.ticket)})


def record(name: str, figures: dict) -> None:
    """Measured figures for docs/capacity.md go to test-artifacts (never asserted against the wall clock)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "test-artifacts" / "fair_share_measurements.json"
    path.parent.mkdir(exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2) + "\n")


@pytest.mark.parametrize("name, raw", [("LINREG_HEAVY_SLOTS", "0"), ("LINREG_HEAVY_SLOTS", "two"),
                                       ("LINREG_QUANTUM_S", "-1"), ("LINREG_QUANTUM_S", "nan"),
                                       ("LINREG_QUANTUM_S", "inf")])
def test_a_bad_setting_in_the_environment_is_one_sentence(monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError, match=rf"^{name} must be a (whole )?number greater than 0\. Got '{raw}' instead\.$"):
        workload._setting(name, 1.0, integer=name == "LINREG_HEAVY_SLOTS")
    monkeypatch.setenv(name, "3")
    assert workload._setting(name, 1.0, integer=name == "LINREG_HEAVY_SLOTS") == 3


def test_a_client_that_restarts_its_run_keeps_its_place_in_the_order():
    """A client whose run ended and who starts another at once does not rank as never served: it was served,
    so a client that has been waiting without a turn goes first."""
    gate = Gate(slots=1, quantum=1e9)
    stop, granted = threading.Event(), []
    a0 = Ticket("a0", "A")
    gate.enter(a0)
    b1 = Ticket("b1", "B")
    threads = [queue(gate, b1, stop, granted)]
    gate.leave(a0)  # A's run ends: B gets the slot
    wait_until(lambda: granted == [b1])
    a1, c1 = Ticket("a1", "A"), Ticket("c1", "C")
    threads.append(queue(gate, a1, stop, granted))  # A restarts first…
    wait_until(lambda: gate.queued == 1)
    threads.append(queue(gate, c1, stop, granted))  # …then C, never served, arrives
    wait_until(lambda: gate.queued == 2)
    assert gate.ahead(c1) == 1 and gate.ahead(a1) == 2
    gate.leave(b1)
    wait_until(lambda: len(granted) == 2)
    assert granted[1] is c1
    stop.set()
    gate.leave(c1)
    for th in threads:
        th.join(10)


def test_pages_draw_one_at_a_time_and_a_late_holder_stalls_the_others_at_most_the_wait():
    inside, most, order = [0], [0], []
    lock = threading.Lock()

    def page(name: str, hold: float) -> None:
        with workload.page_turn(wait=5.0) as got:
            assert got
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(hold)
            order.append(name)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=page, args=(f"p{k}", 0.02)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and len(order) == 8  # never two pages at once, and every page drew

    # A page that holds its turn too long (a bug, a huge figure) delays another by the wait, not its whole time.
    got_turn = []
    with workload._page_turn:  # someone holds the turn
        t0 = time.monotonic()
        with workload.page_turn(wait=0.2) as got:
            got_turn.append((got, time.monotonic() - t0))
    assert got_turn[0][0] is False and got_turn[0][1] >= 0.2  # it drew anyway, after the wait
    with workload.page_turn(wait=0.2) as got:
        assert got  # and a page that drew without its turn gave back nothing it did not have
