"""The ``liaison`` command: run a gateway, or talk to one.

Commands::

    liaison serve [--config PATH] [--listen HOST:PORT] [--db PATH] [--centre-id ID]
    liaison submit FILE              records as a JSON array or JSON Lines; - reads stdin;
                                     any number of them, split over streams
    liaison get ID [--version N]
    liaison search [criteria] [--page-size N] [--cursor C] [--all]
    liaison subscribe [--after N] [--kind K ...] [--centre ID ...] [--limit N]
                                     resumes after the last record seen if the gateway goes away
    liaison health [--service NAME]
    liaison deliveries | replay      the federation's delivery states, dead letters sent again
    liaison certs | audit ...        development certificates; the audit log's chain
    liaison adapters [--json]        the adapters installed here
    liaison translate --format NAME [--to NAME] [--output FILE] [--strict] PATH
                                     decode (or convert) a legacy file locally, no gateway
    liaison ingest --format NAME PATH [--accept-partial]
                                     store a legacy file's records in the gateway, atomically
                                     (a file too large for one call: decoded here, over streams)
    liaison screen FILE [--format NAME] [--list NAME ...]
                                     screen records (or a legacy payload) against the screening
                                     lists; prints {"subjects", "hits", "entries"}; stores nothing
    liaison hits [--band hit|review] [--undecided | --decision match|no-match|unsure]
                 [--list NAME ...] [--since T] [--until T]
                                     the stored screening hits, as JSON lines
    liaison decide HIT_ID --match|--no-match|--unsure [--note TEXT] [--expected-version N]

Records are read and printed in protobuf's JSON mapping, one compact JSON object per line
(``liaison translate`` prints one JSON document, ``{"records": [...], "diagnostics": [...]}``;
``liaison screen`` one JSON document, ``{"subjects": [...], "hits": [...], "entries": [...]}``).

Exit codes:
    0    success
    1    the gateway refused the request or found nothing: NOT_FOUND, INVALID_ARGUMENT, any
         rejected or skipped record, a search without hits, a status other than SERVING;
         for translate, an error diagnostic
    2    usage error: bad arguments, unreadable file, malformed JSON, bad configuration, or a
         gateway that cannot start (address in use, unusable store)
    3    the gateway is unreachable, refused the TLS handshake, or did not answer before the
         deadline
    130  interrupted (Ctrl-C)

Errors are reported as one line on stderr, ``liaison: error: ...``, followed by the refused
fields, indented, when the gateway named them.

One module per command area: ``serve``, ``records`` (submit, get, search, subscribe, health),
``ingestion`` and ``translation`` (legacy files), ``security`` (certs, audit), ``operations``
(deliveries, replay), ``screening`` (screen, hits, decide); ``parser`` joins them, ``program``
runs them.
"""

from __future__ import annotations

from gateway.cli.arguments import KIND_NAMES
from gateway.cli.exits import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from gateway.cli.parser import build_parser
from gateway.cli.program import main, run

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "KIND_NAMES",
    "build_parser",
    "main",
    "run",
]
