"""``liaison translate --strict``: the national variants become errors (exit 1).

Runs the CLI in-process with the installed adapters, on the golden sample of a Belgian and a
Portuguese identity card whose long document numbers use the filler-included check digit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.cli import main
from tests.adapters.icao_mrz.support import SAMPLES

CARDS = SAMPLES / "national_variant_bel_prt.mrz"


def _translate(
    capsys: pytest.CaptureFixture[str], *options: str
) -> tuple[int, dict[str, Any], str]:
    code = main(["translate", "--format", "icao-mrz", *options, str(CARDS)])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_the_variant_decodes_with_warnings_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, document, err = _translate(capsys)
    assert code == 0
    assert [d["code"] for d in document["diagnostics"]] == ["MRZ_NATIONAL_VARIANT"] * 2
    assert "warning MRZ_NATIONAL_VARIANT (line 1, column 19" in err
    assert len(document["records"]) == 6


def test_strict_turns_the_variant_into_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, document, err = _translate(capsys, "--strict")
    assert code == 1
    assert [(d["code"], d["severity"]) for d in document["diagnostics"]] == [
        ("MRZ_CHECK_DIGIT", "DIAGNOSTIC_SEVERITY_ERROR")
    ] * 2
    assert "error MRZ_CHECK_DIGIT (line 5, column 19" in err
    # Personal data stays off stderr: the message names the variant, not the number.
    assert "593123456" not in err


def test_strict_does_not_change_a_format_without_variants(
    capsys: pytest.CaptureFixture[str],
) -> None:
    specimen = SAMPLES / "td3_specimen.mrz"
    plain = main(["translate", "--format", "icao-mrz", str(specimen)])
    first = capsys.readouterr().out
    strict = main(["translate", "--format", "icao-mrz", "--strict", str(specimen)])
    assert (plain, strict) == (0, 0)
    assert capsys.readouterr().out == first
