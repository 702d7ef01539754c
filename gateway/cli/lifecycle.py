"""``liaison withdraw | review | reviews | recipients | threads``: the originating centre's
hold on its records, who holds a copy, and the request/reply threads.

``withdraw`` prints the tombstone's acknowledgement; ``review --extend`` prints the record's new
dates; ``reviews`` prints one JSON line per record due for review (id, kind, dates), soonest
first; ``recipients`` prints the recipient ledger of one record: one JSON line per peer and
version (state, attempts, the receiver's acknowledgement). Dates are printed in protobuf's JSON
mapping (RFC 3339, UTC).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Final

from gateway.cli.arguments import positive_int
from gateway.cli.commands import Commands
from gateway.cli.connection import connect
from gateway.cli.exits import EXIT_OK
from gateway.cli.jsonio import record_to_json
from liaison.rules.lifecycle import parse_period
from liaison.v1 import record_pb2

__all__ = ["REASON_NAMES", "add_commands"]

REASON_NAMES: Final[dict[str, record_pb2.WithdrawalReason.ValueType]] = {
    "cancelled": record_pb2.WITHDRAWAL_REASON_CANCELLED,
    "corrected-elsewhere": record_pb2.WITHDRAWAL_REASON_CORRECTED_ELSEWHERE,
    "data-protection": record_pb2.WITHDRAWAL_REASON_DATA_PROTECTION,
    "erroneous": record_pb2.WITHDRAWAL_REASON_ERRONEOUS,
    "other": record_pb2.WITHDRAWAL_REASON_OTHER,
}
"""Withdrawal reasons as the command line names them (EXPIRED is the gateway's own)."""

_WITHDRAW_HELP: Final = (
    "withdraw one of this centre's records: a tombstone version is stored (and forwarded like "
    "any version); from then on no version's content is served. Prints the acknowledgement."
)
_REVIEW_HELP: Final = (
    "confirm one of this centre's records is still needed: its expiry becomes now plus the "
    "period given (never earlier than it was) and its review moves with it. Prints its dates."
)
_RECIPIENTS_HELP: Final = (
    "print the recipient ledger of one record: which peer was sent which version, its delivery "
    "state and the receiver's acknowledgement, one JSON line each (newest version first)."
)
_THREADS_HELP: Final = (
    "print the request/reply threads this centre takes part in, one JSON line each: state "
    "(sent, delivered, read, answered), the time of each, the reply deadline, overdue."
)
_REVIEWS_HELP: Final = (
    "print this centre's records whose review is due (within the gateway's reminder lead, or "
    "--within), overdue ones included, as JSON lines, soonest first."
)


def _period(text: str) -> timedelta:
    try:
        return timedelta(microseconds=parse_period(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_commands(command: Commands) -> None:
    """Add ``withdraw``, ``review``, ``reviews``, ``threads`` and ``recipients``."""
    withdraw = command("withdraw", _WITHDRAW_HELP)
    withdraw.add_argument("record_id", metavar="RECORD_ID", help="the record to withdraw")
    withdraw.add_argument(
        "--reason", required=True, choices=list(REASON_NAMES), help="why it is withdrawn"
    )
    withdraw.add_argument(
        "--note", default="", metavar="TEXT", help="for the recipients (required with other)"
    )
    withdraw.set_defaults(run=_withdraw)

    review = command("review", _REVIEW_HELP)
    review.add_argument("record_id", metavar="RECORD_ID", help="the record reviewed")
    review.add_argument(
        "--extend",
        required=True,
        type=_period,
        metavar="PERIOD",
        help="keep it this long from now: 5y, 6m (months), 2w, 30d",
    )
    review.add_argument("--note", default="", metavar="TEXT", help="why it is still needed")
    review.set_defaults(run=_review)

    reviews = command("reviews", _REVIEWS_HELP)
    reviews.add_argument(
        "--within", type=_period, metavar="PERIOD", help="due within this period from now"
    )
    reviews.add_argument(
        "--limit", type=positive_int, default=0, metavar="N", help="at most N (server default)"
    )
    reviews.set_defaults(run=_reviews)

    threads = command("threads", _THREADS_HELP)
    threads.add_argument("--open", action="store_true", help="only threads not answered yet")
    threads.set_defaults(run=_threads)

    recipients = command("recipients", _RECIPIENTS_HELP)
    recipients.add_argument("record_id", metavar="RECORD_ID", help="the record")
    recipients.set_defaults(run=_recipients)


def _withdraw(args: argparse.Namespace) -> int:
    with connect(args) as client:
        ack = client.withdraw(
            args.record_id, REASON_NAMES[args.reason], args.note, timeout=args.timeout
        )
    print(record_to_json(ack))
    already = " (it was withdrawn already)" if ack.duplicate else ""
    print(f"liaison: {ack.record_id} withdrawn as version {ack.version}{already}", file=sys.stderr)
    return EXIT_OK


def _review(args: argparse.Namespace) -> int:
    with connect(args) as client:
        retention = client.extend_retention(
            args.record_id, args.extend, args.note, timeout=args.timeout
        )
    print(record_to_json(retention))
    return EXIT_OK


def _reviews(args: argparse.Namespace) -> int:
    with connect(args) as client:
        due = client.reviews(args.within, args.limit, timeout=args.timeout)
    for retention in due:
        print(record_to_json(retention), flush=True)
    print(f"liaison: {len(due)} record(s) due for review", file=sys.stderr)
    return EXIT_OK


def _recipients(args: argparse.Namespace) -> int:
    with connect(args) as client:
        ledger = client.deliveries(record_id=args.record_id, limit=1000, timeout=args.timeout)
    for status in ledger:
        print(record_to_json(status), flush=True)
    peers = len({status.peer for status in ledger})
    print(f"liaison: {args.record_id} went to {peers} peer(s)", file=sys.stderr)
    return EXIT_OK


def _threads(args: argparse.Namespace) -> int:
    with connect(args) as client:
        found = client.threads(args.open, timeout=args.timeout)
    for thread in found:
        print(record_to_json(thread), flush=True)
    overdue = sum(1 for thread in found if thread.overdue)
    print(f"liaison: {len(found)} thread(s), {overdue} overdue", file=sys.stderr)
    return EXIT_OK
