"""``liaison deliveries`` and ``liaison replay``: the federation's delivery states, and
dead-lettered deliveries sent again."""

from __future__ import annotations

import argparse
from typing import Final

from gateway.cli.arguments import positive_int
from gateway.cli.commands import Commands
from gateway.cli.connection import connect
from gateway.cli.exits import EXIT_OK
from gateway.cli.jsonio import record_to_json
from liaison.v1 import federation_pb2

__all__ = ["add_commands"]

_STATE_PREFIX: Final = "DELIVERY_STATE_"
_DELIVERY_STATES: Final = {
    name.removeprefix(_STATE_PREFIX): number
    for name, number in federation_pb2.DeliveryState.items()
    if number
}


def add_commands(command: Commands) -> None:
    """Add ``deliveries`` and ``replay``."""
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
    deliveries.add_argument("--limit", type=positive_int, default=1000, metavar="N")
    deliveries.add_argument("--json", action="store_true", help="one JSON object per line")
    deliveries.set_defaults(run=_deliveries)

    replay = command("replay", "re-queue dead-lettered deliveries for another round of attempts")
    replay.add_argument("--peer", default="", metavar="CENTRE", help="only this peer")
    replay.add_argument("record_ids", nargs="*", metavar="ID", help="only these records")
    replay.set_defaults(run=_replay)


def _deliveries(args: argparse.Namespace) -> int:
    states = [_DELIVERY_STATES[name.upper()] for name in args.state]
    with connect(args) as client:
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
        state = federation_pb2.DeliveryState.Name(status.state).removeprefix(_STATE_PREFIX)
        why = status.last_error or status.reason
        print(
            f"{status.record_id} v{status.version} -> {status.peer}: {state.lower()} "
            f"(attempts {status.attempts}){': ' + why if why else ''}"
        )
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    with connect(args) as client:
        requeued = client.replay_dead_letters(
            peer=args.peer, record_ids=args.record_ids, timeout=args.timeout
        )
    print(f"re-queued {len(requeued)} dead-lettered deliveries")
    for status in requeued:
        print(f"{status.record_id} v{status.version} -> {status.peer}")
    return EXIT_OK
