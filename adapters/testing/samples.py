"""Golden samples: the layout of a samples directory, and what it must contain.

A samples directory holds, for each sample ``NAME``:

- ``NAME.<ext>``: the input bytes, exactly as the legacy system produces them;
- ``NAME.expected.json``: what the adapter decodes from them, in the JSON form of
  ``adapters.jsonform`` (decoded with the input's file name as the source reference);

and one ``SOURCES.md`` that names every sample with the specification clause or public source it
was authored from. Hidden files (``.NAME``) and subdirectories are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EXPECTED_SUFFIX",
    "SOURCES_FILE",
    "GoldenSample",
    "find_golden_samples",
    "samples_directory_problems",
]

EXPECTED_SUFFIX = ".expected.json"
SOURCES_FILE = "SOURCES.md"
_ERROR_SEVERITY = "DIAGNOSTIC_SEVERITY_ERROR"


@dataclass(frozen=True, slots=True)
class GoldenSample:
    """One input file and the expected decode beside it."""

    input_path: Path

    @property
    def reference(self) -> str:
        """The input's file name: the source reference the sample is decoded with."""
        return self.input_path.name

    @property
    def name(self) -> str:
        """``NAME``: the file name without its last extension."""
        return self.input_path.stem

    @property
    def expected_path(self) -> Path:
        return self.input_path.with_name(self.name + EXPECTED_SUFFIX)

    def read(self) -> bytes:
        return self.input_path.read_bytes()

    def expects_errors(self) -> bool | None:
        """Whether the expected decode has an error diagnostic; None when it cannot be read."""
        try:
            document = json.loads(self.expected_path.read_text(encoding="utf-8"))
            diagnostics = document.get("diagnostics", [])
            return any(item.get("severity") == _ERROR_SEVERITY for item in diagnostics)
        except (OSError, ValueError, AttributeError):
            return None

    def __str__(self) -> str:
        return self.reference


def find_golden_samples(directory: Path) -> tuple[GoldenSample, ...]:
    """The input files of ``directory``, sorted by name."""
    return tuple(
        GoldenSample(path)
        for path in sorted(directory.iterdir())
        if path.is_file()
        and not path.name.startswith(".")
        and not path.name.endswith(EXPECTED_SUFFIX)
        and path.name != SOURCES_FILE
    )


def _mentions(text: str, sample: GoldenSample) -> bool:
    # The file name, or NAME as a whole word: "td1" must not count as a mention of "td1-long".
    for token in (sample.reference, sample.name):
        pattern = rf"(?<![\w.-]){re.escape(token)}(?![\w-]|\.\w)"
        if re.search(pattern, text):
            return True
    return False


def samples_directory_problems(directory: Path) -> list[str]:
    """What is wrong with the layout of ``directory``; empty when nothing is."""
    if not directory.is_dir():
        return [f"{directory}: not a directory"]
    samples = find_golden_samples(directory)
    problems: list[str] = []
    if not samples:
        problems.append(f"{directory}: no golden sample (NAME.<ext> beside NAME{EXPECTED_SUFFIX})")
    names = [sample.name for sample in samples]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{directory}: several inputs named {name}.*; names must be unique")
    for expected in sorted(directory.glob("*" + EXPECTED_SUFFIX)):
        if expected.name[: -len(EXPECTED_SUFFIX)] not in names:
            problems.append(f"{expected}: no input file NAME.<ext> for this expected file")
    sources = directory / SOURCES_FILE
    if not sources.is_file():
        problems.append(f"{sources}: missing; list each sample with the source it comes from")
        return problems
    text = sources.read_text(encoding="utf-8")
    for sample in samples:
        if not _mentions(text, sample):
            problems.append(f"{sources}: does not mention {sample.reference}")
    return problems
