"""Fair shares of one server's cores, for a class on one server.

Two things a busy server would otherwise do badly, measured in docs/capacity.md:

- **Heavy work queues.** A long run, the exact fit of a large dataset and an unwatched long race take one of
  a few *heavy slots* (one fewer than the cores, so one core always stays for the pages and the light runs; at
  least one). Heavy work waits its turn and says so ("Queued: 2 heavy jobs ahead of your run"); a heavy run
  that has trained for ``QUANTUM_S`` while another waits gives its slot up at the next epoch and queues again, so
  one student's million-epoch run does not hold the class up. Turns are shared between *clients* (a browser's
  address, see :func:`client_key`), not jobs: a free slot goes to the waiting client holding the fewest slots,
  the least recently served first, and each client's own jobs go in order of arrival. So 24 runs from one client
  delay another client's run by at most one quantum, not 24. Light runs (estimated under ``HEAVY_S`` of
  training: the tutorial's is ~15 ms) never queue, nor does a paced run while it waits for its next epoch.

Live charts cost the server next to nothing while a run trains: the browser draws them from the numbers it
streams (studio/stream.py), so there is no redraw budget to share. The numbers a run computes never depend on
the queue.

``LINREG_HEAVY_SLOTS`` and ``LINREG_QUANTUM_S`` override the defaults (docs/capacity.md).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def _setting(name: str, default: float, integer: bool = False, low: float = 0.0) -> float:
    """A number from the environment, or a sentence saying what is wrong with it (read at server start)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not value > low or value == float("inf"):
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{name} must be {kind} greater than {low:g}. Got {raw!r} instead.")
    return value


CORES = os.cpu_count() or 1
HEAVY_SLOTS = int(_setting("LINREG_HEAVY_SLOTS", max(1, CORES - 1), integer=True))
QUANTUM_S = _setting("LINREG_QUANTUM_S", 5.0)
HEAVY_S = 0.25  # a run estimated to train longer than this (unpaced) is heavy
STEP_S = 1.5e-4  # one optimizer step's fixed cost (full batch: O(p²) per epoch, whatever the rows), measured here
CELL_S = 2e-9  # per row × column of a mini-batch pass
HEAVY_ROWS = 100_000  # datasets from this many rows are read and fitted in a heavy slot
MAX_REMEMBERED = 10_000  # clients whose last turn the gate remembers (a restarted run keeps its place in the order)


@dataclass(eq=False)
class Ticket:
    """One piece of heavy work's place: queued (``since`` None) or holding a slot since ``since``. ``client``: whose
    it is (:func:`client_key`), read in the script thread that asked for the work."""

    what: str
    client: str = ""
    since: float | None = None


class Gate:
    """``slots`` heavy slots shared round-robin between clients, each client's jobs in order of arrival."""

    def __init__(self, slots: int = HEAVY_SLOTS, quantum: float = QUANTUM_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.slots, self.quantum, self.clock = slots, quantum, clock
        self._cond = threading.Condition()
        self._holding: set[Ticket] = set()
        self._queue: deque[Ticket] = deque()  # waiting, in order of arrival
        self._grants = 0  # slots handed out so far
        self._served: dict[str, int] = {}  # client → the grant that last gave it a slot (at most MAX_REMEMBERED)

    def _order(self, extra: Ticket | None = None, first: bool = False) -> list[Ticket]:
        """The waiting tickets (and ``extra``, as if it arrived now) in the order they get the next slots if no more
        arrive: each time, the client holding the fewest slots, then the one served longest ago (never served
        first), then the one waiting longest; within a client, its first-come ticket. Only the head if ``first``."""
        waiting: dict[str, deque[Ticket]] = {}
        for t in (*self._queue, extra) if extra is not None else self._queue:
            waiting.setdefault(t.client, deque()).append(t)
        held = Counter(t.client for t in self._holding)
        served, grant = dict(self._served), self._grants
        order: list[Ticket] = []
        while waiting:
            client = min(waiting, key=lambda c: (held[c], served.get(c, -1)))  # min keeps the earliest of ties
            order.append(waiting[client].popleft())
            if first:
                break
            if not waiting[client]:
                del waiting[client]
            grant += 1
            held[client] += 1
            served[client] = grant
        return order

    def _wait_turn(self, ticket: Ticket, stop: threading.Event | None) -> bool:
        """Queue ``ticket`` and wait (the lock held) until it is next and a slot is free."""
        ticket.since = None
        self._queue.append(ticket)
        self._cond.notify_all()
        while not (len(self._holding) < self.slots and self._order(first=True)[0] is ticket):
            if stop is not None and stop.is_set():
                self._queue.remove(ticket)
                self._forget(ticket.client)
                self._cond.notify_all()
                return False
            self._cond.wait(0.05)
        self._queue.remove(ticket)
        self._holding.add(ticket)
        self._grants += 1
        self._served[ticket.client] = self._grants
        ticket.since = self.clock()
        self._cond.notify_all()
        return True

    def _forget(self, client: str) -> None:
        """Keep when each client was last served even after its last ticket: forgetting it would put a client that
        restarts its heavy run every quantum ahead of everyone as never served. Only the oldest entries go, so the
        table stays bounded."""
        if len(self._served) > MAX_REMEMBERED:
            active = {t.client for t in (*self._holding, *self._queue)}
            for old in sorted((c for c in self._served if c not in active), key=self._served.get)[:len(self._served) // 2]:
                del self._served[old]

    def enter(self, ticket: Ticket, stop: threading.Event | None = None) -> bool:
        """Wait for a slot in turn; False (and out of the queue) if ``stop`` is set first."""
        with self._cond:
            return self._wait_turn(ticket, stop)

    def leave(self, ticket: Ticket) -> None:
        with self._cond:
            self._holding.discard(ticket)
            if ticket in self._queue:
                self._queue.remove(ticket)
            ticket.since = None
            self._forget(ticket.client)
            self._cond.notify_all()

    def take_turns(self, ticket: Ticket, stop: threading.Event | None = None) -> bool:
        """Between epochs: after ``quantum`` seconds with a slot while others wait, give the slot up and queue again
        (another client waiting gets it first; the client's own jobs take turns in order). Returns False if ``stop``
        was set while waiting for the slot again."""
        with self._cond:
            if ticket.since is None or not self._queue or self.clock() - ticket.since < self.quantum:
                return True
            # Given up and queued again in one step, so the client's turn record is kept (not forgotten).
            self._holding.discard(ticket)
            return self._wait_turn(ticket, stop)

    def ahead(self, ticket: Ticket) -> int | None:
        """Heavy jobs ahead of ``ticket``: those holding slots plus those that get one before it; None if it holds
        one (or is not queued)."""
        with self._cond:
            if ticket not in self._queue:
                return None
            return len(self._holding) + self._order().index(ticket)

    def ahead_of_new(self, client: str) -> int:
        """Heavy jobs that would be ahead of a job ``client`` asked for now."""
        with self._cond:
            extra = Ticket("", client)
            return len(self._holding) + self._order(extra).index(extra)

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._queue)

    @property
    def holding(self) -> int:
        with self._cond:
            return len(self._holding)

    @contextmanager
    def slot(self, what: str, client: str = "") -> Iterator[Ticket]:
        """Hold a slot for a block of work in a script thread, waiting for it in turn."""
        ticket = Ticket(what, client)
        self.enter(ticket)
        try:
            yield ticket
        finally:
            self.leave(ticket)


def heavy(rows: int, epochs: int, columns: int = 1, batch: int = 0) -> bool:
    """Whether a run of ``epochs`` over ``rows`` rows of ``columns`` columns (``batch`` rows a step, 0 = all) is
    estimated to train longer than HEAVY_S, unpaced."""
    steps = 1 if batch <= 0 or batch >= rows else -(-rows // batch)
    return epochs * (steps * STEP_S + rows * max(1, columns) * CELL_S) >= HEAVY_S


def client_key() -> str:
    """Whose heavy work this script run asks for, for the fair share: the browser's address (one person's 24 tabs
    are one client; so is a class behind one NAT address), else this session (the id of one tab: loopback
    visitors, whom Streamlit gives no address, and AppTest). Call it in the script thread; outside a script run
    it is "". Behind a reverse proxy that does not send X-Forwarded-For the address is the proxy's (one client for
    everybody), or none when the proxy is on this machine (each tab its own client); with the header, the
    server trusts it thus: uvicorn, which serves Streamlit, believes that header only from FORWARDED_ALLOW_IPS
    (loopback by default) and takes its rightmost address that is not such a proxy, so a client cannot forge it
    (docs/capacity.md)."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return ""
    address = st.context.ip_address  # AppTest's stand-in connection answers a mock, not a string
    return f"address {address}" if isinstance(address, str) and address else f"session {ctx.session_id}"


def queue_note(ahead: int, what: str = "your run") -> str:
    """What a queued session reads."""
    jobs = "heavy job" if ahead == 1 else "heavy jobs"
    at_once = "one heavy job at a time" if GATE.slots == 1 else f"{GATE.slots} heavy jobs at a time"
    return (f"Queued: {ahead} {jobs} ahead of {what}. This server does {at_once} so that the pages stay quick "
            "for everyone; light runs go at once. It starts by itself.")


GATE = Gate()


PAGE_TURN_WAIT = 1.0  # seconds a page waits for its turn at most: a late holder never stalls the others longer

_page_turn = threading.Lock()


@contextmanager
def page_turn(wait: float = PAGE_TURN_WAIT) -> Iterator[bool]:
    """Pages draw one at a time. When a class presses Train together, or its runs end together, 32 script threads
    each build a page at the same moment; all runnable at once, they queue on the one GIL together with the event
    loop, which then waits behind every one of them at each of its own turns — the health check, the websockets and
    the live charts' stream answered in ~0.5 s. Taking turns, a page's work is as long as before (~20 ms) but the
    event loop competes with one thread, not 32, and the pages come out one by one instead of all at the end.
    Only short, CPU-bound work goes inside: drawing, and starting a run (stopping the session's previous run ends
    it within an epoch); never a wait for a slot or the browser. Yields whether the turn was had (False: ``wait``
    passed, and the page goes on anyway)."""
    got = _page_turn.acquire(timeout=wait)
    try:
        yield got
    finally:
        if got:
            _page_turn.release()


@contextmanager
def heavy_work(heavy: bool, what: str) -> Iterator[None]:
    """Do a block of work in a heavy slot if it is ``heavy`` (the gate above), saying so on the page while
    it waits for one. ``what`` completes "Queued: 2 heavy jobs ahead of …"."""
    if not heavy:
        yield
        return
    import streamlit as st

    client = client_key()
    ahead = GATE.ahead_of_new(client)  # its place in the fair order, not behind everyone queued
    note = st.empty()
    if ahead >= GATE.slots:
        note.info(queue_note(ahead, what), icon=":material/hourglass_top:")
    with GATE.slot(what, client):
        note.empty()
        yield
