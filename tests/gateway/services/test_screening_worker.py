"""The screening index in its worker process (``[screening] worker = "process"``, the default).

The rest of the suite runs the index on a worker thread (``tests/conftest.py``), which behaves
alike; these tests are about the process: it screens, it stops with the gateway (cleanly, or
killed), and a worker killed with SIGKILL is noticed on the health board, replaced, and its index
rebuilt from the store, with nothing acknowledged left unscreened.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path

import pytest

from gateway.config import CentreConfig
from gateway.screening import subjects_from_records
from gateway.screening.settings import ScreeningSettings
from gateway.server import Gateway
from gateway.services.screening import SERVICE_NAME as SCREENING_SERVICE
from gateway.services.screening_worker import ScreeningWorkerError
from liaison.rules.intake import prepare_record
from tests.conftest import TEST_CENTRE, make_config
from tests.support.polling import until
from tests.support.processes import GatewayProcess
from tests.support.screening_records import red_notice, screened, traveller

WORKER_MODULE = "gateway.screening.worker_process"


def process_config(tmp_path: Path) -> CentreConfig:
    """The test configuration with the index in its worker process."""
    config = make_config(tmp_path)
    return dataclasses.replace(config, screening=ScreeningSettings(worker="process"))


def running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def screening_workers_of(pid: int) -> list[int]:
    """The screening worker processes among the children of ``pid``."""
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
        children = [int(child) for child in listing.read().split()]
    found = []
    for child in children:
        with open(f"/proc/{child}/cmdline", "rb") as cmdline:
            if WORKER_MODULE.encode() in cmdline.read():
                found.append(child)
    return found


async def hit_subjects(gateway: Gateway) -> list[str]:
    hits = await gateway.store.read_since(0, 100, kinds=frozenset({"screening_hit"}))
    return sorted(h.to_message().screening_hit.subject_record_id for h in hits)


async def test_the_worker_process_screens_and_stops_with_the_gateway(tmp_path: Path) -> None:
    gateway = Gateway(process_config(tmp_path))
    await gateway.start()
    pid = gateway.screening.worker_pid
    try:
        assert pid is not None
        assert pid != os.getpid()
        assert running(pid)
        await gateway.store.write(
            [prepare_record(red_notice(f"{TEST_CENTRE}:notice:1"), TEST_CENTRE)]
        )
        await gateway.store.write([prepare_record(traveller(f"{TEST_CENTRE}:pax:1"), TEST_CENTRE)])
        await screened(gateway)
        assert await hit_subjects(gateway) == [f"{TEST_CENTRE}:pax:1"]
        assert gateway.screening.indexed_records == 1
    finally:
        await gateway.stop(grace=0)
    assert not running(pid), "the worker process ended with the gateway"


async def test_a_killed_worker_is_noticed_replaced_and_loses_no_screening(tmp_path: Path) -> None:
    gateway = Gateway(process_config(tmp_path))
    await gateway.start()
    serving: list[bool] = []
    gateway.health.add_listener(lambda _: serving.append(gateway.health.serving(SCREENING_SERVICE)))
    try:
        await gateway.store.write(
            [prepare_record(red_notice(f"{TEST_CENTRE}:notice:1"), TEST_CENTRE)]
        )
        await screened(gateway)
        killed = gateway.screening.worker_pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        # Acknowledged while the worker is dead or being replaced: a subject to screen, and a
        # list entry that the new worker's index must have.
        await gateway.store.write([prepare_record(traveller(f"{TEST_CENTRE}:pax:1"), TEST_CENTRE)])
        await gateway.store.write(
            [
                prepare_record(
                    red_notice(f"{TEST_CENTRE}:notice:2", "ZAITSEV", "ILYA"),
                    TEST_CENTRE,
                )
            ]
        )
        await until(lambda: gateway.screening.worker_pid not in (None, killed), within=30)
        await screened(gateway)
        assert await hit_subjects(gateway) == [f"{TEST_CENTRE}:pax:1"]
        assert gateway.screening.indexed_records == 2, "rebuilt from the store"
        assert False in serving, "the dead worker made the Screening service NOT_SERVING"
        await until(lambda: gateway.health.serving(SCREENING_SERVICE), within=30)
        assert not running(killed)
        new = gateway.screening.worker_pid
        assert new is not None
        assert running(new)
        [found] = await gateway.screening.screen(
            subjects_from_records([traveller("", "ZAITSEV", "ILYA")])
        )
        assert [m.entry.record_id for m in found] == [f"{TEST_CENTRE}:notice:2"]
    finally:
        await gateway.stop(grace=0)
    assert not running(new)


async def test_screen_calls_are_unavailable_while_the_worker_is_dead(tmp_path: Path) -> None:
    gateway = Gateway(process_config(tmp_path))
    await gateway.start()
    try:
        # Stop the supervised task first, so that nothing replaces the worker under the test.
        await gateway.supervisor.cancel(["screening"])
        killed = gateway.screening.worker_pid
        assert killed is not None
        subjects = subjects_from_records([traveller("", "ZAITSEV", "ILYA")])
        assert await gateway.screening.screen(subjects) == [[]]
        os.kill(killed, signal.SIGKILL)

        async def refused() -> bool:
            try:
                await gateway.screening.screen(subjects)
            except ScreeningWorkerError:
                return True
            return False  # the desk has not yet read the end of the pipe

        await until(refused)
    finally:
        await gateway.stop(grace=0)


@pytest.mark.slow
async def test_a_killed_gateway_leaves_no_worker_behind(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path / "gateway.db")
    gateway.start()
    try:
        assert gateway.process is not None
        [worker] = screening_workers_of(gateway.process.pid)
        assert running(worker)
        gateway.kill()
        # The end of its input ends it: no orphan screening process outlives the gateway.
        await until(lambda: not running(worker), within=30)
    finally:
        gateway.kill()
