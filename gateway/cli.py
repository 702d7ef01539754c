"""The ``liaison`` command: run a gateway, or talk to one.

Commands::

    liaison serve [--config PATH] [--listen HOST:PORT] [--db PATH] [--centre-id ID]
    liaison submit FILE              records as a JSON array or JSON Lines; - reads stdin
    liaison get ID [--version N]
    liaison search [criteria] [--page-size N] [--cursor C] [--all]
    liaison subscribe [--after N] [--kind K ...] [--centre ID ...] [--limit N]
    liaison health [--service NAME]
    liaison adapters [--json]        the adapters installed here
    liaison translate --format NAME [--to NAME] [--output FILE] [--strict] PATH
                                     decode (or convert) a legacy file locally, no gateway
    liaison ingest --format NAME PATH [--accept-partial]
                                     store a legacy file's records in the gateway, atomically

Records are read and printed in protobuf's JSON mapping, one compact JSON object per line
(``liaison translate`` prints one JSON document, ``{"records": [...], "diagnostics": [...]}``).

Exit codes:
    0    success
    1    the gateway refused the request or found nothing: NOT_FOUND, INVALID_ARGUMENT, any
         rejected or skipped record, a search without hits, a status other than SERVING;
         for translate, an error diagnostic
    2    usage error: bad arguments, unreadable file, malformed JSON, bad configuration, or a
         gateway that cannot start (address in use, unusable store)
    3    the gateway is unreachable or did not answer before the deadline
    130  interrupted (Ctrl-C)

Errors are reported as one line on stderr, ``liaison: error: ...``, followed by the refused
fields, indented, when the gateway named them.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import dataclasses
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

import grpc
from google.protobuf import timestamp_pb2

from gateway.cli_security import add_security_commands
from gateway.cli_translation import add_translation_commands
from gateway.client import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_TIMEOUT,
    GatewayUnavailableError,
    LiaisonClient,
    LiaisonError,
)
from gateway.config import ConfigError, TelemetryConfig, load_config
from gateway.jsonio import RecordFileError, iter_records, record_to_json
from gateway.security.tls import TlsConfig, TlsError, channel_credentials, peer_channel_options
from gateway.telemetry import Telemetry
from gateway.telemetry.settings import TelemetryConfigError, resolve_settings
from liaison.rules.ids import CENTRE_ID_PATTERN
from liaison.v1 import common_pb2, exchange_pb2, federation_pb2, record_pb2

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "KIND_NAMES",
    "build_parser",
    "main",
]

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3
EXIT_INTERRUPTED: Final = 130

DEFAULT_TARGET: Final = "127.0.0.1:50051"

_KIND_PREFIX = "RECORD_KIND_"
KIND_NAMES: Final[dict[str, record_pb2.RecordKind.ValueType]] = {
    value.name.removeprefix(_KIND_PREFIX).lower(): record_pb2.RecordKind.ValueType(value.number)
    for value in record_pb2.RecordKind.DESCRIPTOR.values
    if value.number != record_pb2.RECORD_KIND_UNSPECIFIED
}
"""Record kinds as the command line names them (``person``, ``travel_document``, ...)."""

_EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    refused or nothing found (NOT_FOUND, INVALID_ARGUMENT, rejected records,
       no search hit, not SERVING)
  2    usage error (bad arguments, unreadable file, malformed JSON, bad configuration,
       a gateway that cannot start)
  3    gateway unreachable or deadline exceeded
  130  interrupted"""

_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class _UsageError(Exception):
    """A problem with what the user asked for, found after argument parsing (exit code 2)."""


CLI_SERVICE_NAME = "liaison-cli"
"""``service.name`` of the client commands' spans."""


class _ClientTelemetry:
    """The client commands' telemetry, made on first use from the ``OTEL_*`` variables alone.

    Off unless they ask for an exporter (``OTEL_TRACES_EXPORTER=otlp`` or ``console``): then the
    command's calls are traced as client spans, and the gateway's spans continue the same trace.
    Only client commands build it, so ``liaison serve`` keeps to its own ``[telemetry]``.
    """

    def __init__(self) -> None:
        self._telemetry: Telemetry | None = None

    def get(self) -> Telemetry:
        if self._telemetry is None:
            settings = resolve_settings(
                TelemetryConfig(exporter="none", service_name=CLI_SERVICE_NAME), os.environ
            )
            self._telemetry = Telemetry.from_settings(settings, centre_id="")
        return self._telemetry

    def shutdown(self) -> None:
        """Export what the command's spans left pending (a short-lived process must flush)."""
        if self._telemetry is not None:
            self._telemetry.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``liaison`` command.

    Args:
        argv: The arguments, without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The exit code (see the module documentation).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse exits by itself for --help (0) and usage errors (2); return the code instead
        # so that main() can be called in-process.
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    args.client_telemetry = _ClientTelemetry()
    try:
        code: int = args.run(args)
    except (_UsageError, ConfigError, TelemetryConfigError) as error:
        return _report(str(error), EXIT_USAGE)
    except GatewayUnavailableError as error:
        return _report(_unreachable_message(error, args.target), EXIT_UNREACHABLE)
    except LiaisonError as error:
        return _report(str(error), EXIT_REFUSED, error.field_violations)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        args.client_telemetry.shutdown()
    return code


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``liaison`` command (read by ``main`` and by the tests)."""
    target_default = os.environ.get("LIAISON_TARGET") or DEFAULT_TARGET
    parser = argparse.ArgumentParser(
        prog="liaison",
        description="Liaison gateway: serve a centre, or submit, read, search and follow records.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--target",
        default=target_default,
        metavar="HOST:PORT",
        help=f"gateway to talk to (default: $LIAISON_TARGET or {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help=f"deadline of each call (default: {DEFAULT_TIMEOUT:g} s; none for submit and "
        "subscribe)",
    )
    tls = parser.add_argument_group(
        "mutual TLS (a centre with [tls] accepts nothing else; defaults from the environment)"
    )
    for flag, variable, what in (
        ("--cert", "LIAISON_CERT", "this client's certificate (PEM)"),
        ("--key", "LIAISON_KEY", "its private key (PEM)"),
        ("--ca", "LIAISON_CA", "the CA certificates to trust (PEM)"),
    ):
        tls.add_argument(
            flag,
            type=Path,
            default=os.environ.get(variable),
            metavar="PATH",
            help=f"${variable}: {what}",
        )
    tls.add_argument(
        "--server-centre",
        default=os.environ.get("LIAISON_SERVER_CENTRE"),
        metavar="ID",
        help="$LIAISON_SERVER_CENTRE: accept only this centre's certificate",
    )
    # The same options on every client command, so that they may also follow the command name;
    # SUPPRESS leaves the values given before the command alone when they are absent after it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--target", default=argparse.SUPPRESS, metavar="HOST:PORT", help="as before the command"
    )
    common.add_argument(
        "--timeout",
        type=_positive_float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="as before the command",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(name: str, help_: str, *, client: bool = True) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_,
            description=help_,
            parents=[common] if client else [],
            epilog=_EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    serve = command("serve", "run this centre's gateway until SIGINT or SIGTERM", client=False)
    serve.add_argument(
        "--config", type=Path, metavar="PATH", help="centre TOML file (default: $LIAISON_CONFIG)"
    )
    serve.add_argument("--listen", type=_listen_address, metavar="HOST:PORT", help="port 0: any")
    serve.add_argument("--db", type=Path, metavar="PATH", help="SQLite database file")
    serve.add_argument("--centre-id", type=_centre_id, metavar="ID", help="this centre's id")
    serve.set_defaults(run=_serve)

    submit = command("submit", "store the records of a file (JSON array or JSON Lines)")
    submit.add_argument("file", metavar="FILE", help="the records; - for standard input")
    submit.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"records per stream message (default: {DEFAULT_BATCH_SIZE})",
    )
    submit.set_defaults(run=_submit)

    get = command("get", "print a record as JSON")
    get.add_argument("record_id", metavar="ID")
    get.add_argument(
        "--version", type=_positive_int, default=0, metavar="N", help="default: the latest"
    )
    get.set_defaults(run=_get)

    search = command("search", "print matching records as JSON lines (one search hit per line)")
    search.add_argument("--document-number", default="", metavar="X", help="travel document number")
    search.add_argument("--issuing-state", default="", metavar="XXX", help="with --document-number")
    search.add_argument(
        "--family-name",
        default="",
        metavar="X",
        help="family name of a person, document holder or notice subject",
    )
    search.add_argument(
        "--birth-date", type=_partial_date, metavar="YYYY[-MM[-DD]]", help="with --family-name"
    )
    _add_kind_option(search)
    search.add_argument("--centre", default="", metavar="ID", help="originating centre")
    search.add_argument(
        "--since", type=_timestamp, metavar="ISO8601", help="committed at or after (default UTC)"
    )
    search.add_argument(
        "--until", type=_timestamp, metavar="ISO8601", help="committed before (default UTC)"
    )
    search.add_argument(
        "--page-size",
        type=_positive_int,
        default=0,
        metavar="N",
        help="hits per page (default: the gateway's)",
    )
    search.add_argument("--cursor", default="", metavar="C", help="resume after this cursor")
    search.add_argument(
        "--all", action="store_true", help="follow the cursors to the last page (default: one)"
    )
    search.set_defaults(run=_search)

    subscribe = command("subscribe", "print records as JSON lines as they are committed")
    subscribe.add_argument(
        "--after",
        type=_non_negative_int,
        metavar="N",
        help="start after this sequence number; 0 for everything (default: from now on)",
    )
    _add_kind_option(subscribe)
    subscribe.add_argument(
        "--centre",
        dest="centres",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="only records from these originating centres",
    )
    subscribe.add_argument(
        "--limit", type=_positive_int, metavar="N", help="stop after N records (default: Ctrl-C)"
    )
    subscribe.set_defaults(run=_subscribe)

    health = command("health", "print the serving status; exit code 0 only for SERVING")
    health.add_argument("--service", default="", metavar="NAME", help="default: the whole gateway")
    health.set_defaults(run=_health)

    deliveries = command("deliveries", "list forwarded records' delivery states (metadata only)")
    deliveries.add_argument("--record", default="", metavar="ID", help="only this record")
    deliveries.add_argument("--peer", default="", metavar="CENTRE", help="only this peer")
    deliveries.add_argument(
        "--state",
        action="append",
        default=[],
        choices=[name.lower() for name in _DELIVERY_STATES],
        help="only this state (repeatable)",
    )
    deliveries.add_argument("--limit", type=_positive_int, default=1000, metavar="N")
    deliveries.add_argument("--json", action="store_true", help="one JSON object per line")
    deliveries.set_defaults(run=_deliveries)

    replay = command("replay", "re-queue dead-lettered deliveries for another round of attempts")
    replay.add_argument("--peer", default="", metavar="CENTRE", help="only this peer")
    replay.add_argument("record_ids", nargs="*", metavar="ID", help="only these records")
    replay.set_defaults(run=_replay)
    add_security_commands(commands, _client)
    add_translation_commands(command, _client)
    return parser


def _add_kind_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind",
        dest="kinds",
        type=str.lower,
        choices=list(KIND_NAMES),
        action="extend",
        nargs="+",
        default=[],
        metavar="KIND",
        help=f"only these kinds: {', '.join(KIND_NAMES)}",
    )


def _serve(args: argparse.Namespace) -> int:
    environment_path = os.environ.get("LIAISON_CONFIG")
    config = load_config(args.config or (Path(environment_path) if environment_path else None))
    if args.listen is not None:
        config = dataclasses.replace(
            config, server=dataclasses.replace(config.server, listen=args.listen)
        )
    if args.db is not None:
        config = dataclasses.replace(
            config, storage=dataclasses.replace(config.storage, path=args.db)
        )
    if args.centre_id is not None:
        config = dataclasses.replace(config, centre_id=args.centre_id)
    # Imported here: the client commands must not pay for loading the server and its store.
    from gateway.server import ServeError, run

    try:
        run(config)
    except ServeError as error:
        raise _UsageError(str(error)) from None
    return EXIT_OK


def _client(args: argparse.Namespace) -> LiaisonClient:
    credentials = None
    options: list[tuple[str, str]] = []
    given = [args.cert, args.key, args.ca]
    if any(given):
        if not all(given):
            raise _UsageError("mutual TLS needs --cert, --key and --ca together")
        try:
            credentials = channel_credentials(TlsConfig(args.cert, args.key, args.ca))
        except TlsError as error:
            raise _UsageError(str(error)) from None
        if args.server_centre:
            options = peer_channel_options(args.server_centre)
    telemetry: Telemetry = args.client_telemetry.get()
    return LiaisonClient(
        args.target,
        timeout=args.timeout or DEFAULT_TIMEOUT,
        credentials=credentials,
        options=options,
        interceptors=telemetry.client_interceptors(args.target),
    )


def _submit(args: argparse.Namespace) -> int:
    name = "standard input" if args.file == "-" else args.file
    record_ids: list[str] = []
    with _open_input(args.file) as stream, _client(args) as client:

        def records() -> Iterator[record_pb2.Record]:
            # Remembered so that a rejection can name the record; the gateway reports positions.
            for record in iter_records(stream):
                record_ids.append(record.record_id)
                yield record

        try:
            response = client.submit_many(records(), args.batch_size, timeout=args.timeout)
        except RecordFileError as error:
            note = (
                " (records before it may have been stored; submitting the corrected file again "
                "is safe)"
                if record_ids
                else ""
            )
            raise _UsageError(f"{name}: {error}{note}") from None
    for result in response.results:
        if not result.HasField("error"):
            continue
        record_id = record_ids[result.index] if result.index < len(record_ids) else "?"
        where = f"record #{result.index} ({record_id})"
        problems = [f"{v.field}: {v.description}" for v in result.error.field_violations]
        for problem in problems or [result.error.message]:
            print(f"{where}: {problem}", file=sys.stderr)
    print(
        f"stored {response.stored}, duplicates {response.duplicates}, rejected {response.rejected}"
    )
    return EXIT_REFUSED if response.rejected else EXIT_OK


@contextlib.contextmanager
def _open_input(name: str) -> Iterator[IO[bytes]]:
    if name == "-":
        # Not closed afterwards: standard input belongs to the interpreter.
        yield sys.stdin.buffer
        return
    try:
        stream = open(name, "rb")  # noqa: SIM115 - closed below, after the error handling
    except OSError as error:
        raise _UsageError(f"cannot read {name}: {error.strerror}") from None
    with stream:
        yield stream


def _get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        response = client.get(args.record_id, args.version, timeout=args.timeout)
    print(record_to_json(response.record))
    return EXIT_OK


def _search(args: argparse.Namespace) -> int:
    request = _search_request(args)
    hits = 0
    with _client(args) as client:
        if args.all:
            for hit in client.search_all(request, timeout=args.timeout):
                hits += 1
                print(record_to_json(hit), flush=True)
        else:
            for response in client.search(request, timeout=args.timeout):
                if response.HasField("hit"):
                    hits += 1
                    print(record_to_json(response.hit), flush=True)
                elif response.page_end.has_more:
                    print(f"next cursor: {response.page_end.next_cursor}", file=sys.stderr)
    return EXIT_OK if hits else EXIT_REFUSED


def _search_request(args: argparse.Namespace) -> exchange_pb2.SearchRequest:
    if args.issuing_state and not args.document_number:
        raise _UsageError("--issuing-state needs --document-number")
    if args.birth_date is not None and not args.family_name:
        raise _UsageError("--birth-date needs --family-name")
    request = exchange_pb2.SearchRequest(
        document_number=args.document_number,
        issuing_state=args.issuing_state,
        family_name=args.family_name,
        kinds=[KIND_NAMES[kind] for kind in args.kinds],
        originating_centre=args.centre,
        page_size=args.page_size,
        cursor=args.cursor,
    )
    if args.birth_date is not None:
        request.birth_date.CopyFrom(args.birth_date)
    if args.since is not None:
        request.committed_after.CopyFrom(args.since)
    if args.until is not None:
        request.committed_before.CopyFrom(args.until)
    return request


def _subscribe(args: argparse.Namespace) -> int:
    delivered = 0
    with _client(args) as client:
        events = client.subscribe(
            args.after,
            [KIND_NAMES[kind] for kind in args.kinds],
            args.centres,
            timeout=args.timeout,
        )
        try:
            for event in events:
                if event.HasField("caught_up"):
                    print(f"caught up at sequence {event.caught_up.sequence}", file=sys.stderr)
                    continue
                print(record_to_json(event.record_event), flush=True)
                delivered += 1
                if args.limit is not None and delivered >= args.limit:
                    break
        finally:
            events.close()
    return EXIT_OK


def _health(args: argparse.Namespace) -> int:
    with _client(args) as client:
        status = client.health(args.service, timeout=args.timeout)
    print(status)
    return EXIT_OK if status == "SERVING" else EXIT_REFUSED


_DELIVERY_STATES = {
    name.removeprefix("DELIVERY_STATE_"): number
    for name, number in federation_pb2.DeliveryState.items()
    if number
}


def _deliveries(args: argparse.Namespace) -> int:
    states = [_DELIVERY_STATES[name.upper()] for name in args.state]
    with _client(args) as client:
        found = client.deliveries(
            record_id=args.record,
            peer=args.peer,
            states=states,
            limit=args.limit,
            timeout=args.timeout,
        )
    for status in found:
        if args.json:
            print(record_to_json(status))
            continue
        state = federation_pb2.DeliveryState.Name(status.state).removeprefix("DELIVERY_STATE_")
        why = status.last_error or status.reason
        print(
            f"{status.record_id} v{status.version} -> {status.peer}: {state.lower()} "
            f"(attempts {status.attempts}){': ' + why if why else ''}"
        )
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    with _client(args) as client:
        requeued = client.replay_dead_letters(
            peer=args.peer, record_ids=args.record_ids, timeout=args.timeout
        )
    print(f"re-queued {len(requeued)} dead-lettered deliveries")
    for status in requeued:
        print(f"{status.record_id} v{status.version} -> {status.peer}")
    return EXIT_OK


def _report(message: str, code: int, violations: Sequence[tuple[str, str]] = ()) -> int:
    print(f"liaison: error: {message}", file=sys.stderr)
    for field, description in violations:
        print(f"  {field}: {description}", file=sys.stderr)
    return code


def _unreachable_message(error: GatewayUnavailableError, target: str) -> str:
    if error.code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"the gateway at {target} did not answer before the deadline"
    return f"cannot reach the gateway at {target}: {error.message}"


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"not a non-negative integer: {text!r}")
    return int(text)


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _listen_address(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return text


def _centre_id(text: str) -> str:
    if not CENTRE_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"a centre id is 1-64 upper-case letters, digits or hyphens, got {text!r}"
        )
    return text


def _partial_date(text: str) -> common_pb2.PartialDate:
    match = _PARTIAL_DATE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")
    year_text, month_text, day_text = match.groups()
    year, month, day = int(year_text), int(month_text or 0), int(day_text or 0)
    if year == 0:
        raise argparse.ArgumentTypeError("the year must be 0001 to 9999")
    # Zero means "unknown" in a PartialDate; an unknown part is left out, not written as 00.
    if month_text and not 1 <= month <= 12:
        raise argparse.ArgumentTypeError(f"no month {month_text}")
    if day_text and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise argparse.ArgumentTypeError(f"no day {day_text} in {year_text}-{month_text}")
    return common_pb2.PartialDate(year=year, month=month, day=day)


def _timestamp(text: str) -> timestamp_pb2.Timestamp:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    timestamp = timestamp_pb2.Timestamp()
    timestamp.FromDatetime(moment)
    return timestamp


if __name__ == "__main__":
    sys.exit(main())
