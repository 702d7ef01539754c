"""Every RPC the gateway serves, declared: does it reveal records (through the gate) or not?

A method is either

* **gated**: whatever it returns or reveals about a stored record - the record itself, its
  existence, its versions, a cursor position, an acknowledgement - comes through
  :class:`gateway.security.gate.RecordGate`, which applies need-to-know for the caller; or
* **metadata-only**: it reveals no record, and the declaration says why.

Each declaration also names the audit action its calls are logged under (``None``: not audited
per call, with the reason in the declaration).

The record guard refuses a call to any method missing here (UNIMPLEMENTED, audited), and
``tests/gateway/security/test_rpc_enumeration.py`` walks every service's descriptors and fails
when one is missing: a new RPC is declared, with a reason, before it can be served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["RPC_ACCESS", "Access", "access_of"]


@dataclass(frozen=True, slots=True)
class Access:
    """How one RPC relates to need-to-know and to the audit log."""

    kind: Literal["gated", "metadata-only"]
    reason: str
    """What it reads through the gate, or why it reveals no record."""
    audit_action: str | None
    """The audit log's action for its calls (``None``: not audited per call)."""


def _gated(action: str, reason: str) -> Access:
    return Access("gated", reason, action)


def _metadata(reason: str, action: str | None = None) -> Access:
    return Access("metadata-only", reason, action)


RPC_ACCESS: dict[str, Access] = {
    # -- liaison.v1.RecordExchange ----------------------------------------------------------
    "/liaison.v1.RecordExchange/Submit": _gated(
        "submit",
        "publishes only the caller's centre's own records (which it sees), so its answers "
        "(duplicate, version conflicts) concern records the caller may see",
    ),
    "/liaison.v1.RecordExchange/SubmitStream": _gated("submit", "as Submit, per record"),
    "/liaison.v1.RecordExchange/Get": _gated("read", "reads every version through the gate"),
    "/liaison.v1.RecordExchange/Search": _gated(
        "search", "pages over the matches the gate lets through; cursors count only those"
    ),
    "/liaison.v1.RecordExchange/Subscribe": _gated(
        "subscribe", "delivers, and reports caught up at, only versions the gate lets through"
    ),
    "/liaison.v1.RecordExchange/Withdraw": _gated(
        "withdraw",
        "reads the record through the gate (hidden is absent: NOT_FOUND) and withdraws only the "
        "caller's centre's own records",
    ),
    "/liaison.v1.RecordExchange/ExtendRetention": _gated(
        "extend-retention", "as Withdraw: the gate first, then only the caller's centre's records"
    ),
    "/liaison.v1.RecordExchange/ListReviews": _gated(
        "list-reviews", "lists this centre's own records due for review, each through the gate"
    ),
    "/liaison.v1.RecordExchange/ListThreads": _gated(
        "list-threads", "lists the threads whose request record the gate lets the caller see"
    ),
    # -- liaison.v1.Translation -------------------------------------------------------------
    "/liaison.v1.Translation/ListAdapters": _metadata(
        "lists the installed adapters; reads no record", None
    ),
    "/liaison.v1.Translation/Translate": _metadata(
        "decodes the caller's own payload; reads no stored record", "translate"
    ),
    "/liaison.v1.Translation/Ingest": _gated(
        "ingest", "stores the caller's centre's own records; acknowledges only those"
    ),
    "/liaison.v1.Translation/Export": _gated(
        "export", "encodes stored records read through the gate, or the caller's own"
    ),
    # -- liaison.v1.Federation (peer centres only) ------------------------------------------
    "/liaison.v1.Federation/Deliver": _gated(
        "deliver",
        "stores versions signed by their originating centre; answers concern only those",
    ),
    "/liaison.v1.Federation/Identify": _metadata(
        "signs the caller's nonce to prove this centre's identity; reveals no record", None
    ),
    "/liaison.v1.Federation/KeepCheckpoint": _metadata(
        "keeps the calling centre's own signed audit checkpoint; reads no record",
        "keep-checkpoint",
    ),
    # -- liaison.v1.FederationAdmin (operators) ---------------------------------------------
    "/liaison.v1.FederationAdmin/ListDeliveries": _gated(
        "list-deliveries",
        "delivery states name records: only those of versions the gate lets the caller see",
    ),
    "/liaison.v1.FederationAdmin/ReplayDeadLetters": _gated(
        "replay", "answers with the delivery states of versions the gate lets the caller see"
    ),
    "/liaison.v1.FederationAdmin/ListCheckpoints": _metadata(
        "audit checkpoints: counts, hashes and signatures, no record", "list-checkpoints"
    ),
    "/liaison.v1.FederationAdmin/VerifyAuditLog": _metadata(
        "whether this centre's audit log verifies: counts, hashes and where the chain breaks; "
        "names no record",
        "verify-audit-log",
    ),
    # -- liaison.v1.Screening ---------------------------------------------------------------
    "/liaison.v1.Screening/Screen": _gated(
        "screen",
        "hits on entries the caller may not see say only list and centre to contact",
    ),
    "/liaison.v1.Screening/Decide": _gated("decide", "reads and updates the hit through the gate"),
    "/liaison.v1.Screening/ListHits": _gated("list-hits", "lists hit records through the gate"),
    # -- standard services ------------------------------------------------------------------
    "/grpc.health.v1.Health/Check": _metadata("serving status of a service name only"),
    "/grpc.health.v1.Health/Watch": _metadata("serving status of a service name only"),
    "/grpc.health.v1.Health/List": _metadata("serving status of every service name only"),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": _metadata(
        "the contract's public descriptors only"
    ),
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": _metadata(
        "the contract's public descriptors only"
    ),
}
"""Every RPC by its full method path (``/package.Service/Method``)."""


def access_of(method: str) -> Access | None:
    """The declaration of ``method`` (``/package.Service/Method``); ``None`` when undeclared."""
    return RPC_ACCESS.get(method)
