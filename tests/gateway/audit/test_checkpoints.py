"""The checkpointer takes and deposits this centre's checkpoints; the desk keeps its peers' only
from the centre they name and only when their signatures verify."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.audit.checkpoint_book import CheckpointBook
from gateway.audit.checkpoints import statement_of
from gateway.audit.log import AuditLog, iter_stored
from gateway.audit.settings import CheckpointPolicy
from gateway.errors import InvalidArgumentError
from gateway.federation.checkpoints import (
    AuditCheckpoints,
    CheckpointDesk,
    Checkpointer,
    CheckpointRefusedError,
    CheckpointStartError,
)
from gateway.security.authorization import Caller
from liaison.v1 import federation_pb2
from tests.support.audit_logs import (
    CENTRE,
    PEER,
    SigningCentre,
    key_ring,
    tamper,
    write_log,
)


class _Peer:
    """A peer that keeps what it is given, or is down."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.kept: list[federation_pb2.AuditCheckpoint] = []

    async def keep_checkpoint(self, checkpoint: federation_pb2.AuditCheckpoint) -> int:
        if self.down:
            raise ConnectionError("peer down")
        self.kept.append(checkpoint)
        return len(self.kept)


@pytest.fixture
async def audit(tmp_path: Path) -> AsyncIterator[AuditLog]:
    log = AuditLog(tmp_path / "audit.db")
    await log.open()
    yield log
    await log.close()


@pytest.fixture
async def book(audit: AuditLog) -> AsyncIterator[CheckpointBook]:
    opened = CheckpointBook(audit.path)
    await opened.open()
    yield opened
    await opened.close()


async def _append(audit: AuditLog, count: int) -> None:
    for index in range(count):
        await audit.append(actor="local", action="read", outcome="ok", record_ids=[f"r{index}"])


def _checkpointer(
    audit: AuditLog,
    book: CheckpointBook,
    centre: SigningCentre,
    peers: dict[str, _Peer],
    policy: CheckpointPolicy | None = None,
) -> Checkpointer:
    return Checkpointer(
        audit=audit,
        book=book,
        signer=centre.signer,
        key_ring=key_ring(centre),
        peers=peers,
        policy=policy,
    )


async def _until(condition: object, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def test_a_round_checkpoints_a_grown_log_and_deposits_it_with_every_peer(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook
) -> None:
    centre = SigningCentre(tmp_path)
    lyon, other = _Peer(), _Peer()
    checkpointer = _checkpointer(audit, book, centre, {PEER: lyon, "OTHER": other})
    assert await checkpointer.checkpoint() is None  # nothing to anchor yet

    await _append(audit, 3)
    first = await checkpointer.checkpoint()
    assert first is not None
    assert (first.centre, first.entries, first.head_hash) == (CENTRE, 3, audit.head.hash)
    assert first.key_id == centre.spec.key_id
    assert [c.entries for c in lyon.kept] == [3]
    assert [c.entries for c in other.kept] == [3]
    assert await book.newest(CENTRE) == [first]

    assert await checkpointer.checkpoint() == first  # no growth: nothing new, nothing resent
    assert len(lyon.kept) == 1
    await _append(audit, 1)
    second = await checkpointer.checkpoint()
    assert second is not None
    assert second.entries == 4
    assert [c.entries for c in lyon.kept] == [3, 4]


async def test_a_peer_that_was_down_gets_the_latest_at_the_next_round(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook, caplog: pytest.LogCaptureFixture
) -> None:
    centre = SigningCentre(tmp_path)
    lyon = _Peer(down=True)
    checkpointer = _checkpointer(audit, book, centre, {PEER: lyon})
    await _append(audit, 2)
    with caplog.at_level(logging.WARNING):
        await checkpointer.checkpoint()
    assert "audit checkpoint at 2 entries not kept by INTERPOL-CCC-LYON yet: peer down" in (
        caplog.text
    )
    assert checkpointer.deposited(PEER) == 0

    lyon.down = False
    await checkpointer.checkpoint()
    assert [c.entries for c in lyon.kept] == [2]
    assert checkpointer.deposited(PEER) == 2


async def test_checkpoints_follow_the_entry_count_and_the_clock(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook
) -> None:
    centre = SigningCentre(tmp_path)
    by_count, by_time = _Peer(), _Peer()
    counting = _checkpointer(
        audit, book, centre, {PEER: by_count}, CheckpointPolicy(every_entries=5, every_seconds=60)
    )
    # The first round comes right away: with an entry already there, it checkpoints that one
    # (with an empty log it would race the appends below and anchor whatever it found).
    await _append(audit, 1)
    await counting.start()
    await _until(lambda: [c.entries for c in by_count.kept] == [1], "the first round")
    await _append(audit, 4)
    await asyncio.sleep(0.05)
    assert [c.entries for c in by_count.kept] == [1]  # 4 entries more: not yet
    await _append(audit, 1)
    await _until(lambda: [c.entries for c in by_count.kept] == [1, 6], "a checkpoint 5 entries on")
    await counting.stop()

    timed = _checkpointer(
        audit,
        book,
        centre,
        {PEER: by_time},
        CheckpointPolicy(every_entries=1000, every_seconds=0.05),
    )
    await timed.start()
    await _append(audit, 2)
    await _until(lambda: by_time.kept and by_time.kept[-1].entries == 8, "a timed checkpoint")
    await timed.stop()


async def test_stopping_takes_a_last_checkpoint(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook
) -> None:
    centre = SigningCentre(tmp_path)
    lyon = _Peer()
    checkpointer = _checkpointer(
        audit, book, centre, {PEER: lyon}, CheckpointPolicy(every_entries=1000, every_seconds=60)
    )
    await checkpointer.start()
    await _append(audit, 3)
    await checkpointer.stop()
    assert [c.entries for c in lyon.kept] == [3]


async def test_a_checkpoint_the_key_ring_refuses_is_not_taken(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook, caplog: pytest.LogCaptureFixture
) -> None:
    centre, stranger = SigningCentre(tmp_path), SigningCentre(tmp_path / "s", "STRANGER")
    lyon = _Peer()
    checkpointer = Checkpointer(
        audit=audit,
        book=book,
        signer=centre.signer,
        key_ring=key_ring(stranger),
        peers={PEER: lyon},
    )
    await _append(audit, 1)
    with caplog.at_level(logging.ERROR):
        assert await checkpointer.checkpoint() is None
    assert "peers would refuse it (unknown signing key" in caplog.text
    assert lyon.kept == []


@pytest.mark.parametrize(("cut_to", "rewritten"), [(3, 0), (3, 4)])
async def test_a_log_that_does_not_reach_its_last_checkpoint_is_refused_at_start(
    tmp_path: Path, cut_to: int, rewritten: int
) -> None:
    path, centre = tmp_path / "audit.db", SigningCentre(tmp_path)
    await write_log(path, 5)
    pieces = await _open_pieces(path)
    await _checkpointer(*pieces, centre, {}).checkpoint()
    await _close_pieces(*pieces)
    tamper(path, f"DELETE FROM audit WHERE position > {cut_to}")
    await write_log(path, rewritten)

    pieces = await _open_pieces(path)
    try:
        with pytest.raises(CheckpointStartError) as refused:
            await _checkpointer(*pieces, centre, {}).start()
    finally:
        await _close_pieces(*pieces)
    message = str(refused.value)
    entries = cut_to + rewritten
    assert f"the audit log {path} has {entries} entries and " in message
    assert ("it ends before" if entries < 5 else "its entry 5 differs from") in message
    assert "the checkpoint WCO-I2C signed at" in message
    assert "archive the log for the auditors and start a new one" in message


async def _open_pieces(path: Path) -> tuple[AuditLog, CheckpointBook]:
    audit, book = AuditLog(path), CheckpointBook(path)
    await audit.open()
    await book.open()
    return audit, book


async def _close_pieces(audit: AuditLog, book: CheckpointBook) -> None:
    await book.close()
    await audit.close()


# -- the desk -------------------------------------------------------------------------------------


def _caller(centre: str) -> Caller:
    return Caller(f"urn:liaison:centre:{centre}", centre)


def _desk(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook, *centres: SigningCentre
) -> CheckpointDesk:
    return CheckpointDesk(centre=PEER, book=book, key_ring=key_ring(*centres), audit=audit)


async def test_the_desk_keeps_a_peers_checkpoint_once_and_lists_newest_first(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook
) -> None:
    i2c = SigningCentre(tmp_path)
    desk = _desk(tmp_path, audit, book, i2c)
    await _append(audit, 2)
    first = i2c.checkpoint(audit.head)
    assert await desk.keep(first, _caller(CENTRE)) == 1
    assert await desk.keep(first, _caller(CENTRE)) == 1  # a retried deposit is not a new one
    await _append(audit, 1)
    second = i2c.checkpoint(audit.head)
    assert await desk.keep(second, _caller(CENTRE)) == 2
    assert await desk.newest(CENTRE, 0) == [second, first]
    assert await desk.newest(CENTRE, 1) == [second]
    assert await desk.newest("NOBODY", 0) == []


async def test_the_desk_lists_per_centre_limits_across_centres(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook
) -> None:
    i2c, sg = SigningCentre(tmp_path), SigningCentre(tmp_path / "sg", "SG")
    desk = _desk(tmp_path, audit, book, i2c, sg)
    for _ in range(3):
        await _append(audit, 1)
        await desk.keep(i2c.checkpoint(audit.head), _caller(CENTRE))
        await desk.keep(sg.checkpoint(audit.head), _caller("SG"))
    listed = await desk.newest("", 2)
    assert [(c.centre, c.entries) for c in listed] == [
        ("SG", 3),
        ("SG", 2),
        (CENTRE, 3),
        (CENTRE, 2),
    ]


@pytest.mark.parametrize(
    ("caller", "words"),
    [
        (None, "only a peer centre, verified by mutual TLS"),
        (Caller("urn:liaison:client:operator", PEER), "only a peer centre"),
        (Caller("local", PEER), "only a peer centre"),
        (_caller(PEER), "only a peer centre"),
        (_caller("SG"), "SG may deposit its own audit checkpoints only, not 'WCO-I2C'"),
    ],
)
async def test_only_the_centre_a_checkpoint_names_may_deposit_it(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook, caller: Caller | None, words: str
) -> None:
    i2c = SigningCentre(tmp_path)
    desk = _desk(tmp_path, audit, book, i2c)
    await _append(audit, 1)
    with pytest.raises(CheckpointRefusedError, match=words):
        await desk.keep(i2c.checkpoint(audit.head), caller)
    assert await book.newest() == []
    denial = json.loads(list(iter_stored(audit.path))[-1])
    assert (denial["action"], denial["outcome"]) == ("deny", "denied")
    assert denial["detail"]["method"] == "/liaison.v1.Federation/KeepCheckpoint"


async def test_a_checkpoint_whose_signature_does_not_verify_is_refused(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook
) -> None:
    i2c = SigningCentre(tmp_path)
    impostor = SigningCentre(tmp_path / "x", made=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    desk = _desk(tmp_path, audit, book, i2c)
    await _append(audit, 2)
    altered = i2c.checkpoint(audit.head)
    altered.entries = 1
    with pytest.raises(CheckpointRefusedError, match="the signature does not verify"):
        await desk.keep(altered, _caller(CENTRE))
    with pytest.raises(CheckpointRefusedError, match="unknown signing key"):
        await desk.keep(impostor.checkpoint(audit.head), _caller(CENTRE))
    future = i2c.checkpoint(audit.head)
    future.time.seconds += 3600
    future.signature = i2c.signer.sign_statement(statement_of(future))
    with pytest.raises(CheckpointRefusedError, match="dated in the future"):
        await desk.keep(future, _caller(CENTRE))
    assert await book.newest() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("head_hash", "nothex"), ("entries", 0), ("key_id", ""), ("signature", b"short")],
)
async def test_a_malformed_checkpoint_is_an_invalid_argument_naming_the_field(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook, field: str, value: object
) -> None:
    i2c = SigningCentre(tmp_path)
    desk = _desk(tmp_path, audit, book, i2c)
    await _append(audit, 1)
    checkpoint = i2c.checkpoint(audit.head)
    setattr(checkpoint, field, value)
    with pytest.raises(InvalidArgumentError) as refused:
        await desk.keep(checkpoint, _caller(CENTRE))
    assert [v.field for v in refused.value.violations] == [f"checkpoint.{field}"]


async def test_a_checkpoint_behind_a_kept_one_is_kept_and_reported(
    tmp_path: Path, audit: AuditLog, book: CheckpointBook, caplog: pytest.LogCaptureFixture
) -> None:
    i2c = SigningCentre(tmp_path)
    desk = _desk(tmp_path, audit, book, i2c)
    await _append(audit, 1)
    early = i2c.checkpoint(audit.head)
    await _append(audit, 2)
    await desk.keep(i2c.checkpoint(audit.head), _caller(CENTRE))
    with caplog.at_level(logging.WARNING):
        assert await desk.keep(early, _caller(CENTRE)) == 2
    assert "WCO-I2C deposited an audit checkpoint at 1 entries after one at 3" in caplog.text


async def test_the_pieces_open_and_close_together(tmp_path: Path, audit: AuditLog) -> None:
    i2c = SigningCentre(tmp_path)
    lyon = _Peer()
    pieces = AuditCheckpoints(
        centre=CENTRE, audit=audit, key_ring=key_ring(i2c), signer=i2c.signer, peers={PEER: lyon}
    )
    await pieces.open()
    await _append(audit, 2)
    await pieces.close()
    assert [c.entries for c in lyon.kept] == [2]

    lyon_log = AuditLog(tmp_path / "lyon.db")
    await lyon_log.open()
    receiving = AuditCheckpoints(
        centre=PEER, audit=lyon_log, key_ring=key_ring(i2c), signer=None, peers={}
    )
    await receiving.open()
    try:
        assert receiving.checkpointer is None
        assert await receiving.desk.keep(lyon.kept[0], _caller(CENTRE)) == 1
    finally:
        await receiving.close()
        await lyon_log.close()
