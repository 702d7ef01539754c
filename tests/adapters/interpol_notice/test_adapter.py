"""The adapter as a whole: identity, registration, public surface, privacy, size and speed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import adapters.interpol_notice
from adapters import get_adapter
from adapters.interpol_notice import InterpolNoticeAdapter
from liaison.rules.validation import validate_record
from tests.adapters.interpol_notice.strategies import result_page

SAMPLES = Path(__file__).parent / "samples"
INPUTS = sorted(p for p in SAMPLES.glob("*.json") if not p.name.endswith(".expected.json"))


def test_public_surface() -> None:
    assert adapters.interpol_notice.__all__ == ["InterpolNoticeAdapter"]


def test_identity_and_capabilities() -> None:
    info = InterpolNoticeAdapter.info()
    assert (info.name, info.can_decode, info.can_encode) == ("interpol-notice", True, True)
    assert list(info.media_types) == ["application/json"]
    assert list(info.file_extensions) == ["json"]


def test_registered_under_its_name_by_entry_point() -> None:
    assert isinstance(get_adapter("interpol-notice"), InterpolNoticeAdapter)


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for key, item in value.items() for s in _strings(item) | {key}}
    if isinstance(value, list):
        return {s for item in value for s in _strings(item)}
    return set()


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_diagnostics_never_quote_personal_data(path: Path) -> None:
    payload = path.read_bytes()
    result = InterpolNoticeAdapter().decode(payload, source_reference=path.name)
    try:
        values = _strings(json.loads(payload))
    except (ValueError, RecursionError):  # invalid samples: their words must not leak
        values = set(payload.decode("utf-8", "replace").replace('"', " ").split())
    # Names, dates, ids, free text: upper case, digits or non-ASCII letters (field names and
    # the words of messages are lower-case ASCII).
    personal = {
        v
        for v in values
        if len(v) >= 4 and (v.isupper() or not v.isascii() or any(c.isdigit() for c in v))
    }
    assert personal
    for diagnostic in result.diagnostics:
        leaked = [v for v in personal if v in diagnostic.message]
        assert not leaked, (diagnostic, leaked)


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_every_record_validates_or_is_named_by_an_error(path: Path) -> None:
    result = InterpolNoticeAdapter().decode(path.read_bytes(), source_reference=path.name)
    for record in result.records:
        assert record.record_id in result.tainted_ids or validate_record(record) == []


def test_a_page_of_thousands_of_notices_decodes_in_linear_time() -> None:
    adapter = InterpolNoticeAdapter()
    small, large = result_page(160), result_page(16_000)
    started = time.perf_counter()
    assert len(adapter.decode(small).records) == 160
    small_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = adapter.decode(large)
    large_seconds = time.perf_counter() - started
    assert len(result.records) == 16_000
    # 100 times the notices: far less than 10,000 times the time a quadratic decoder would take.
    assert large_seconds < 1_000 * max(small_seconds, 1e-3)


def test_a_huge_string_value_is_kept_whole() -> None:
    marks = "x" * 5_000_000
    payload = json.dumps(
        {
            "entity_id": "2019/1",
            "name": "EXAMPLE",
            "distinguishing_marks": marks,
            "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/red/2019-1"}},
        }
    ).encode()
    (record,) = InterpolNoticeAdapter().decode(payload).records
    assert record.notice.subject.physical_description.distinguishing_marks == marks
