"""``liaison adapters`` and ``liaison translate``: the installed adapters, run in this process,
without a gateway."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from google.protobuf import json_format

from adapters import (
    Adapter,
    DecodeResult,
    EncodeResult,
    UnknownAdapterError,
    default_registry,
)
from adapters.jsonform import dumps
from gateway.cli.commands import Commands
from gateway.cli.exits import EXIT_OK, EXIT_REFUSED, RefusedError, UsageError
from gateway.cli.legacy import (
    decoded,
    read_payload,
    source_reference,
    summarise,
    warn_about_plugins,
)
from liaison.v1 import record_pb2

__all__ = ["JSON_FORMAT", "add_commands", "add_format_and_path"]

JSON_FORMAT: Final = "json"
"""The ``--to`` name of the JSON form of records (``adapters.jsonform``)."""

_TRANSLATE_HELP: Final = (
    "decode a legacy file with the adapter --format names and print one JSON document, "
    '{"records": [...], "diagnostics": [...]}, in protobuf\'s JSON mapping; with --to, convert '
    "the records no error concerns into another format (or 'json') instead. Runs locally, "
    "without a gateway. Exit code 1 when any diagnostic is an error."
)


def add_commands(command: Commands) -> None:
    """Add ``adapters`` and ``translate``."""
    adapters = command("adapters", "list the adapters installed here", client=False)
    adapters.add_argument(
        "--json", action="store_true", help="one JSON object per adapter and line, not a table"
    )
    adapters.set_defaults(run=_adapters)

    translate = command("translate", _TRANSLATE_HELP, client=False)
    add_format_and_path(translate)
    translate.add_argument(
        "--to",
        metavar="NAME",
        help=f"convert into this adapter's format, or '{JSON_FORMAT}' for the JSON form of the "
        "records",
    )
    translate.add_argument(
        "--output", type=Path, metavar="FILE", help="write the result here, not to stdout"
    )
    translate.add_argument(
        "--strict",
        action="store_true",
        help="refuse what the adapter otherwise tolerates with a warning, such as national "
        "variants of the format's standard (icao-mrz: the Belgian and Portuguese ID-card check "
        "digit); they become errors",
    )
    translate.set_defaults(run=_translate)


def add_format_and_path(parser: argparse.ArgumentParser) -> None:
    """``--format NAME`` and ``PATH``, of the commands on a legacy file."""
    parser.add_argument("--format", required=True, metavar="NAME", help="the adapter's name")
    parser.add_argument("path", metavar="PATH", help="the legacy file; - for standard input")


def _adapters(args: argparse.Namespace) -> int:
    registry = default_registry()
    warn_about_plugins(registry)
    infos = [adapter.info() for adapter in registry]
    if args.json:
        for info in infos:
            print(json.dumps(json_format.MessageToDict(info), ensure_ascii=False))
        return EXIT_OK
    rows = [("NAME", "VERSION", "DECODE", "ENCODE", "EXTENSIONS", "DESCRIPTION")] + [
        (
            info.name,
            info.version,
            _yes(info.can_decode),
            _yes(info.can_encode),
            ",".join(info.file_extensions) or "-",
            info.description,
        )
        for info in infos
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[5]]).rstrip())
    return EXIT_OK


def _translate(args: argparse.Namespace) -> int:
    registry = default_registry()
    try:
        source = registry.get(args.format)
        target = None if args.to in (None, JSON_FORMAT) else registry.get(args.to)
    except UnknownAdapterError as error:
        extra = f" (or '{JSON_FORMAT}')" if args.to is not None else ""
        raise UsageError(f"{error}{extra}") from None
    if target is not None and not target.can_encode():
        encoders = ", ".join([a.name for a in registry if a.can_encode()] + [JSON_FORMAT])
        raise UsageError(f"adapter {target.name!r} cannot encode; formats that can: {encoders}")
    payload = read_payload(args.path)
    if args.strict:
        source = source.configured(strict=True)
    result = decoded(source, payload, source_reference(args.path))
    summarise(result.diagnostics)
    if args.to is None:
        _write(args.output, dumps(result).encode())
        return EXIT_REFUSED if result.has_errors else EXIT_OK
    clean = result.clean
    if len(clean) < len(result.records):
        print(
            f"liaison: {len(result.records) - len(clean)} record(s) not converted: an error "
            "diagnostic concerns them",
            file=sys.stderr,
        )
    encoded = (
        EncodeResult(dumps(DecodeResult(clean)).encode())
        if target is None
        else _encoded(target, clean)
    )
    summarise(encoded.diagnostics)
    _write(args.output, encoded.payload)
    return EXIT_REFUSED if result.has_errors or encoded.has_errors else EXIT_OK


def _encoded(adapter: Adapter, records: Sequence[record_pb2.Record]) -> EncodeResult:
    try:
        return adapter.encode(records)
    except Exception as error:
        raise RefusedError(
            f"adapter {adapter.name!r} failed on these records ({type(error).__name__})"
        ) from None


def _write(output: Path | None, data: bytes) -> None:
    """Write the result to ``output`` (stdout when ``None``).

    Raises:
        UsageError: ``output`` cannot be written.
    """
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from None


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
