"""The audit hash chain: an untouched log verifies; edits, deletions, reorderings and truncation
are reported at the first bad entry; anchors (recorded heads, checkpoints) catch truncation."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gateway.audit.chain import (
    GENESIS_HASH,
    KEYED_MAC,
    Anchor,
    AuditEntry,
    ChainHead,
    entry_hash,
    next_entry,
    verify,
)

_T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _log(count: int, key: bytes | None = None) -> list[str]:
    head = ChainHead()
    stored = []
    for index in range(count):
        entry = next_entry(
            head,
            actor="urn:liaison:client:customs-be",
            action="submit",
            outcome="ok",
            record_ids=[f"rec-{index}"],
            detail={"version": 1, "method": "Submit"},
            now=_T0 + dt.timedelta(seconds=index),
            key=key,
        )
        head = ChainHead(entry.sequence, entry.hash)
        stored.append(entry.to_json())
    return stored


def _canonical(value: dict[str, object]) -> str:
    """An edit stored the way the writer stores entries, so that only its hash can betray it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def test_entries_link_to_their_predecessor() -> None:
    stored = [AuditEntry.from_json(text) for text in _log(3)]
    assert [e.sequence for e in stored] == [1, 2, 3]
    assert stored[0].previous_hash == GENESIS_HASH
    assert stored[1].previous_hash == stored[0].hash
    assert stored[2].previous_hash == stored[1].hash
    assert all(entry_hash(e) == e.hash for e in stored)
    assert stored[0].time == "2026-11-27T12:00:00.000000Z"


def test_an_untouched_log_verifies_and_reports_its_head() -> None:
    stored = _log(5)
    report = verify(stored)
    assert report.ok
    assert report.checked == 5
    last = AuditEntry.from_json(stored[-1])
    assert report.head == ChainHead(5, last.hash)
    assert verify([]).ok


def test_an_edited_entry_is_reported() -> None:
    stored = _log(5)
    edited = json.loads(stored[2])
    edited["outcome"] = "denied"
    stored[2] = _canonical(edited)
    report = verify(stored)
    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.position == 3
    assert report.first_break.sequence == 3
    assert "edited" in report.first_break.reason
    assert report.head.sequence == 2


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    stored = _log(5)
    entry = AuditEntry.from_json(stored[1])
    forged = AuditEntry(
        **{
            **{f: getattr(entry, f) for f in entry.__dataclass_fields__},
            "record_ids": ("other",),
            "hash": "",
        }
    )
    forged = AuditEntry(
        **{
            **{f: getattr(forged, f) for f in forged.__dataclass_fields__},
            "hash": entry_hash(forged),
        }
    )
    stored[1] = forged.to_json()
    report = verify(stored)
    assert report.first_break is not None
    assert report.first_break.position == 3
    assert "previous-hash" in report.first_break.reason


def test_a_deleted_entry_is_reported() -> None:
    stored = _log(5)
    del stored[1]
    report = verify(stored)
    assert report.first_break is not None
    assert report.first_break.position == 2
    assert report.first_break.sequence == 3
    assert "deleted" in report.first_break.reason


def test_reordered_entries_are_reported() -> None:
    stored = _log(5)
    stored[2], stored[3] = stored[3], stored[2]
    report = verify(stored)
    assert report.first_break is not None
    assert report.first_break.position == 3
    assert report.first_break.sequence == 4  # 4 arrives where 3 was due


def test_a_moved_back_entry_is_reported_as_reordered() -> None:
    stored = _log(4)
    stored.insert(1, stored[0])  # entry 1 appears again after itself
    report = verify(stored)
    assert report.first_break is not None
    assert report.first_break.position == 2
    assert "reordered" in report.first_break.reason


def test_truncation_is_caught_against_a_recorded_head() -> None:
    stored = _log(5)
    recorded = verify(stored).head
    assert verify(stored, expect_head=recorded).ok
    report = verify(stored[:3], expect_head=recorded)
    assert report.first_break is not None
    assert (report.first_break.position, report.head.sequence) == (4, 3)
    assert "the recorded head records 5 entries: entries were cut off the end" in (
        report.first_break.reason
    )


def test_a_log_that_grew_past_a_recorded_head_still_reaches_it() -> None:
    stored = _log(8)
    recorded = verify(stored[:5]).head
    report = verify(stored, expect_head=recorded)
    assert (report.ok, report.checked, report.anchored) == (True, 8, 1)


def test_a_log_rewritten_below_an_anchor_is_reported_at_the_anchor() -> None:
    original = _log(6)
    anchor = Anchor(verify(original[:4]).head, "the checkpoint of test")
    rewritten = original[:3] + _log_from(original[:3], 3, actor="urn:liaison:client:forger")
    assert verify(rewritten).ok  # a consistent chain on its own ...
    report = verify(rewritten, anchors=[anchor])  # ... but not the one the checkpoint saw
    assert report.first_break is not None
    assert (report.first_break.position, report.first_break.sequence) == (4, 4)
    assert "differs from the one the checkpoint of test records for sequence 4" in (
        report.first_break.reason
    )


def test_every_anchor_counts_and_the_furthest_missing_one_is_named() -> None:
    stored = _log(6)
    heads = [verify(stored[:n]).head for n in (2, 4, 6)]
    anchors = [Anchor(head, f"checkpoint {head.sequence}") for head in heads]
    assert verify(stored, anchors=anchors).anchored == 3
    report = verify(stored[:3], anchors=anchors)
    assert report.first_break is not None
    assert "checkpoint 6 records 6 entries" in report.first_break.reason
    emptied = verify([], anchors=anchors)
    assert emptied.first_break is not None
    assert emptied.first_break.position == 1
    assert "the log ends at sequence 0" in emptied.first_break.reason


def test_an_anchor_at_zero_entries_must_name_the_genesis_hash() -> None:
    assert verify(_log(2), anchors=[Anchor(ChainHead(), "zero")]).ok
    report = verify(_log(2), anchors=[Anchor(ChainHead(0, "ab" * 32), "zero")])
    assert report.first_break is not None
    assert "other than the genesis hash" in report.first_break.reason


def _log_from(prefix: list[str], count: int, *, actor: str) -> list[str]:
    """``count`` entries chained after ``prefix`` (a forger continuing a shortened log)."""
    last = AuditEntry.from_json(prefix[-1])
    head = ChainHead(last.sequence, last.hash)
    stored = []
    for index in range(count):
        entry = next_entry(
            head,
            actor=actor,
            action="read",
            outcome="ok",
            now=_T0 + dt.timedelta(hours=1, seconds=index),
        )
        head = ChainHead(entry.sequence, entry.hash)
        stored.append(entry.to_json())
    return stored


@pytest.mark.parametrize("garbage", ["", "{}", "[1]", '{"sequence": "1"}', "not json"])
def test_unreadable_entries_are_reported_not_raised(garbage: str) -> None:
    stored = _log(2)
    stored.insert(1, garbage)
    report = verify(stored)
    assert report.first_break is not None
    assert report.first_break.position == 2
    assert report.first_break.sequence is None
    assert report.first_break.reason.startswith("malformed entry")


# -- keyed chains ---------------------------------------------------------------------------------

_KEY = bytes(range(32))


def _keyed_log(count: int, key: bytes = _KEY) -> list[str]:
    return _log(count, key)


def _rehashed_without_key(stored: list[str], edit: dict[str, object]) -> list[str]:
    """What a forger without the key can do: edit, drop the MAC marker, recompute every
    SHA-256 hash and previous-hash link from the edit on."""
    head = ChainHead()
    forged = []
    for position, text in enumerate(stored):
        entry = AuditEntry.from_json(text)
        fields = {f: getattr(entry, f) for f in entry.__dataclass_fields__}
        if position == 1:
            fields.update(edit)
        fields.update(mac="", previous_hash=head.hash, hash="")
        rehashed = AuditEntry(**{**fields, "hash": entry_hash(AuditEntry(**fields))})
        head = ChainHead(rehashed.sequence, rehashed.hash)
        forged.append(rehashed.to_json())
    return forged


def test_a_keyed_log_verifies_with_its_key_only() -> None:
    stored = _keyed_log(4)
    assert all(json.loads(text)["mac"] == KEYED_MAC for text in stored)
    assert verify(stored, key=_KEY).ok

    without = verify(stored)
    assert without.first_break is not None
    assert without.first_break.position == 1
    assert "give the key" in without.first_break.reason

    other = verify(stored, key=bytes(32))
    assert other.first_break is not None
    assert other.first_break.position == 1
    assert "not this key" in other.first_break.reason


def test_an_unkeyed_entry_hashes_as_before_keys_existed() -> None:
    """Logs written before keyed chains existed keep verifying: no ``mac`` in their bytes."""
    [text] = _log(1)
    assert "mac" not in json.loads(text)
    assert entry_hash(AuditEntry.from_json(text)) == json.loads(text)["hash"]


def test_an_edit_with_every_hash_recomputed_is_caught_with_the_key() -> None:
    forged = _rehashed_without_key(_keyed_log(4), {"outcome": "denied"})
    # Without the key the forgery is a consistent unkeyed chain...
    assert verify(forged).ok
    # ...which verification with the key refuses from its first entry on.
    report = verify(forged, key=_KEY)
    assert report.first_break is not None
    assert report.first_break.position == 1
    assert "not keyed" in report.first_break.reason


def test_an_edited_keyed_entry_is_reported_at_its_position() -> None:
    stored = _keyed_log(4)
    edited = json.loads(stored[2])
    edited["record_ids"] = ["rec-99"]
    stored[2] = _canonical(edited)
    report = verify(stored, key=_KEY)
    assert report.first_break is not None
    assert (report.first_break.position, report.head.sequence) == (3, 2)
    assert "edited" in report.first_break.reason


def test_an_unknown_mac_is_an_unreadable_entry() -> None:
    [text] = _keyed_log(1)
    altered = json.loads(text)
    altered["mac"] = "md5"
    report = verify([_canonical(altered)], key=_KEY)
    assert report.first_break is not None
    assert "malformed entry: mac must be 'hmac-sha256'" in report.first_break.reason


def test_hashing_a_keyed_entry_needs_the_key() -> None:
    entry = AuditEntry.from_json(_keyed_log(1)[0])
    with pytest.raises(ValueError, match="needs the key"):
        entry_hash(entry)
