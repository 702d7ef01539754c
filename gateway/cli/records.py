"""``liaison submit | get | search | subscribe | health``: records in and out of a gateway.

Records are read and printed in protobuf's JSON mapping, one compact JSON object per line.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from gateway.cli.arguments import (
    KIND_NAMES,
    add_kind_option,
    non_negative_int,
    partial_date,
    positive_int,
    timestamp,
)
from gateway.cli.commands import Commands
from gateway.cli.connection import connect
from gateway.cli.exits import EXIT_OK, EXIT_REFUSED, UsageError
from gateway.cli.jsonio import record_to_json
from gateway.cli.progress import Progress
from gateway.cli.submission import (
    add_stream_options,
    limit_note,
    record_source,
    submit_records,
)
from gateway.client import DEFAULT_RESUME_ATTEMPTS
from liaison.v1 import exchange_pb2

__all__ = ["add_commands"]


def add_commands(command: Commands) -> None:
    """Add ``submit``, ``get``, ``search``, ``subscribe`` and ``health``."""
    submit = command(
        "submit",
        "store the records of a file (JSON array or JSON Lines), of any size: split over "
        "streams, with progress on a terminal and one summary",
    )
    submit.add_argument("file", metavar="FILE", help="the records; - for standard input")
    add_stream_options(submit)
    submit.set_defaults(run=_submit)

    get = command("get", "print a record as JSON")
    get.add_argument("record_id", metavar="ID")
    get.add_argument(
        "--version", type=positive_int, default=0, metavar="N", help="default: the latest"
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
        "--birth-date", type=partial_date, metavar="YYYY[-MM[-DD]]", help="with --family-name"
    )
    add_kind_option(search)
    search.add_argument("--centre", default="", metavar="ID", help="originating centre")
    search.add_argument(
        "--since", type=timestamp, metavar="ISO8601", help="committed at or after (default UTC)"
    )
    search.add_argument(
        "--until", type=timestamp, metavar="ISO8601", help="committed before (default UTC)"
    )
    search.add_argument(
        "--page-size",
        type=positive_int,
        default=0,
        metavar="N",
        help="hits per page (default: the gateway's)",
    )
    search.add_argument("--cursor", default="", metavar="C", help="resume after this cursor")
    search.add_argument(
        "--all", action="store_true", help="follow the cursors to the last page (default: one)"
    )
    search.set_defaults(run=_search)

    subscribe = command(
        "subscribe",
        "print records as JSON lines as they are committed; resumes after the last record "
        "seen when the gateway goes away",
    )
    subscribe.add_argument(
        "--after",
        type=non_negative_int,
        metavar="N",
        help="start after this sequence number; 0 for everything (default: from now on)",
    )
    add_kind_option(subscribe)
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
        "--limit", type=positive_int, metavar="N", help="stop after N records (default: Ctrl-C)"
    )
    subscribe.add_argument(
        "--resume-attempts",
        type=non_negative_int,
        default=DEFAULT_RESUME_ATTEMPTS,
        metavar="N",
        help="times in a row to resume after the gateway went away, backing off up to 2 s "
        f"(default: {DEFAULT_RESUME_ATTEMPTS}; 0: never)",
    )
    subscribe.set_defaults(run=_subscribe)

    health = command("health", "print the serving status; exit code 0 only for SERVING")
    health.add_argument("--service", default="", metavar="NAME", help="default: the whole gateway")
    health.set_defaults(run=_health)


def _submit(args: argparse.Namespace) -> int:
    source = record_source(args.file)  # opens the file: an unreadable one is a usage error
    progress = Progress()

    def on_result(result: exchange_pb2.SubmitResult, record_id: str) -> None:
        if not result.HasField("error"):
            return
        where = f"record #{result.index} ({record_id})"
        problems = [f"{v.field}: {v.description}" for v in result.error.field_violations]
        for problem in problems or [result.error.message]:
            progress.print(f"{where}: {problem}")

    with contextlib.closing(source), connect(args) as client:
        try:
            submitted = submit_records(
                client,
                source,
                batch_size=args.batch_size,
                records_per_stream=args.records_per_stream,
                timeout=args.timeout,
                progress=progress,
                on_result=on_result,
            )
        finally:
            progress.clear()
    streams = f" ({submitted.streams} streams)" if submitted.streams > 1 else ""
    print(
        f"stored {submitted.stored}, duplicates {submitted.duplicates}, "
        f"rejected {submitted.rejected}{streams}"
    )
    note = limit_note(submitted)
    if note is not None:
        print(f"liaison: note: {note}", file=sys.stderr)
    return EXIT_REFUSED if submitted.rejected else EXIT_OK


def _get(args: argparse.Namespace) -> int:
    with connect(args) as client:
        response = client.get(args.record_id, args.version, timeout=args.timeout)
    print(record_to_json(response.record))
    return EXIT_OK


def _search(args: argparse.Namespace) -> int:
    request = _search_request(args)
    hits = 0
    with connect(args) as client:
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
        raise UsageError("--issuing-state needs --document-number")
    if args.birth_date is not None and not args.family_name:
        raise UsageError("--birth-date needs --family-name")
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
    with connect(args) as client:
        events = client.subscribe(
            args.after,
            [KIND_NAMES[kind] for kind in args.kinds],
            args.centres,
            timeout=args.timeout,
            resume_attempts=args.resume_attempts,
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
    with connect(args) as client:
        status = client.health(args.service, timeout=args.timeout)
    print(status)
    return EXIT_OK if status == "SERVING" else EXIT_REFUSED
