"""Red team: a subject acknowledged before a crash is still screened.

Automatic screening runs after the commit, on the desk's own task, so that it never holds a
commit up. A gateway killed (SIGKILL, power loss) between a commit and the desk applying it has
acknowledged a traveller that was never screened. The model here is exact: the records are
committed to the store of a gateway that ran before, by no running desk - as a killed gateway
leaves them - and a gateway is then started on that store.

WRONG: the desk rebuilt its index at start but did not screen the subjects committed after the
last ones it screened - nothing recorded how far it got - so the traveller was never screened:
a missed hit, silently.

RIGHT: a durable cursor beside the store (``<store>.screening.db``) says how far automatic
screening got; at start the subjects committed after it are screened."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest

from gateway.screening.settings import ScreeningSettings
from gateway.server import Gateway
from gateway.store import SqliteRecordStore
from liaison.rules.intake import prepare_record
from tests.conftest import TEST_CENTRE, make_config
from tests.support.screening_records import red_notice, screened, traveller


@pytest.mark.parametrize("worker", ["process", "thread"])
async def test_a_traveller_committed_just_before_a_crash_is_screened_at_restart(
    tmp_path: Path, worker: Literal["process", "thread"]
) -> None:
    config = dataclasses.replace(make_config(tmp_path), screening=ScreeningSettings(worker=worker))
    first = Gateway(config)
    await first.start()
    await first.stop(grace=0)
    store = SqliteRecordStore(config.storage.path, synchronous="normal")
    await store.open()
    try:
        # Screened against, and screened, by the gateway that was killed:
        await store.write([prepare_record(red_notice(f"{TEST_CENTRE}:notice:1"), TEST_CENTRE)])
        # Acknowledged, then the gateway was killed before its desk got to it:
        await store.write([prepare_record(traveller(f"{TEST_CENTRE}:pax:1"), TEST_CENTRE)])
    finally:
        await store.close()
    gateway = Gateway(config)
    await gateway.start()
    try:
        # A later commit the desk applies in order: once it is through, so is all before it.
        await gateway.store.write(
            [prepare_record(traveller(f"{TEST_CENTRE}:pax:2", "NOBODY", "ELSE"), TEST_CENTRE)]
        )
        await screened(gateway)
        hits = await gateway.store.read_since(0, 100, kinds=frozenset({"screening_hit"}))
        assert [h.to_message().screening_hit.subject_record_id for h in hits] == [
            f"{TEST_CENTRE}:pax:1"
        ]
    finally:
        await gateway.stop(grace=0)


async def test_a_clean_restart_screens_nothing_again(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    first = Gateway(config)
    await first.start()
    try:
        await first.store.write(
            [prepare_record(red_notice(f"{TEST_CENTRE}:notice:1"), TEST_CENTRE)]
        )
        await first.store.write([prepare_record(traveller(f"{TEST_CENTRE}:pax:1"), TEST_CENTRE)])
        await screened(first)
        assert first.screening.hits_stored == 1
    finally:
        await first.stop(grace=0)
    second = Gateway(config)
    await second.start()
    try:
        await second.store.write(
            [prepare_record(traveller(f"{TEST_CENTRE}:pax:2", "NOBODY", "ELSE"), TEST_CENTRE)]
        )
        await screened(second)
        assert second.screening.hits_stored == 0
        hits = await second.store.read_since(0, 100, kinds=frozenset({"screening_hit"}))
        assert len(hits) == 1
    finally:
        await second.stop(grace=0)
