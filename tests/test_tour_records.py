"""The README's tour works as written: `make run` starts the default centre, which accepts every
tour record but the one the README shows refused, for the reason it shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import json_format

from gateway.config import DEFAULT_CENTRE_ID
from liaison.rules.errors import InvalidArgumentError
from liaison.rules.intake import prepare_record
from liaison.v1 import record_pb2

TOUR = Path(__file__).resolve().parents[1] / "docs" / "tour" / "records.jsonl"


def test_the_tour_records_are_accepted_by_the_default_centre_but_the_bad_one() -> None:
    refused: dict[str, list[str]] = {}
    lines = TOUR.read_text(encoding="utf-8").splitlines()
    for line in lines:
        record = json_format.Parse(line, record_pb2.Record())
        try:
            prepare_record(record, DEFAULT_CENTRE_ID)
        except InvalidArgumentError as error:
            refused[record.record_id] = [v.field for v in error.violations]
    assert len(lines) == 5
    assert refused == {f"{DEFAULT_CENTRE_ID}:bad:1": ["person.birth_date.day"]}
    readme = (TOUR.parents[2] / "README.md").read_text(encoding="utf-8")
    if f"record #4 ({DEFAULT_CENTRE_ID}:bad:1): person.birth_date.day" not in readme:
        pytest.fail("the README's tour shows another refusal than the records give")
