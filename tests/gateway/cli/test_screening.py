"""``liaison screen | hits | decide`` against a real gateway: the JSON they print, their exit
codes, and how refusals are reported.

The commands run through ``main()`` in a worker thread (the gateway serves on this test's event
loop).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.server import Gateway
from tests.conftest import TEST_CENTRE
from tests.gateway.cli.running import jsonl, liaison, submitted
from tests.support.factories import travel_document
from tests.support.screening_records import red_notice, screened, stolen_passport, traveller

NOTICE = f"{TEST_CENTRE}:notice:1"
SLTD = f"{TEST_CENTRE}:sltd:1"
MRZ = "P<RUSIVANOV<<SERGEI".ljust(44, "<") + "\nC01X00T478RUS7105041M2801016<<<<<<<<<<<<<<<0\n"


async def with_entries(gateway: Gateway, *travellers: str) -> None:
    """A red notice and a stolen passport, then committed travellers (each hits the notice)."""
    await submitted(gateway, red_notice(NOTICE), stolen_passport(SLTD))
    await screened(gateway)
    await submitted(gateway, *(traveller(record_id) for record_id in travellers))
    await screened(gateway)


async def test_screen_prints_one_document_with_subjects_hits_and_entries(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await with_entries(gateway)
    path = tmp_path / "subjects.jsonl"
    carried = travel_document("", number="X1234567", issuing_state="FRA", family="NOVAK")
    path.write_text(jsonl(traveller("T-1"), carried, traveller("T-3", "SMITH", "JOHN")))
    code, out, err = await liaison(capsys, "--target", gateway.address, "screen", str(path))
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert list(document) == ["subjects", "hits", "entries"]
    assert [s["recordId"] for s in document["subjects"]] == ["T-1", "subject-2", "T-3"]
    found = {(h["subjectRecordId"], h["entryRecordId"], h["list"]) for h in document["hits"]}
    assert found == {("T-1", NOTICE, "notices"), ("subject-2", SLTD, "sltd")}
    assert all(h["explanation"] for h in document["hits"])
    assert {e["recordId"] for e in document["entries"]} == {NOTICE, SLTD}

    # One list only; no hit is still success.
    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "screen", str(path), "--list", "sltd"
    )
    assert code == 0
    assert [h["list"] for h in json.loads(out)["hits"]] == ["sltd"]
    path.write_text(jsonl(traveller("T-4", "SMITH", "JOHN")))
    code, out, _ = await liaison(capsys, "--target", gateway.address, "screen", str(path))
    assert code == 0
    assert json.loads(out) == {
        "subjects": json.loads(out)["subjects"],
        "hits": [],
        "entries": [],
    }


async def test_screen_a_legacy_payload_with_format(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await with_entries(gateway)
    path = tmp_path / "passport.mrz"
    path.write_text(MRZ)
    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "screen", "--format", "icao-mrz", str(path)
    )
    assert code == 0
    document = json.loads(out)
    assert [h["entryRecordId"] for h in document["hits"]] == [NOTICE]
    assert document["subjects"]


async def test_screen_refusals_exit_1_with_the_fields(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "subjects.jsonl"
    path.write_text(jsonl(traveller("T-1")))
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "screen", str(path), "--list", "no-such-list"
    )
    assert (code, out) == (1, "")
    assert err.startswith("liaison: error: unknown screening lists")
    assert "  lists: not configured here: no-such-list" in err.splitlines()

    path.write_text('{"recordId": "N-1", "notice": {"noticeType": "NOTICE_TYPE_RED"}}\n')
    code, _, err = await liaison(capsys, "--target", gateway.address, "screen", str(path))
    assert code == 1
    assert "  subjects[0]: must be a person, travel_document or passenger_manifest" in err

    code, _, err = await liaison(
        capsys, "--target", gateway.address, "screen", "--format", "no-such-adapter", str(path)
    )
    assert code == 1
    assert "adapter" in err

    # A payload the adapter decodes to nothing: the document, then the refusal.
    path.write_text("not an MRZ\n")
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "screen", "--format", "icao-mrz", str(path)
    )
    assert code == 1
    assert json.loads(out)["subjects"] == []
    assert "holds no subject" in err


async def test_screen_usage_errors_exit_2(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"recordId": "T-1",\n')
    code, out, err = await liaison(capsys, "--target", gateway.address, "screen", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"liaison: error: {path}: line 2 column 1: invalid JSON")
    path.write_text("\n")
    code, _, err = await liaison(capsys, "--target", gateway.address, "screen", str(path))
    assert code == 2
    assert "no record to screen" in err
    code, _, err = await liaison(
        capsys, "--target", gateway.address, "screen", str(tmp_path / "missing")
    )
    assert code == 2


async def test_hits_lists_stored_hits_as_json_lines_with_filters(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await with_entries(gateway, f"{TEST_CENTRE}:pax:1", f"{TEST_CENTRE}:pax:2")
    code, out, err = await liaison(capsys, "--target", gateway.address, "hits", "--page-size", "1")
    assert (code, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    assert sorted(line["screeningHit"]["subjectRecordId"] for line in lines) == [
        f"{TEST_CENTRE}:pax:1",
        f"{TEST_CENTRE}:pax:2",
    ]
    band = lines[0]["screeningHit"]["band"].removeprefix("SCREENING_BAND_").lower()
    for argv, expected in (
        (["--band", band, "--list", "notices"], 2),
        (["--list", "sltd"], 0),
        (["--undecided"], 2),
        (["--decision", "match"], 0),
        (["--since", "2999-01-01"], 0),
        (["--until", "2999-01-01"], 2),
    ):
        code, out, _ = await liaison(capsys, "--target", gateway.address, "hits", *argv)
        assert (code, len(out.splitlines())) == (0, expected), argv


async def test_hits_refusals_and_usage(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await liaison(capsys, "--target", gateway.address, "hits", "--list", "BAD LIST")
    assert code == 1
    assert "  lists[0]: is not a list name" in err.splitlines()
    code, _, err = await liaison(
        capsys, "--target", gateway.address, "hits", "--undecided", "--decision", "match"
    )
    assert code == 2
    assert "not allowed with argument" in err
    code, _, _ = await liaison(capsys, "--target", gateway.address, "hits", "--band", "maybe")
    assert code == 2


async def test_decide_records_a_decision_and_hits_follow_it(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await with_entries(gateway, f"{TEST_CENTRE}:pax:1")
    _, out, _ = await liaison(capsys, "--target", gateway.address, "hits", "--undecided")
    hit_id = json.loads(out)["recordId"]
    code, out, err = await liaison(
        capsys,
        "--target",
        gateway.address,
        "decide",
        hit_id,
        "--no-match",
        "--note",
        "other man: different father's name",
        "--expected-version",
        "1",
    )
    assert code == 0
    decided = json.loads(out)
    assert decided["version"] == "2"
    decision = decided["screeningHit"]["decision"]
    assert decision["kind"] == "SCREENING_DECISION_KIND_NO_MATCH"
    assert decision["note"] == "other man: different father's name"
    assert err == f"liaison: hit {hit_id} decided at version 2\n"
    _, out, _ = await liaison(capsys, "--target", gateway.address, "hits", "--undecided")
    assert out == ""
    _, out, _ = await liaison(capsys, "--target", gateway.address, "hits", "--decision", "no-match")
    assert json.loads(out)["recordId"] == hit_id

    # The hit moved on to version 2: a decision on version 1 is refused.
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "decide", hit_id, "--match", "--expected-version", "1"
    )
    assert (code, out) == (1, "")
    assert "version 2" in err


async def test_decide_refusals_and_usage(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await liaison(
        capsys, "--target", gateway.address, "decide", f"{TEST_CENTRE}:hit:none", "--match"
    )
    assert code == 1
    assert "not found" in err
    code, _, err = await liaison(
        capsys, "--target", gateway.address, "decide", "x", "--unsure", "--note", "n" * 4001
    )
    assert code == 1
    assert "  note: must be at most 4000 characters" in err.splitlines()
    code, _, err = await liaison(capsys, "--target", gateway.address, "decide", "x")
    assert code == 2
    assert "one of the arguments --match --no-match --unsure is required" in err
    code, _, _ = await liaison(
        capsys, "--target", gateway.address, "decide", "x", "--match", "--unsure"
    )
    assert code == 2
