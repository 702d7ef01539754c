"""A store's life: opened once, closed after its queued writes, reopened with everything kept."""

from __future__ import annotations

import asyncio

import pytest

from gateway.store import StoreClosedError, StoredVersion
from tests.gateway.store.conformance.conftest import StoreFactory
from tests.support.store import make_item


async def test_an_unopened_store_refuses_work(store_factory: StoreFactory) -> None:
    store = store_factory.create()

    with pytest.raises(StoreClosedError):
        await store.write([make_item("rec-1")])
    with pytest.raises(StoreClosedError):
        await store.last_sequence()
    await store.close()
    with pytest.raises(StoreClosedError):
        await store.open()


async def test_a_store_opens_once(store_factory: StoreFactory) -> None:
    async with store_factory.opened() as store:
        with pytest.raises(StoreClosedError):
            await store.open()


async def test_close_commits_every_queued_write_and_refuses_new_ones(
    store_factory: StoreFactory,
) -> None:
    store = store_factory.create()
    await store.open()
    writes = [asyncio.ensure_future(store.write([make_item(f"rec-{n}")])) for n in range(50)]
    await asyncio.sleep(0)  # queued, not yet answered

    closing = asyncio.ensure_future(store.close())
    await asyncio.sleep(0)
    with pytest.raises(StoreClosedError):
        await store.write([make_item("late")])
    with pytest.raises(StoreClosedError):
        await store.get("rec-1")
    await closing

    outcomes = [await write for write in writes]
    assert sorted(o.sequence for [o] in outcomes if isinstance(o, StoredVersion)) == list(
        range(1, 51)
    )
    await store.close()  # idempotent
    with pytest.raises(StoreClosedError):
        await store.write([make_item("late")])
    async with store_factory.opened() as reopened:
        assert [r.record_id for r in await reopened.read_since(0, 100)] == [
            f"rec-{n}" for n in range(50)
        ]


async def test_concurrent_closes_all_wait_for_the_end(store_factory: StoreFactory) -> None:
    store = store_factory.create()
    await store.open()
    write = asyncio.ensure_future(store.write([make_item("rec-1")]))
    await store.get("warm-up")

    await asyncio.gather(store.close(), store.close(), store.close())

    assert write.done()
    with pytest.raises(StoreClosedError):
        await store.write([make_item("late")])


async def test_reopening_keeps_everything_and_goes_on_numbering(
    store_factory: StoreFactory,
) -> None:
    async with store_factory.opened() as store:
        await store.write([make_item("rec-1", "A"), make_item("rec-2"), make_item("rec-3")])
        before = await store.read_since(0, 10)

    async with store_factory.opened() as store:
        assert await store.read_since(0, 10) == before
        assert await store.last_sequence() == 3
        [again] = await store.write([make_item("rec-1", "A")])
        [new] = await store.write([make_item("rec-1", "B")])

    assert isinstance(again, StoredVersion)
    assert (again.version, again.sequence, again.duplicate) == (1, 1, True)
    assert isinstance(new, StoredVersion)
    assert (new.version, new.sequence) == (2, 4)


async def test_stores_of_different_names_share_nothing(store_factory: StoreFactory) -> None:
    async with store_factory.opened("one") as one, store_factory.opened("two") as two:
        await one.write([make_item("rec-1")])

        assert await two.get("rec-1") is None
        assert await two.last_sequence() == 0
