"""``liaison adapters``, ``liaison translate`` and ``liaison ingest``: legacy files in and out.

``adapters`` and ``translate`` run the installed adapters in this process and need no gateway;
``ingest`` sends a file to a running gateway, which decodes and stores it.

Diagnostics are summarised on stderr one per line - severity, code, location and the adapter's
message, which by the adapter contract names what is wrong and where, never a value of the
payload.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from google.protobuf import json_format

from adapters import (
    Adapter,
    AdapterRegistry,
    DecodeResult,
    Diagnostic,
    EncodeResult,
    UnknownAdapterError,
    default_registry,
)
from adapters.jsonform import dumps
from gateway.client import LiaisonClient
from liaison.v1 import record_pb2, translation_pb2

__all__ = ["JSON_FORMAT", "add_translation_commands"]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

JSON_FORMAT = "json"
"""The ``--to`` name of the JSON form of records (``adapters.jsonform``)."""

_TRANSLATE_HELP = (
    "decode a legacy file with the adapter --format names and print one JSON document, "
    '{"records": [...], "diagnostics": [...]}, in protobuf\'s JSON mapping; with --to, convert '
    "the records no error concerns into another format (or 'json') instead. Runs locally, "
    "without a gateway. Exit code 1 when any diagnostic is an error."
)


class CommandFactory(Protocol):
    """``liaison``'s way of adding a subcommand (``client``: it takes --target/--timeout)."""

    def __call__(
        self, name: str, help_: str, *, client: bool = True
    ) -> argparse.ArgumentParser: ...


def add_translation_commands(
    command: CommandFactory, connect: Callable[[argparse.Namespace], LiaisonClient]
) -> None:
    """Register the commands on the ``liaison`` parser.

    Args:
        command: Adds a subcommand parser.
        connect: Opens the client of a client command, from its parsed arguments.
    """
    adapters = command("adapters", "list the adapters installed here", client=False)
    adapters.add_argument(
        "--json", action="store_true", help="one JSON object per adapter and line, not a table"
    )
    adapters.set_defaults(run=_adapters)

    translate = command("translate", _TRANSLATE_HELP, client=False)
    _add_format_and_path(translate)
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

    ingest = command(
        "ingest",
        "send a legacy file to the gateway, which decodes it and stores all its records or none; "
        "ingesting the same file again stores nothing. Exit code 1 when refused or when records "
        "were skipped.",
    )
    _add_format_and_path(ingest)
    ingest.add_argument(
        "--accept-partial",
        action="store_true",
        help="store the records no error concerns, skip the others (default: refuse the file)",
    )
    ingest.add_argument(
        "--source-reference",
        metavar="REF",
        help="reference carried into provenance (default: the file name)",
    )
    ingest.add_argument("--json", action="store_true", help="print the response as JSON")
    ingest.set_defaults(run=lambda args: _ingest(args, connect))


def _add_format_and_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", required=True, metavar="NAME", help="the adapter's name")
    parser.add_argument("path", metavar="PATH", help="the legacy file; - for standard input")


def _adapters(args: argparse.Namespace) -> int:
    registry = default_registry()
    _warn_about_plugins(registry)
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
        return _usage(f"{error}{extra}")
    if target is not None and not target.can_encode():
        encoders = ", ".join([a.name for a in registry if a.can_encode()] + [JSON_FORMAT])
        return _usage(f"adapter {target.name!r} cannot encode; formats that can: {encoders}")
    payload = _read(args.path)
    if payload is None:
        return EXIT_USAGE
    if args.strict:
        source = source.configured(strict=True)
    result = _decoded(source, payload, "" if args.path == "-" else Path(args.path).name)
    if result is None:
        return EXIT_REFUSED
    _summarise(result.diagnostics)
    if args.to is None:
        if not _written(args.output, dumps(result).encode()):
            return EXIT_USAGE
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
    if encoded is None:
        return EXIT_REFUSED
    _summarise(encoded.diagnostics)
    if not _written(args.output, encoded.payload):
        return EXIT_USAGE
    return EXIT_REFUSED if result.has_errors or encoded.has_errors else EXIT_OK


def _ingest(
    args: argparse.Namespace, connect: Callable[[argparse.Namespace], LiaisonClient]
) -> int:
    payload = _read(args.path)
    if payload is None:
        return EXIT_USAGE
    reference = args.source_reference
    if reference is None:
        reference = "" if args.path == "-" else Path(args.path).name
    with connect(args) as client:
        response = client.ingest(
            args.format,
            payload,
            source_reference=reference,
            accept_partial=args.accept_partial,
            timeout=args.timeout,
        )
    _summarise(Diagnostic.from_proto(d) for d in response.diagnostics)
    for record_id in response.skipped_record_ids:
        print(f"skipped {record_id}: an error diagnostic concerns it", file=sys.stderr)
    if args.json:
        print(json.dumps(json_format.MessageToDict(response), ensure_ascii=False))
    else:
        _print_acks(response)
    return EXIT_REFUSED if response.skipped_record_ids else EXIT_OK


def _print_acks(response: translation_pb2.IngestResponse) -> None:
    for ack in response.acks:
        print(f"{'duplicate' if ack.duplicate else 'stored'} {ack.record_id} version {ack.version}")
    duplicates = sum(1 for ack in response.acks if ack.duplicate)
    note = " (this file was ingested before)" if response.duplicate else ""
    print(
        f"stored {len(response.acks) - duplicates}, duplicates {duplicates}, "
        f"skipped {len(response.skipped_record_ids)}{note}"
    )


def _decoded(adapter: Adapter, payload: bytes, reference: str) -> DecodeResult | None:
    try:
        return adapter.decode(payload, source_reference=reference)
    except Exception as error:
        # A defect of that adapter (decode must not raise); its message could quote the input.
        _error(f"adapter {adapter.name!r} failed on this input ({type(error).__name__})")
        return None


def _encoded(adapter: Adapter, records: Sequence[record_pb2.Record]) -> EncodeResult | None:
    try:
        return adapter.encode(records)
    except Exception as error:
        _error(f"adapter {adapter.name!r} failed on these records ({type(error).__name__})")
        return None


def _read(path: str) -> bytes | None:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as error:
        _usage(f"cannot read {path}: {error.strerror}")
        return None


def _written(output: Path | None, data: bytes) -> bool:
    """Write the result to ``output`` (stdout when ``None``); ``False`` when it cannot be."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return True
    try:
        output.write_bytes(data)
    except OSError as error:
        _usage(f"cannot write {output}: {error.strerror}")
        return False
    return True


def _summarise(diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)


def _warn_about_plugins(registry: AdapterRegistry) -> None:
    for problem in registry.problems:
        print(
            f"liaison: warning: adapter plugin not loaded: {problem.entry_point}: {problem.reason}",
            file=sys.stderr,
        )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _usage(message: str) -> int:
    _error(message)
    return EXIT_USAGE


def _error(message: str) -> None:
    print(f"liaison: error: {message}", file=sys.stderr)
