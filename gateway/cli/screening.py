"""``liaison screen | hits | decide``: subjects checked against the screening lists, the stored
hits listed, and an analyst's decision on one.

``screen`` prints one JSON document, ``{"subjects": [...], "hits": [...], "entries": [...]}``, in
protobuf's JSON mapping: each hit names ``subjectRecordId`` and (when the caller may see the
entry) ``entryRecordId``, and ``entries`` holds the entries the caller may see. A hit on an entry
the caller may not see says only that there is one, on which list, and which centre to contact.
``hits`` prints hit records as JSON lines; ``decide`` prints the decided hit record.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import Message

from adapters import Diagnostic
from gateway.cli.arguments import non_negative_int, positive_int, timestamp
from gateway.cli.commands import Commands
from gateway.cli.connection import connect
from gateway.cli.exits import EXIT_OK, RefusedError, UsageError
from gateway.cli.jsonio import RecordFileError, iter_records, record_to_json
from gateway.cli.legacy import read_payload, summarise
from liaison.v1 import screening_hit_pb2

__all__ = ["BAND_NAMES", "DECISION_NAMES", "add_commands"]

BAND_NAMES: Final[dict[str, screening_hit_pb2.ScreeningBand.ValueType]] = {
    "hit": screening_hit_pb2.SCREENING_BAND_HIT,
    "review": screening_hit_pb2.SCREENING_BAND_REVIEW,
}
"""Bands as the command line names them."""

DECISION_NAMES: Final[dict[str, screening_hit_pb2.ScreeningDecisionKind.ValueType]] = {
    "match": screening_hit_pb2.SCREENING_DECISION_KIND_MATCH,
    "no-match": screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH,
    "unsure": screening_hit_pb2.SCREENING_DECISION_KIND_UNSURE,
}
"""Decisions as the command line names them."""

_DECISION_HELP: Final = {
    "match": "the subject is the listed entry",
    "no-match": "the subject is not the listed entry",
    "unsure": "not enough to say either way",
}

_SCREEN_HELP: Final = (
    "screen the subjects of FILE (records as JSON Lines or a JSON array: persons, travel "
    "documents, passenger manifests with their travellers' records; or, with --format, a legacy "
    "payload the gateway decodes) against the screening lists, and print one JSON document, "
    '{"subjects": [...], "hits": [...], "entries": [...]}, in protobuf\'s JSON mapping. Stores '
    "nothing. Exit code 0 with or without hits; 1 when the gateway refuses the request or the "
    "payload holds no subject."
)
_HITS_HELP: Final = (
    "print the stored screening hits the caller may see as JSON lines (one hit record per "
    "line), following the pages to the last. Exit code 0 also when there are none."
)
_DECIDE_HELP: Final = (
    "record an analyst's decision on a stored hit (a new version of the hit record, at the "
    "centre that screened) and print the hit as now stored. A no-match suppresses the same "
    "pair in later screenings until the entry changes."
)


def add_commands(command: Commands) -> None:
    """Add ``screen``, ``hits`` and ``decide``."""
    screen = command("screen", _SCREEN_HELP)
    screen.add_argument("file", metavar="FILE", help="the subjects; - for standard input")
    screen.add_argument(
        "--format",
        metavar="NAME",
        help="FILE is a legacy payload for this adapter (paxlst, icao-mrz, ...), decoded by the "
        "gateway",
    )
    _add_list_option(screen, "screen against these lists only (default: every list)")
    screen.set_defaults(run=_screen)

    hits = command("hits", _HITS_HELP)
    hits.add_argument(
        "--band",
        dest="bands",
        action="append",
        default=[],
        choices=list(BAND_NAMES),
        help="only this band (repeatable)",
    )
    decided = hits.add_mutually_exclusive_group()
    decided.add_argument("--undecided", action="store_true", help="only hits not yet decided")
    decided.add_argument(
        "--decision",
        dest="decisions",
        action="append",
        default=[],
        choices=list(DECISION_NAMES),
        help="only hits decided so (repeatable)",
    )
    _add_list_option(hits, "only hits on these lists")
    hits.add_argument(
        "--since", type=timestamp, metavar="ISO8601", help="screened at or after (default UTC)"
    )
    hits.add_argument(
        "--until", type=timestamp, metavar="ISO8601", help="screened before (default UTC)"
    )
    hits.add_argument(
        "--page-size",
        type=positive_int,
        default=0,
        metavar="N",
        help="hits per call (default: the gateway's)",
    )
    hits.set_defaults(run=_hits)

    decide = command("decide", _DECIDE_HELP)
    decide.add_argument("hit_record_id", metavar="HIT_ID", help="the hit record's id")
    decision = decide.add_mutually_exclusive_group(required=True)
    for name, meaning in _DECISION_HELP.items():
        decision.add_argument(
            f"--{name}",
            dest="decision",
            action="store_const",
            const=DECISION_NAMES[name],
            help=meaning,
        )
    decide.add_argument("--note", default="", metavar="TEXT", help="the analyst's note")
    decide.add_argument(
        "--expected-version",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="the hit version looked at: refused if the hit has moved on (default: the latest)",
    )
    decide.set_defaults(run=_decide)


def _add_list_option(parser: argparse.ArgumentParser, help_: str) -> None:
    parser.add_argument(
        "--list",
        dest="lists",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help=f"{help_} (notices, sltd, or a list of the gateway's [screening] configuration)",
    )


def _screen(args: argparse.Namespace) -> int:
    payload = read_payload(args.file)
    name = "standard input" if args.file == "-" else args.file
    with connect(args) as client:
        if args.format:
            response = client.screen(
                adapter=args.format, payload=payload, lists=args.lists, timeout=args.timeout
            )
        else:
            try:
                records = list(iter_records(payload))
            except RecordFileError as error:
                raise UsageError(f"{name}: {error}") from None
            if not records:
                raise UsageError(f"{name} holds no record to screen")
            response = client.screen(records, lists=args.lists, timeout=args.timeout)
    summarise(Diagnostic.from_proto(d) for d in response.diagnostics)
    document = {
        "subjects": [_json(record) for record in response.subjects],
        "hits": [_json(hit) for hit in response.hits],
        "entries": [_json(entry) for entry in response.entries],
    }
    print(json.dumps(document, ensure_ascii=False, indent=2))
    if not response.subjects:
        raise RefusedError(f"{name} holds no subject the {args.format} adapter could decode")
    return EXIT_OK


def _hits(args: argparse.Namespace) -> int:
    decisions = [DECISION_NAMES[name] for name in args.decisions]
    if args.undecided:
        decisions = [screening_hit_pb2.SCREENING_DECISION_KIND_UNSPECIFIED]
    with connect(args) as client:
        for hit in client.hits(
            bands=[BAND_NAMES[name] for name in args.bands],
            decisions=decisions,
            lists=args.lists,
            screened_after=args.since,
            screened_before=args.until,
            page_size=args.page_size,
            timeout=args.timeout,
        ):
            print(record_to_json(hit), flush=True)
    return EXIT_OK


def _decide(args: argparse.Namespace) -> int:
    with connect(args) as client:
        response = client.decide(
            args.hit_record_id,
            args.decision,
            args.note,
            args.expected_version,
            timeout=args.timeout,
        )
    print(record_to_json(response.hit))
    print(
        f"liaison: hit {response.ack.record_id} decided at version {response.ack.version}",
        file=sys.stderr,
    )
    return EXIT_OK


def _json(message: Message) -> Any:
    return json_format.MessageToDict(message, preserving_proto_field_name=False)
