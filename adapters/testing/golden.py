"""Golden comparison: a decode against its ``NAME.expected.json``, with a readable diff."""

from __future__ import annotations

import difflib
import json
from typing import Any

from adapters import jsonform
from adapters.base import DecodeResult
from adapters.testing.plugin import UPDATE_GOLDEN_OPTION
from adapters.testing.samples import GoldenSample

__all__ = ["canonical_json", "golden_mismatch", "json_diff", "write_golden"]


def canonical_json(document: Any) -> str:
    """The text golden files are written in (``jsonform.dumps``'s layout)."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def json_diff(expected: Any, actual: Any, *, expected_name: str, actual_name: str) -> str:
    """A unified diff of two JSON documents in canonical layout."""
    lines = difflib.unified_diff(
        canonical_json(expected).splitlines(keepends=True),
        canonical_json(actual).splitlines(keepends=True),
        fromfile=expected_name,
        tofile=actual_name,
    )
    return "".join(lines)


def golden_mismatch(sample: GoldenSample, result: DecodeResult) -> str | None:
    """Why ``result`` does not match the sample's expected file; None when it does."""
    how_to_update = (
        f"pytest {UPDATE_GOLDEN_OPTION} rewrites it from the adapter's output; "
        "review that change with git diff"
    )
    path = sample.expected_path
    if not path.is_file():
        return f"{path.name} is missing: {how_to_update}"
    try:
        expected = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return f"{path.name} is not valid JSON ({error}): {how_to_update}"
    actual = json.loads(jsonform.dumps(result))
    if expected == actual:
        return None
    diff = json_diff(
        expected, actual, expected_name=path.name, actual_name=f"decode({sample.reference})"
    )
    return f"{sample.reference} does not decode to {path.name} (- expected, + actual); " + (
        f"if the change is intended, {how_to_update}\n{diff}"
    )


def write_golden(sample: GoldenSample, result: DecodeResult) -> bool:
    """Write the sample's expected file from ``result``; True when its content changed."""
    text = jsonform.dumps(result)
    path = sample.expected_path
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
