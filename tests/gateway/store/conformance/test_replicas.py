"""Replica writes on every store: records forwarded by a peer keep their origin's versions."""

from __future__ import annotations

import dataclasses

from gateway.store import (
    OriginConflict,
    RecordStore,
    StoredVersion,
    VersionConflict,
    WriteItem,
)
from liaison.rules.intake import prepare_record, prepare_replica
from tests.support.factories import person


def _replica(record_id: str, version: int, family: str, origin: str = "WCO-I2C") -> WriteItem:
    """Version ``version`` of the WCO-I2C record ``record_id``, as forwarded, naming ``origin``
    as its originating centre (prepare_replica refuses an origin other than the id's namespace;
    the store is the last line of defence, and these items reach it directly)."""
    record = person(record_id)
    record.person.names[0].family = family
    record.provenance.originating_centre = "WCO-I2C"
    record.version = version
    item = prepare_replica(record)
    return dataclasses.replace(item, keys=dataclasses.replace(item.keys, originating_centre=origin))


async def test_a_replica_keeps_its_version_and_a_resend_is_a_duplicate(
    store: RecordStore,
) -> None:
    [stored] = await store.write([_replica("WCO-I2C:r1", 3, "ALPHA")])
    assert isinstance(stored, StoredVersion)
    assert (stored.version, stored.duplicate) == (3, False)
    [again] = await store.write([_replica("WCO-I2C:r1", 3, "ALPHA")])
    assert isinstance(again, StoredVersion)
    assert (again.version, again.duplicate, again.sequence) == (3, True, stored.sequence)
    latest = await store.get("WCO-I2C:r1")
    assert latest is not None
    assert latest.version == 3


async def test_other_content_under_a_taken_version_is_a_conflict(
    store: RecordStore,
) -> None:
    await store.write([_replica("WCO-I2C:r1", 2, "ALPHA")])
    [conflict] = await store.write([_replica("WCO-I2C:r1", 2, "BETA")])
    assert conflict == VersionConflict("WCO-I2C:r1", 2, 2)
    # ... also within one transaction.
    first, second = await store.write(
        [_replica("WCO-I2C:r2", 1, "A"), _replica("WCO-I2C:r2", 1, "B")]
    )
    assert isinstance(first, StoredVersion)
    assert second == VersionConflict("WCO-I2C:r2", 1, 1)


async def test_an_older_replica_arriving_late_does_not_move_the_head(
    store: RecordStore,
) -> None:
    await store.write([_replica("WCO-I2C:r1", 5, "NEWER")])
    [older] = await store.write([_replica("WCO-I2C:r1", 4, "OLDER")])
    assert isinstance(older, StoredVersion)
    assert older.version == 4
    head = await store.get("WCO-I2C:r1")
    assert head is not None
    assert head.version == 5
    old = await store.get("WCO-I2C:r1", 4)
    assert old is not None
    assert old.version == 4
    # Out of order inside one transaction: the highest version is the head.
    await store.write([_replica("WCO-I2C:r3", 2, "TWO"), _replica("WCO-I2C:r3", 1, "ONE")])
    head = await store.get("WCO-I2C:r3")
    assert head is not None
    assert head.version == 2


async def test_a_record_never_changes_its_originating_centre(store: RecordStore) -> None:
    await store.write([_replica("WCO-I2C:r1", 1, "ALPHA")])
    # Another centre claims the record: as a replica, or as its own new record.
    [claimed] = await store.write([_replica("WCO-I2C:r1", 2, "FORGED", origin="INTERPOL-CCC-LYON")])
    assert claimed == OriginConflict("WCO-I2C:r1", "WCO-I2C")
    own_item = prepare_record(person("r1"), "INTERPOL-CCC-LYON")
    [own] = await store.write([dataclasses.replace(own_item, record_id="WCO-I2C:r1")])
    assert own == OriginConflict("WCO-I2C:r1", "WCO-I2C")
    # Refused before duplicates are looked at: the answer does not depend on stored content.
    [same_content] = await store.write(
        [_replica("WCO-I2C:r1", 1, "ALPHA", origin="INTERPOL-CCC-LYON")]
    )
    assert same_content == OriginConflict("WCO-I2C:r1", "WCO-I2C")
    head = await store.get("WCO-I2C:r1")
    assert head is not None
    assert (head.version, head.originating_centre) == (1, "WCO-I2C")
    # ... also within one transaction: the first origin named wins.
    first, second = await store.write(
        [_replica("WCO-I2C:r2", 1, "A"), _replica("WCO-I2C:r2", 2, "B", origin="INTERPOL-CCC-LYON")]
    )
    assert isinstance(first, StoredVersion)
    assert second == OriginConflict("WCO-I2C:r2", "WCO-I2C")
