"""Background work that never stops silently, and health that says why it is not serving.

Two pieces, used by everything the gateway runs besides answering calls (delivery loops,
checkpoint timers, the commit feed, the screening indexer):

* :class:`HealthBoard` holds the *conditions* currently wrong with the gateway - "the delivery
  loop for INTERPOL-CCC-LYON failed", "writes have failed for 30 s" - each naming the services it
  affects. A service is SERVING when no condition names it. The gateway publishes the board to
  the standard ``grpc.health.v1`` service (the overall status ``""`` is NOT_SERVING while any
  condition stands) and logs each change once.
* :class:`Supervisor` runs named background tasks. A task that raises (or returns while it
  should run) is logged with its error class and a count (rate-limited: the 1st, 2nd, 4th, 8th...
  failure in a row, and at least once a minute), marks its condition on the board, and
  is restarted after a backoff that doubles up to a cap. The condition clears when the restarted
  task has run for ``stable_seconds`` without failing, or as soon as the task reports progress
  (:meth:`Supervised.progress`). Stopping cancels every task and waits for them;
  :meth:`Supervisor.cancel` stops some (a component that stops before the gateway does).

Pure asyncio; no gRPC (the gateway maps the board to the health service).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "BACKOFF_CAP_SECONDS",
    "BACKOFF_INITIAL_SECONDS",
    "STABLE_SECONDS",
    "STOP_SECONDS",
    "Condition",
    "HealthBoard",
    "Supervised",
    "Supervisor",
]

_log = logging.getLogger(__name__)

_LOG_EVERY_SECONDS = 60.0

BACKOFF_INITIAL_SECONDS = 0.5
"""The first restart's delay; each further failure in a row doubles it."""

BACKOFF_CAP_SECONDS = 30.0
"""The longest delay between two restarts."""

STABLE_SECONDS = 10.0
"""How long a restarted task must run without failing before its condition clears (a task that
reports progress clears it at once)."""

STOP_SECONDS = 10.0
"""How long :meth:`Supervisor.stop` waits for cancelled tasks by default: a task that loses its
cancellation (a library that swallows it) must not hold a gateway's shutdown forever."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One thing wrong with the gateway."""

    key: str
    """Who reported it (``delivery:INTERPOL-CCC-LYON``, ``store:writes``); one condition per key."""
    services: frozenset[str]
    """The fully qualified gRPC services it makes NOT_SERVING; the overall status always is."""
    reason: str
    """Why, for operators (no personal data: error classes, counts, durations)."""
    since: float
    """``time.time()`` when it was first reported (kept when the reason is updated)."""


Listener = Callable[[frozenset[str]], None]


class HealthBoard:
    """The conditions that stand, and which services they make NOT_SERVING."""

    def __init__(self) -> None:
        self._conditions: dict[str, Condition] = {}
        self._listeners: list[Listener] = []

    def report(self, key: str, services: Iterable[str], reason: str) -> None:
        """Set the condition ``key`` (replacing its services and reason, keeping its start)."""
        previous = self._conditions.get(key)
        since = previous.since if previous is not None else time.time()
        condition = Condition(key, frozenset(services), reason, since)
        self._conditions[key] = condition
        if previous is None:
            _log.error("health: %s: %s (NOT_SERVING: %s)", key, reason, _named(condition))
        self._changed(condition.services | (previous.services if previous else frozenset()))

    def clear(self, key: str) -> None:
        """The condition ``key`` no longer stands (nothing happens when it did not)."""
        condition = self._conditions.pop(key, None)
        if condition is None:
            return
        lasted = time.time() - condition.since
        _log.warning("health: %s recovered after %.1f s", key, lasted)
        self._changed(condition.services)

    def conditions(self) -> list[Condition]:
        """Every standing condition, oldest first."""
        return sorted(self._conditions.values(), key=lambda c: c.since)

    def serving(self, service: str = "") -> bool:
        """Whether ``service`` (``""``: the gateway as a whole) is SERVING."""
        if not service:
            return not self._conditions
        return not any(service in c.services for c in self._conditions.values())

    def reasons(self, service: str = "") -> list[str]:
        """Why ``service`` (``""``: the gateway) is NOT_SERVING; empty when it is SERVING."""
        return [
            f"{c.key}: {c.reason}"
            for c in self.conditions()
            if not service or service in c.services
        ]

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with the services whose status may have changed (``""`` included)
        after every change; returns a function that unregisters it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _changed(self, services: frozenset[str]) -> None:
        affected = services | {""}
        for listener in tuple(self._listeners):
            try:
                listener(affected)
            except Exception:
                _log.exception("health listener %r failed", listener)


class Supervised:
    """The handle a supervised task receives: report progress, read its restart count."""

    def __init__(self, supervisor: Supervisor, name: str) -> None:
        self._supervisor = supervisor
        self.name = name
        self.restarts = 0
        """How many times the task was restarted after a failure."""
        self.failures_in_a_row = 0
        self.logged_at = float("-inf")
        """``time.monotonic()`` of the last failure logged (failures are logged rate-limited)."""

    def progress(self) -> None:
        """The task did its work once (a batch delivered, a timer fired): a condition reported
        for an earlier failure clears now instead of after ``stable_seconds``."""
        if self.failures_in_a_row:
            self.failures_in_a_row = 0
            self._supervisor.board.clear(self._supervisor.key_of(self.name))


TaskFactory = Callable[[Supervised], Awaitable[None]]


class Supervisor:
    """Runs background tasks, restarting each after a failure with backoff; see the module
    documentation."""

    def __init__(
        self,
        board: HealthBoard,
        *,
        backoff_initial: float = BACKOFF_INITIAL_SECONDS,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
        stable_seconds: float = STABLE_SECONDS,
        on_restart: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Args:
        board: Where failures are reported.
        backoff_initial: The first restart's delay (seconds).
        backoff_cap: The longest delay between restarts.
        stable_seconds: How long a restarted task runs before its condition clears on its own.
        on_restart: Called with the task's name at each restart (a metric counter).
        sleep: Waits between restarts (tests inject a fake clock).
        """
        if backoff_initial <= 0 or backoff_cap < backoff_initial:
            raise ValueError("backoff_initial must be positive and at most backoff_cap")
        self.board = board
        self._initial = backoff_initial
        self._cap = backoff_cap
        self._stable = stable_seconds
        self._on_restart = on_restart
        self._sleep = sleep
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._handles: dict[str, Supervised] = {}
        self._stopping = False

    @staticmethod
    def key_of(name: str) -> str:
        """The health-board key of the task ``name``."""
        return f"task:{name}"

    def spawn(self, name: str, run: TaskFactory, services: Iterable[str] = ()) -> Supervised:
        """Start ``run(handle)`` as the task ``name``, supervised until :meth:`stop`.

        Args:
            name: Unique among this supervisor's tasks (``delivery:INTERPOL-CCC-LYON``).
            run: The task's body; it should run until cancelled.
            services: The gRPC services its failure makes NOT_SERVING (besides the overall one).

        Raises:
            ValueError: a task of that name is already running.
        """
        if name in self._tasks and not self._tasks[name].done():
            raise ValueError(f"a task named {name!r} is already supervised")
        handle = Supervised(self, name)
        self._handles[name] = handle
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._supervise(handle, run, frozenset(services)), name=f"liaison:{name}"
        )
        return handle

    def running(self) -> list[str]:
        """The names of the tasks being supervised."""
        return sorted(name for name, task in self._tasks.items() if not task.done())

    async def cancel(self, names: Iterable[str], grace: float | None = None) -> None:
        """Cancel the tasks ``names`` (not the others) and wait for them (at most ``grace``
        seconds); their conditions no longer stand. Names not supervised are ignored."""
        wanted = set(names)
        tasks = [task for name, task in self._tasks.items() if name in wanted]
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                _log.error("background task %s did not stop within %s s", task.get_name(), grace)
        for name in wanted:
            self._tasks.pop(name, None)
            self._handles.pop(name, None)
            self.board.clear(self.key_of(name))

    async def stop(self, grace: float | None = STOP_SECONDS) -> None:
        """Cancel every task and wait for them (at most ``grace`` seconds; ``None``: until they
        end). A task that does not end in time is left cancelled and logged."""
        self._stopping = True
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            _log.error("background task %s did not stop within %s s", task.get_name(), grace)
        self._tasks.clear()

    async def _supervise(
        self, handle: Supervised, run: TaskFactory, services: frozenset[str]
    ) -> None:
        key = self.key_of(handle.name)
        delay = self._initial
        while True:
            started = time.monotonic()
            clear_when_stable = (
                asyncio.get_running_loop().call_later(self._stable, handle.progress)
                if handle.failures_in_a_row
                else None
            )
            try:
                await run(handle)
            except asyncio.CancelledError:
                if clear_when_stable is not None:
                    clear_when_stable.cancel()
                if self._stopping or _cancelling():
                    raise
                failure = "was cancelled"
            except Exception as error:
                failure = f"failed with {type(error).__name__}"
                # The class and where, never the message: messages may quote data. Rate-limited:
                # the 1st, 2nd, 4th, 8th... failure in a row, and at least one line a minute.
                in_a_row = handle.failures_in_a_row + 1
                now = time.monotonic()
                if in_a_row & (in_a_row - 1) == 0 or now - handle.logged_at >= _LOG_EVERY_SECONDS:
                    handle.logged_at = now
                    _log.error(
                        "background task %s %s (%d failure(s) in a row, %d restart(s) so far; "
                        "restart %d in %.1f s)",
                        handle.name,
                        failure,
                        in_a_row,
                        handle.restarts,
                        handle.restarts + 1,
                        delay,
                        exc_info=_log.isEnabledFor(logging.DEBUG),
                    )
            else:
                if self._stopping:
                    return
                failure = "ended unexpectedly"
                _log.error("background task %s %s", handle.name, failure)
            finally:
                if clear_when_stable is not None:
                    clear_when_stable.cancel()
            if self._stopping:
                return
            if time.monotonic() - started >= self._stable:
                delay = self._initial  # it had been running fine: start the backoff over
            handle.failures_in_a_row += 1
            self.board.report(
                key,
                services,
                f"{failure}; {handle.failures_in_a_row} failure(s) in a row, restarting",
            )
            await self._sleep(delay)
            delay = min(delay * 2, self._cap)
            handle.restarts += 1
            if self._on_restart is not None:
                self._on_restart(handle.name)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _named(condition: Condition) -> str:
    return ", ".join(sorted(condition.services)) or "the gateway"
