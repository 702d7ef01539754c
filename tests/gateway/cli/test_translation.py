"""``liaison adapters`` and ``liaison translate``: output, errors, exit codes.

The commands run in-process through ``main()`` with the installed adapters replaced by the test
ones of ``tests.support.translation_adapters``.
"""

from __future__ import annotations

import io
import json
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from google.protobuf import json_format

from adapters import AdapterRegistry, registry
from adapters.jsonform import dumps, result_from_dict
from gateway.cli import main
from gateway.cli import translation as cli_translation
from liaison.v1 import translation_pb2
from tests.support.translation_adapters import (
    LinesAdapter,
    UpperCaseLinesAdapter,
    lines,
    lines_registry,
)

PEOPLE = lines("Doe;Jane;1975-03-12", "Roe;;1980-11")
WITH_ERRORS = lines("Doe;Jane;1975-03-12", "NOT A PERSON", "Roe;Rita;1980-13")


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> AdapterRegistry:
    """The test adapters, standing in for the installed ones."""
    adapters = lines_registry(UpperCaseLinesAdapter())
    monkeypatch.setattr(cli_translation, "default_registry", lambda: adapters)
    return adapters


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.lines"
    path.write_bytes(PEOPLE)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- liaison adapters ------------------------------------------------------------------------


@pytest.mark.usefixtures("installed")
def test_adapters_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "adapters")

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "NAME             VERSION  DECODE  ENCODE  EXTENSIONS  DESCRIPTION",
        "lines            1.0.0    yes     yes     lines       Test format: one person per line, "
        "FAMILY;GIVEN;DATE",
        "lines-broken     1.0.0    yes     yes     lines       Test format whose adapter raises",
        "lines-read-only  1.0.0    yes     no      -           Test format that can only be read",
        "lines-upper      1.0.0    yes     yes     lines       Test format like lines, in capitals "
        "only",
    ]


def test_adapters_json_lists_one_adapter_per_line(
    installed: AdapterRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "adapters", "--json")

    assert code == 0
    infos = [json_format.Parse(line, translation_pb2.AdapterInfo()) for line in out.splitlines()]
    assert infos == [adapter.info() for adapter in installed]


def test_adapters_warns_about_plugins_that_did_not_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = EntryPoint("fixed-width", "no_such_package:Adapter", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [broken])
    monkeypatch.setattr(
        cli_translation, "default_registry", lambda: AdapterRegistry.from_entry_points()
    )

    code, out, err = run(capsys, "adapters")

    assert code == 0
    assert out.splitlines() == ["NAME  VERSION  DECODE  ENCODE  EXTENSIONS  DESCRIPTION"]
    assert err.startswith(
        "liaison: warning: adapter plugin not loaded: fixed-width = no_such_package:Adapter: "
        "import failed: ModuleNotFoundError"
    )


# --- liaison translate -----------------------------------------------------------------------


@pytest.mark.usefixtures("installed")
def test_translate_prints_the_json_form(people: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "translate", "--format", "lines", str(people))

    assert code == 0
    assert out == dumps(LinesAdapter().decode(PEOPLE, source_reference="people.lines"))
    document = json.loads(out)
    assert document["records"][0]["person"]["names"][0]["family"] == "Doe"
    # The one warning, summarised on stderr with its location.
    assert err == "warning LINES_NO_GIVEN_NAME (line 2, column 5): the given name is empty\n"


@pytest.mark.usefixtures("installed")
def test_translate_exits_1_on_an_error_diagnostic_and_keeps_content_off_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.lines"
    path.write_bytes(WITH_ERRORS)

    code, out, err = run(capsys, "translate", "--format", "lines", str(path))

    assert code == 1
    result = result_from_dict(json.loads(out))
    assert [d.code for d in result.diagnostics] == ["LINES_FIELD_COUNT", "LINES_DATE"]
    assert err.splitlines() == [
        "error LINES_FIELD_COUNT (line 2, column 1, byte 20): expected 3 fields separated by ';', "
        "found 1",
        "error LINES_DATE (line 3, column 10): the date must be YYYY, YYYY-MM or YYYY-MM-DD with "
        "a month 1 to 12",
    ]
    assert "Roe" not in err
    assert "PERSON" not in err


@pytest.mark.usefixtures("installed")
def test_translate_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PEOPLE)))

    code, out, _ = run(capsys, "translate", "--format", "lines", "-")

    assert code == 0
    assert out == dumps(LinesAdapter().decode(PEOPLE))


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--format", "paxlst"],
            "liaison: error: unknown adapter 'paxlst'; known adapters: lines, lines-broken, "
            "lines-read-only, lines-upper\n",
        ),
        (
            ["--format", "lines", "--to", "paxlst"],
            "liaison: error: unknown adapter 'paxlst'; known adapters: lines, lines-broken, "
            "lines-read-only, lines-upper (or 'json')\n",
        ),
        (
            ["--format", "lines", "--to", "lines-read-only"],
            "liaison: error: adapter 'lines-read-only' cannot encode; formats that can: lines, "
            "lines-broken, lines-upper, json\n",
        ),
    ],
)
def test_translate_usage_errors_exit_2(
    people: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "translate", *argv, str(people))

    assert (code, out, err) == (2, "", message)


@pytest.mark.usefixtures("installed")
def test_translate_a_missing_file_or_format_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.lines"

    code, out, err = run(capsys, "translate", "--format", "lines", str(missing))
    assert (code, out) == (2, "")
    assert err == f"liaison: error: cannot read {missing}: No such file or directory\n"

    code, _, err = run(capsys, "translate", str(missing))
    assert code == 2
    assert "the following arguments are required: --format" in err


@pytest.mark.usefixtures("installed")
def test_translate_a_raising_adapter_exits_1_without_a_traceback(
    people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "translate", "--format", "lines-broken", str(people))

    assert (code, out) == (1, "")
    assert err == "liaison: error: adapter 'lines-broken' failed on this input (ValueError)\n"


@pytest.mark.usefixtures("installed")
def test_translate_to_another_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "people.lines"
    source.write_bytes(WITH_ERRORS)
    output = tmp_path / "capitals.lines"

    code, out, err = run(
        capsys,
        "translate",
        "--format",
        "lines",
        "--to",
        "lines-upper",
        "--output",
        str(output),
        str(source),
    )

    # Only the clean record is converted; the errors make the exit code 1.
    assert (code, out) == (1, "")
    assert output.read_bytes() == lines("DOE;JANE;1975-03-12")
    assert err.splitlines()[2:] == [
        "liaison: 1 record(s) not converted: an error diagnostic concerns them",
        "info LINES_UPPER_CASED (payload): names were written in capitals",
    ]


@pytest.mark.usefixtures("installed")
def test_translate_to_json_and_to_standard_output(
    people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "translate", "--format", "lines", "--to", "lines", str(people))
    assert (code, out.encode()) == (0, PEOPLE)

    code, out, _ = run(capsys, "translate", "--format", "lines", "--to", "json", str(people))
    assert code == 0
    converted = result_from_dict(json.loads(out))
    decoded = LinesAdapter().decode(PEOPLE, source_reference="people.lines")
    assert (converted.records, converted.diagnostics) == (decoded.records, ())


@pytest.mark.usefixtures("installed")
def test_translate_to_an_unwritable_output_exits_2(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "no" / "such" / "folder.json"

    code, _, err = run(
        capsys, "translate", "--format", "lines", "--output", str(output), str(people)
    )

    assert code == 2
    assert err.endswith(f"liaison: error: cannot write {output}: No such file or directory\n")
