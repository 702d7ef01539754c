"""The supervisor restarts failed background tasks with backoff and reports them on the health
board until they recover; the board says which services are NOT_SERVING and why."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.supervision import HealthBoard, Supervised, Supervisor

EXCHANGE = "liaison.v1.RecordExchange"
ADMIN = "liaison.v1.FederationAdmin"


class FakeSleep:
    """Records the delays asked for and returns at once (after yielding to the loop)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def test_the_board_names_services_and_reasons() -> None:
    board = HealthBoard()
    changes: list[frozenset[str]] = []
    board.add_listener(changes.append)
    assert board.serving()
    assert board.serving(EXCHANGE)
    board.report("store:writes", [EXCHANGE], "writes failing for 31 s")
    assert not board.serving()
    assert not board.serving(EXCHANGE)
    assert board.serving(ADMIN)
    assert board.reasons(EXCHANGE) == ["store:writes: writes failing for 31 s"]
    assert board.reasons(ADMIN) == []
    first = board.conditions()[0].since
    board.report("store:writes", [EXCHANGE], "writes failing for 62 s")
    assert board.conditions()[0].since == first  # an update keeps the start
    board.clear("store:writes")
    board.clear("store:writes")  # twice: nothing more happens
    assert board.serving()
    assert board.serving(EXCHANGE)
    assert changes == [frozenset({EXCHANGE, ""})] * 3


async def test_a_failing_task_is_restarted_with_doubling_backoff_up_to_the_cap(
    caplog: pytest.LogCaptureFixture,
) -> None:
    board = HealthBoard()
    sleep = FakeSleep()
    restarts: list[str] = []
    supervisor = Supervisor(
        board, backoff_initial=1, backoff_cap=4, on_restart=restarts.append, sleep=sleep
    )
    runs = 0
    finished = asyncio.Event()

    async def flaky(handle: Supervised) -> None:
        nonlocal runs
        runs += 1
        if runs <= 5:
            raise OSError("database or disk is full: /secret/path")
        handle.progress()
        finished.set()
        await asyncio.Event().wait()

    with caplog.at_level(logging.ERROR):
        handle = supervisor.spawn("delivery:LYON", flaky, [ADMIN])
        await asyncio.wait_for(finished.wait(), 5)
    assert sleep.delays == [1, 2, 4, 4, 4]
    assert handle.restarts == 5
    assert restarts == ["delivery:LYON"] * 5
    # Progress after the restart cleared the condition at once.
    assert board.serving()
    assert board.serving(ADMIN)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "delivery:LYON failed with OSError" in logged
    assert "/secret/path" not in logged  # messages may quote data: never logged
    await supervisor.stop(grace=1)
    assert supervisor.running() == []


async def test_a_failed_task_turns_its_services_not_serving_until_it_recovers() -> None:
    board = HealthBoard()
    gate = asyncio.Event()
    sleep_reached = asyncio.Event()

    async def held_sleep(_: float) -> None:
        sleep_reached.set()
        await gate.wait()

    supervisor = Supervisor(board, stable_seconds=0.05, sleep=held_sleep)
    attempts = 0

    async def once_broken(handle: Supervised) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("boom")
        await asyncio.Event().wait()

    supervisor.spawn("checkpoints", once_broken, [ADMIN])
    await asyncio.wait_for(sleep_reached.wait(), 5)
    assert not board.serving(ADMIN)
    assert board.reasons(ADMIN) == [
        "task:checkpoints: failed with RuntimeError; 1 failure(s) in a row, restarting"
    ]
    gate.set()
    # Restarted and stable for stable_seconds: the condition clears without progress reports.
    for _ in range(200):
        if board.serving(ADMIN):
            break
        await asyncio.sleep(0.01)
    assert board.serving(ADMIN)
    assert attempts == 2
    await supervisor.stop(grace=1)


async def test_a_task_that_returns_is_restarted_too() -> None:
    board = HealthBoard()
    sleep = FakeSleep()
    supervisor = Supervisor(board, sleep=sleep)
    calls = 0
    forever = asyncio.Event()

    async def returns_once(_: Supervised) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            forever.set()
            await asyncio.Event().wait()

    supervisor.spawn("feed", returns_once)
    await asyncio.wait_for(forever.wait(), 5)
    assert calls == 2
    assert board.reasons() == ["task:feed: ended unexpectedly; 1 failure(s) in a row, restarting"]
    await supervisor.stop(grace=1)


async def test_stop_cancels_tasks_without_reporting_them() -> None:
    board = HealthBoard()
    supervisor = Supervisor(board)
    started = asyncio.Event()

    async def forever(_: Supervised) -> None:
        started.set()
        await asyncio.Event().wait()

    supervisor.spawn("a", forever)
    supervisor.spawn("b", forever)
    await started.wait()
    assert supervisor.running() == ["a", "b"]
    with pytest.raises(ValueError, match="already supervised"):
        supervisor.spawn("a", forever)
    await supervisor.stop(grace=1)
    assert supervisor.running() == []
    assert board.serving()


async def test_stop_is_bounded_when_a_task_loses_its_cancellation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The way asyncio.wait_for loses a cancellation on Python 3.11 (the awaited event is set in
    # the same loop turn as the cancel): the task goes on waiting. The gateway's stop once hung
    # on exactly this in the screening task.
    board = HealthBoard()
    supervisor = Supervisor(board)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def deaf(_: Supervised) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
        await asyncio.Event().wait()

    supervisor.spawn("deaf", deaf)
    await started.wait()
    task = next(t for t in asyncio.all_tasks() if t.get_name() == "liaison:deaf")
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(supervisor.stop(grace=0.2), 5)
    assert cancelled.is_set()
    assert not task.done()
    assert "background task liaison:deaf did not stop within 0.2 s" in caplog.text
    task.cancel()  # the second cancellation reaches it
    with pytest.raises(asyncio.CancelledError):
        await task


def test_backoff_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        Supervisor(HealthBoard(), backoff_initial=0)
    with pytest.raises(ValueError):
        Supervisor(HealthBoard(), backoff_initial=5, backoff_cap=1)
