"""``liaison submit | get | search | subscribe | health`` against a real gateway: output, errors
and exit codes.

The commands run through ``main()`` in a worker thread (the gateway serves on this test's event
loop).
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

from gateway.cli.jsonio import record_to_json
from gateway.client import AsyncLiaisonClient
from gateway.server import Gateway
from liaison.v1 import record_pb2
from tests.gateway.cli.running import child, invalid_person, jsonl, liaison, read_until, submitted
from tests.support.factories import person, travel_document
from tests.support.processes import GatewayProcess


async def test_submit_reports_counts_and_each_rejected_record(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(jsonl(person("P-0"), invalid_person("P-1"), travel_document("D-2")))

    code, out, err = await liaison(capsys, "--target", gateway.address, "submit", str(path))
    assert code == 1
    assert out == "stored 2, duplicates 0, rejected 1\n"
    assert err.splitlines() == [
        "record #1 (P-1): person.birth_date.month: must be 1 to 12, or 0 when unknown"
    ]

    code, out, _ = await liaison(
        capsys, "submit", str(path), "--batch-size", "1", "--target", gateway.address
    )
    assert (code, out) == (1, "stored 0, duplicates 2, rejected 1\n")


async def test_submit_a_json_array_cleanly(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.json"
    documents = [json.loads(record_to_json(person(f"P-{i}"))) for i in range(3)]
    path.write_text(json.dumps(documents, indent=2))
    code, out, err = await liaison(capsys, "--target", gateway.address, "submit", str(path))
    assert (code, out, err) == (0, "stored 3, duplicates 0, rejected 0\n", "")


async def test_submit_from_standard_input(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl(person("P-1"), person("P-2")).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = await liaison(capsys, "--target", gateway.address, "submit", "-")
    assert (code, out) == (0, "stored 2, duplicates 0, rejected 0\n")


async def test_submit_malformed_file_is_a_usage_error(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(jsonl(person("P-1")) + '{"recordId": "P-2", "person": {"sex": "SECRET"}}\n')
    code, out, err = await liaison(capsys, "--target", gateway.address, "submit", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"liaison: error: {path}: line 2: person.sex: not a liaison.v1.Sex value")
    assert "SECRET" not in err
    assert len(err.splitlines()) == 1


async def test_get(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    await submitted(gateway, person("P-1"), person("P-1", given="JOAN"))

    code, out, err = await liaison(capsys, "--target", gateway.address, "get", "P-1")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 1
    record = json_format.Parse(out, record_pb2.Record())
    assert (record.record_id, record.version, record.person.names[0].given) == ("P-1", 2, "JOAN")

    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "get", "P-1", "--version", "1"
    )
    assert code == 0
    assert json.loads(out)["person"]["names"][0]["given"] == "JANE"


async def test_get_missing_record_exits_1(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(capsys, "--target", gateway.address, "get", "P-404")
    assert (code, out) == (1, "")
    assert err.startswith("liaison: error: ")
    assert err.endswith("(NOT_FOUND)\n")
    assert "P-404" in err


async def test_search_pages_cursor_and_all(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await submitted(
        gateway,
        *(person(f"P-{i}", family="MARTIN", birth=(1980, 1 + i, 1)) for i in range(3)),
        person("P-OTHER", family="DUPONT"),
        travel_document("D-1", family="MARTIN"),
    )
    target = ("--target", gateway.address)

    code, out, err = await liaison(
        capsys, *target, "search", "--family-name", "martin", "--kind", "person", "--page-size", "2"
    )
    assert code == 0
    hits = [json.loads(line) for line in out.splitlines()]
    assert [hit["record"]["recordId"] for hit in hits] == ["P-0", "P-1"]
    assert err.startswith("next cursor: ")
    cursor = err.removeprefix("next cursor: ").strip()

    code, out, err = await liaison(
        capsys, *target, "search", "--family-name", "martin", "--kind", "person", "--cursor", cursor
    )
    assert (code, err) == (0, "")
    assert [json.loads(line)["record"]["recordId"] for line in out.splitlines()] == ["P-2"]

    code, out, err = await liaison(
        capsys, *target, "search", "--family-name", "MARTIN", "--page-size", "1", "--all"
    )
    assert (code, err) == (0, "")
    found = [json.loads(line)["record"]["recordId"] for line in out.splitlines()]
    assert found == ["P-0", "P-1", "P-2", "D-1"]

    code, out, _ = await liaison(
        capsys, *target, "search", "--family-name", "martin", "--birth-date", "1980-02"
    )
    assert [json.loads(line)["record"]["recordId"] for line in out.splitlines()] == ["P-1"]


async def test_search_without_hits_exits_1(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "search", "--family-name", "NOBODY"
    )
    assert (code, out, err) == (1, "", "")


async def test_refusal_prints_field_violations_indented(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "search", "--family-name", "X", "--cursor", "bogus"
    )
    assert (code, out) == (1, "")
    first, *violations = err.splitlines()
    assert first.startswith("liaison: error: ")
    assert first.endswith("(INVALID_ARGUMENT)")
    assert violations
    assert all(line.startswith("  cursor: ") for line in violations)


async def test_subscribe_with_limit_and_kind(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await submitted(gateway, person("P-1"), travel_document("D-1"), person("P-2"), person("P-3"))
    target = ("--target", gateway.address)

    code, out, _ = await liaison(capsys, *target, "subscribe", "--after", "0", "--limit", "2")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [event["record"]["recordId"] for event in events] == ["P-1", "D-1"]
    assert [event["metadata"]["sequence"] for event in events] == ["1", "2"]

    code, out, _ = await liaison(
        capsys, *target, "subscribe", "--after", "1", "--kind", "person", "--limit", "2"
    )
    assert code == 0
    assert [json.loads(line)["record"]["recordId"] for line in out.splitlines()] == ["P-2", "P-3"]


async def test_health(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    assert await liaison(capsys, "--target", gateway.address, "health") == (0, "SERVING\n", "")
    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "health", "--service", "liaison.v1.RecordExchange"
    )
    assert (code, out) == (0, "SERVING\n")
    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "health", "--service", "no.such.Service"
    )
    assert (code, out) == (1, "SERVICE_UNKNOWN\n")


@pytest.mark.slow
async def test_subscribe_resumes_when_the_gateway_comes_back(tmp_path: Path) -> None:
    first = GatewayProcess(tmp_path / "centre.db")
    second = GatewayProcess(tmp_path / "centre.db")
    try:
        address = await asyncio.to_thread(first.start)
        async with AsyncLiaisonClient(address) as client:
            await client.submit(person("P-1"))
        subscribe = ("--target", address, "subscribe", "--after", "0", "--limit", "2")
        async with child(*subscribe) as subscriber:
            assert subscriber.stdout is not None
            assert subscriber.stderr is not None
            line = await asyncio.wait_for(subscriber.stdout.readline(), timeout=30)
            assert json.loads(line)["record"]["recordId"] == "P-1"
            await read_until(subscriber.stderr, "caught up at sequence 1")

            await asyncio.to_thread(first.kill)  # a crash: the stream breaks (UNAVAILABLE)
            second.serve_args[1] = address  # --listen: the same port, and the same store
            await asyncio.to_thread(second.start)
            async with AsyncLiaisonClient(address) as client:
                await client.submit(person("P-2"))

            rest, err = await asyncio.wait_for(subscriber.communicate(), timeout=30)
    finally:
        first.kill()
        second.kill()
    assert subscriber.returncode == 0, err.decode()
    assert [json.loads(line)["record"]["recordId"] for line in rest.splitlines()] == ["P-2"]
    assert b"error" not in err
