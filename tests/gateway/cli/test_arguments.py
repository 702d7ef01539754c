"""Command-line parsing: option values, their conversion, and exit code 2 on bad usage.

Nothing here reaches a gateway: every case fails or is checked before a call is made.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import EXIT_OK, EXIT_USAGE, KIND_NAMES, build_parser, main
from liaison.v1 import common_pb2, record_pb2


@pytest.fixture(autouse=True)
def no_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the default target at a closed port, so that a call made by mistake fails."""
    monkeypatch.setenv("LIAISON_TARGET", "127.0.0.1:1")


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1975", (1975, 0, 0)),
        ("1975-03", (1975, 3, 0)),
        ("1975-03-12", (1975, 3, 12)),
        ("2024-02-29", (2024, 2, 29)),
        ("0001-12-31", (1, 12, 31)),
    ],
)
def test_birth_date(text: str, expected: tuple[int, int, int]) -> None:
    args = parse("search", "--family-name", "DOE", "--birth-date", text)
    assert args.birth_date == common_pb2.PartialDate(
        year=expected[0], month=expected[1], day=expected[2]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("75", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("1975-3-12", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("1975/03/12", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("1975-03-12T00:00", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("0000", "the year must be 0001 to 9999"),
        ("1975-00", "no month 00"),
        ("1975-13", "no month 13"),
        ("1975-02-29", "no day 29 in 1975-02"),
        ("1975-04-31", "no day 31 in 1975-04"),
        ("1975-01-00", "no day 00 in 1975-01"),
    ],
)
def test_bad_birth_date_is_a_usage_error(
    text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["search", "--family-name", "DOE", "--birth-date", text])
    assert code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_kind_names_cover_every_record_kind() -> None:
    assert KIND_NAMES == {
        "person": record_pb2.RECORD_KIND_PERSON,
        "travel_document": record_pb2.RECORD_KIND_TRAVEL_DOCUMENT,
        "vehicle": record_pb2.RECORD_KIND_VEHICLE,
        "seizure": record_pb2.RECORD_KIND_SEIZURE,
        "notice": record_pb2.RECORD_KIND_NOTICE,
        "passenger_manifest": record_pb2.RECORD_KIND_PASSENGER_MANIFEST,
        "cultural_object": record_pb2.RECORD_KIND_CULTURAL_OBJECT,
        "screening_hit": record_pb2.RECORD_KIND_SCREENING_HIT,
        "withdrawal": record_pb2.RECORD_KIND_WITHDRAWAL,
        "request": record_pb2.RECORD_KIND_REQUEST,
        "reply": record_pb2.RECORD_KIND_REPLY,
        "receipt": record_pb2.RECORD_KIND_RECEIPT,
    }


def test_kinds_accumulate_and_ignore_case() -> None:
    args = parse("search", "--kind", "person", "TRAVEL_DOCUMENT", "--kind", "notice")
    assert args.kinds == ["person", "travel_document", "notice"]
    assert parse("subscribe", "--kind", "vehicle").kinds == ["vehicle"]
    assert parse("search").kinds == []


def test_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--kind", "spaceship"]) == EXIT_USAGE
    assert "invalid choice: 'spaceship'" in capsys.readouterr().err


def test_subscribe_options() -> None:
    args = parse("subscribe", "--after", "0", "--centre", "A", "B", "--centre", "C", "--limit", "5")
    assert (args.after, args.centres, args.limit) == (0, ["A", "B", "C"], 5)
    args = parse("subscribe")
    assert (args.after, args.centres, args.limit) == (None, [], None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27", datetime(2026, 11, 27, tzinfo=UTC)),
        ("2026-11-27T10:30:00Z", datetime(2026, 11, 27, 10, 30, tzinfo=UTC)),
        ("2026-11-27T10:30:00", datetime(2026, 11, 27, 10, 30, tzinfo=UTC)),
        ("2026-11-27T11:30:00+01:00", datetime(2026, 11, 27, 10, 30, tzinfo=UTC)),
        ("2026-11-27T10:30:00.25Z", datetime(2026, 11, 27, 10, 30, 0, 250000, tzinfo=UTC)),
    ],
)
def test_since_and_until_are_iso_8601_in_utc_by_default(text: str, expected: datetime) -> None:
    args = parse("search", "--since", text, "--until", text)
    assert args.since.ToDatetime(tzinfo=UTC) == expected
    assert args.until == args.since


def test_target_and_timeout_before_or_after_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIAISON_TARGET", raising=False)
    args = parse("get", "P-1")
    assert (args.target, args.timeout) == ("127.0.0.1:50051", None)
    monkeypatch.setenv("LIAISON_TARGET", "")
    assert parse("get", "P-1").target == "127.0.0.1:50051"
    args = parse("--target", "gw:1", "--timeout", "2.5", "get", "P-1")
    assert (args.target, args.timeout) == ("gw:1", 2.5)
    args = parse("--target", "gw:1", "get", "P-1", "--target", "gw:2", "--timeout", "3")
    assert (args.target, args.timeout) == ("gw:2", 3.0)


def test_target_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAISON_TARGET", "gateway.example:7000")
    assert parse("health").target == "gateway.example:7000"


def test_serve_options() -> None:
    args = parse(
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--db",
        "x/y.db",
        "--centre-id",
        "WCO-I2C",
        "--config",
        "c",
    )
    assert (args.listen, args.db, args.centre_id, args.config) == (
        "0.0.0.0:0",
        Path("x/y.db"),
        "WCO-I2C",
        Path("c"),
    )


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["teleport"],
        ["get"],
        ["get", "P-1", "--version", "0"],
        ["get", "P-1", "--version", "-1"],
        ["--timeout", "0", "health"],
        ["--timeout", "soon", "health"],
        ["health", "--timeout", "-3"],
        ["health", "--timeout", "inf"],
        ["search", "--page-size", "0"],
        ["search", "--since", "yesterday"],
        ["search", "--unknown-option"],
        ["subscribe", "--limit", "0"],
        ["subscribe", "--after", "-1"],
        ["subscribe", "--after", "\u00b2"],
        ["submit"],
        ["serve", "--listen", "50051"],
        ["serve", "--listen", "host:port"],
        ["serve", "--listen", "host:70000"],
        ["serve", "--centre-id", "lower-case"],
        ["serve", "--centre-id", "-LEADING"],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "usage: liaison" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "--birth-date", "1975"], "--birth-date needs --family-name"),
        (["search", "--issuing-state", "FRA"], "--issuing-state needs --document-number"),
    ],
)
def test_criteria_that_need_another_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    assert capsys.readouterr().err == f"liaison: error: {message}\n"


def test_unreadable_submit_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.jsonl"
    assert main(["submit", str(missing)]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"liaison: error: cannot read {missing}: No such file or directory\n"
    )


def test_bad_configuration_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "centre.toml"
    config.write_text('[centre]\nid = "lower"\n')
    assert main(["serve", "--config", str(config)]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith(f"liaison: error: {config}: [centre] id must be")


def test_configuration_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIAISON_CONFIG", str(tmp_path / "absent.toml"))
    assert main(["serve"]) == EXIT_USAGE
    assert "absent.toml: no such configuration file" in capsys.readouterr().err


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "exit codes:" in out
    assert "3    gateway unreachable, TLS handshake refused, or deadline exceeded" in out
    for command in ("serve", "submit", "get", "search", "subscribe", "health"):
        assert main([command, "--help"]) == EXIT_OK
        assert "exit codes:" in capsys.readouterr().out
