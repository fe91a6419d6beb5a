"""The resource governor: keeps the agent inside its `Budget`, measured, not hoped for.

The caller does its work in small units (a file, a batch) and calls `Governor.step`
between them. `step` measures the CPU time of this process and its children and sleeps
just long enough that, when it returns, the average share is at most ``cpu_percent`` of
ONE core (25 % = 0.25 CPU-seconds per wall-clock second) over both

- the sliding window (``window`` seconds, 10 by default) that ends then: its CPU time is
  read off the samples, flat during sleeps and linear within a unit of work; and
- the span since the last return of `step` at or before the window's start:
  ``sleep = CPU used since then / share - wall time since then``, which holds units of
  work longer than the window to the share too, and keeps the whole run within it. The OS priority
(`platform.lower_priority`) only decides who goes first when the machine is busy; the
governor is what holds the share when the machine is idle, too.

`Governor.paused` says why the caller should take no new work now ("on battery",
"user active", "memory"), and `Governor.stats` says what was measured and done, for
status and heartbeats.

Measuring is cheap: the process's own times every `interval` seconds (one ``/proc``
read on Linux), and its child processes looked up again only every `refresh` seconds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from ftiscan.agent import platform
from ftiscan.agent.config import Budget

__all__ = ["Governor", "GovernorStats", "ProcessTree"]

MEMORY, BATTERY, USER = "memory", "on battery", "user active"
"""The reasons `Governor.paused` gives."""


class ProcessTree:
    """CPU seconds and resident bytes of this process and all its descendants.

    Children are found again every ``refresh`` seconds; one that started in between is
    counted, with all its CPU time, at the next look. Finished children that were
    waited for are in the parent's ``children_*`` times. The CPU total never goes
    backwards (a child caught between exit and wait is briefly unreadable).
    """

    def __init__(self, refresh: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._me = psutil.Process()
        self._refresh, self._clock = refresh, clock
        self._children: list[psutil.Process] = []
        self._found = -float("inf")
        self._cpu = 0.0

    def _tree(self) -> list[psutil.Process]:
        now = self._clock()
        if now - self._found >= self._refresh:
            try:
                self._children = self._me.children(recursive=True)
            except psutil.Error:
                self._children = []
            self._found = now
        return [self._me, *self._children]

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the tree, including waited-for children."""
        total = 0.0
        for proc in self._tree():
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system + t.children_user + t.children_system
        self._cpu = max(self._cpu, total)
        return self._cpu

    def rss_bytes(self) -> int:
        """Resident memory of the tree, in bytes."""
        total = 0
        for proc in self._tree():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total


@dataclass(frozen=True)
class GovernorStats:
    """What the governor measured and did since it started."""

    cpu_share: float  # CPU-seconds per wall second over the window (0.25 = 25 % of a core)
    budget_share: float  # the same, allowed
    window_seconds: float  # the wall time the share was measured over
    slept_seconds: float  # total time `step` slept
    sleeps: int  # how many times `step` slept
    pauses: dict[str, int]  # times `paused` began giving each reason
    paused_seconds: dict[str, float]  # time spent paused, by reason
    user_activity_known: bool | None  # False: this OS cannot tell (pause_when_user_active moot)

    def to_json(self) -> dict[str, object]:
        """Integers only (canonical JSON has no floats): per mille and milliseconds."""
        return {
            "cpu_share_permille": round(self.cpu_share * 1000),
            "budget_share_permille": round(self.budget_share * 1000),
            "window_ms": round(self.window_seconds * 1000),
            "slept_ms": round(self.slept_seconds * 1000),
            "sleeps": self.sleeps,
            "pauses": dict(sorted(self.pauses.items())),
            "paused_ms": {k: round(v * 1000) for k, v in sorted(self.paused_seconds.items())},
            "user_activity_known": self.user_activity_known,
        }


class Governor:
    """Holds CPU share, memory and pause conditions to a `Budget` (see the module docstring).

    ``sleep`` may be an interruptible wait such as ``threading.Event().wait`` (a stop
    ends the sleep early; the next `step` sleeps what is still owed). ``clock`` and
    ``cpu_times`` (CPU-seconds of the process tree) are there for tests.
    """

    def __init__(
        self,
        budget: Budget,
        clock: Callable[[], float] = time.monotonic,
        cpu_times: Callable[[], float] | None = None,
        *,
        sleep: Callable[[float], object] = time.sleep,
        rss_bytes: Callable[[], int] | None = None,
        on_battery: Callable[[], bool | None] = platform.on_battery,
        user_idle_seconds: Callable[[], float | None] = platform.user_idle_seconds,
        window: float = 10.0,
        interval: float = 0.05,
        check_every: float = 2.0,
    ) -> None:
        if cpu_times is None or rss_bytes is None:
            tree = ProcessTree(clock=clock)
            cpu_times = cpu_times or tree.cpu_seconds
            rss_bytes = rss_bytes or tree.rss_bytes
        self.budget = budget
        self._share = budget.cpu_percent / 100
        self._clock, self._sleep = clock, sleep
        self._cpu, self._rss = cpu_times, rss_bytes
        self._on_battery, self._idle = on_battery, user_idle_seconds
        self._window, self._interval, self._check_every = window, interval, check_every
        now = clock()
        first = (now, self._cpu())
        self._samples: deque[tuple[float, float]] = deque([first])  # every measurement
        self._returns: deque[tuple[float, float]] = deque([first])  # those step returned at
        self._slept, self._sleeps = 0.0, 0
        self._pauses: dict[str, int] = {}
        self._paused_seconds: dict[str, float] = {}
        self._reason: str | None = None
        self._checked_at = -float("inf")
        self._reason_since = now
        self._user_known: bool | None = None

    def _cpu_at(self, when: float) -> float:
        """CPU-seconds used by ``when``, read off the samples (linear between two)."""
        samples = self._samples
        previous = samples[0]
        if when <= previous[0]:
            return previous[1]
        for sample in samples:
            if sample[0] >= when:
                (ta, ca), (tb, cb) = previous, sample
                return ca + (cb - ca) * (when - ta) / (tb - ta)
            previous = sample
        return previous[1]

    def _owed(self, now: float, cpu: float) -> float:
        """The shortest sleep after which both hold: the share since the last return of
        `step` at or before the window's start is at most the budget, and so is the share
        over the window that ends when the sleep does. Measuring from a return (where the
        share held) and not from any sample lets no excess build up over a long run."""
        share, window = self._share, self._window
        start_t, start_cpu = self._returns[0]
        owed = (cpu - start_cpu) / share - (now - start_t)  # also covers units longer than W
        target = cpu - share * window  # CPU that must be older than the window
        previous = self._samples[0]
        if previous[1] >= target:
            return max(0.0, owed)
        for sample in self._samples:  # when did the CPU used reach target? (flat in sleeps)
            if sample[1] >= target:
                (ta, ca), (tb, cb) = previous, sample
                reached = ta + (tb - ta) * (target - ca) / (cb - ca)
                return max(0.0, owed, reached + window - now)
            previous = sample
        return max(0.0, owed)  # unreachable: the newest sample holds cpu itself

    def step(self) -> float:
        """Sleep as long as the CPU budget needs (often not at all); return the seconds slept."""
        now = self._clock()
        samples = self._samples
        if now - samples[-1][0] < self._interval:
            return 0.0  # measured a moment ago: the next step will catch up
        cpu = self._cpu()
        samples.append((now, cpu))
        for kept in (samples, self._returns):  # keep the last one at or before the window
            while len(kept) > 1 and kept[1][0] <= now - self._window:
                kept.popleft()
        owed = self._owed(now, cpu)
        if owed <= 0:
            self._returns.append((now, cpu))
            return 0.0
        self._sleep(owed)
        after = self._clock()
        slept = max(0.0, after - now)
        self._slept += slept
        self._sleeps += 1
        samples.append((after, self._cpu()))
        self._returns.append(samples[-1])
        return slept

    def paused(self) -> str | None:
        """Why no new work should start now ("on battery", "user active", "memory"), or None.

        The checks run at most every ``check_every`` seconds; in between the last answer
        stands. Memory is checked first: above ``memory_mb`` the caller should finish what
        it holds and take nothing new until this returns None.
        """
        now = self._clock()
        if now - self._checked_at >= self._check_every:
            self._checked_at = now
            reason = self._check()
            if self._reason is not None:
                spent = now - self._reason_since
                self._paused_seconds[self._reason] = self._paused_seconds.get(self._reason, 0.0)
                self._paused_seconds[self._reason] += spent
            if reason is not None and reason != self._reason:
                self._pauses[reason] = self._pauses.get(reason, 0) + 1
            self._reason, self._reason_since = reason, now
        return self._reason

    def _check(self) -> str | None:
        budget = self.budget
        if self._rss() > budget.memory_mb * 1024 * 1024:
            return MEMORY
        if budget.pause_on_battery and self._on_battery() is True:
            return BATTERY
        if budget.pause_when_user_active:
            idle = self._idle()
            self._user_known = idle is not None
            if idle is not None and idle < budget.idle_seconds:
                return USER
        return None

    def stats(self) -> GovernorStats:
        """The share measured over the current window, the time slept, the pauses."""
        now = self._clock()
        since = max(self._samples[0][0], now - self._window)
        wall = now - since
        used = max(self._cpu(), self._samples[-1][1]) - self._cpu_at(since)
        paused = dict(self._paused_seconds)
        if self._reason is not None:
            paused[self._reason] = paused.get(self._reason, 0.0) + now - self._reason_since
        return GovernorStats(
            cpu_share=used / wall if wall > 0 else 0.0,
            budget_share=self._share,
            window_seconds=wall,
            slept_seconds=self._slept,
            sleeps=self._sleeps,
            pauses=dict(self._pauses),
            paused_seconds=paused,
            user_activity_known=self._user_known,
        )
