"""Audit checkpoints: signed statements of an audit log's head, kept by peer centres.

A hash chain cannot show that entries were cut off its end: the shorter chain is still a chain.
So every so often the centre signs a checkpoint - how many entries its log had and the hash of
the last one - with its record-signing key, and gives it to its peers, who keep it
(``Federation.KeepCheckpoint``). Its own operators cannot take a checkpoint back from a peer, and
cannot make one for a shorter log without the signing key, so a log that no longer reaches a
checkpoint, or reaches it with another hash, was truncated or rewritten.

This module makes and checks checkpoints (the signed bytes are ``checkpoint_statement`` in
:mod:`gateway.signing`, as ``AuditCheckpoint`` in federation.proto describes them), turns
them into :class:`~gateway.audit.chain.Anchor` s for verification, and reads and writes the JSON
files (protobuf JSON mapping) operators carry from a peer to the verifier.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf import json_format

from gateway.audit.chain import Anchor, ChainHead
from gateway.errors import AuditError
from gateway.signing import (
    KeyRing,
    RecordSigner,
    SignatureError,
    checkpoint_statement,
)
from liaison.rules.ids import MAX_VERSION
from liaison.v1 import federation_pb2

__all__ = [
    "CheckpointError",
    "CheckpointFileError",
    "anchor_of",
    "checkpoints_document",
    "describe",
    "read_checkpoint_file",
    "sign_checkpoint",
    "statement_of",
    "validate_checkpoint",
    "verify_checkpoint",
    "verify_checkpoint_with",
]

_CENTRE = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{0,62}[A-Z0-9])?")
"""A centre id, as ``[centre] id`` allows it."""
_HASH = re.compile(r"[0-9a-f]{64}")
_SIGNATURE_BYTES = 64


class CheckpointError(AuditError, ValueError):
    """A checkpoint is malformed or its signature does not verify.

    Attributes:
        field: The malformed field of ``AuditCheckpoint``; empty when the checkpoint is well
            formed but its signature does not verify.
    """

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class CheckpointFileError(AuditError, ValueError):
    """A checkpoint file cannot be read or holds no valid checkpoints; the message names the
    file and, for a bad checkpoint, its place in the file."""


def statement_of(checkpoint: federation_pb2.AuditCheckpoint) -> bytes:
    """The bytes the checkpoint's signature covers."""
    return checkpoint_statement(
        centre=checkpoint.centre,
        head_hash=checkpoint.head_hash,
        key_id=checkpoint.key_id,
        entries=checkpoint.entries,
        time=(checkpoint.time.seconds, checkpoint.time.nanos),
    )


def sign_checkpoint(
    signer: RecordSigner, head: ChainHead, moment: dt.datetime
) -> federation_pb2.AuditCheckpoint:
    """This centre's signed checkpoint of ``head`` at ``moment``."""
    checkpoint = federation_pb2.AuditCheckpoint(
        centre=signer.centre,
        entries=head.sequence,
        head_hash=head.hash,
        key_id=signer.key_id,
    )
    checkpoint.time.FromDatetime(moment.astimezone(dt.UTC))
    checkpoint.signature = signer.sign_statement(statement_of(checkpoint))
    return checkpoint


# google.protobuf.Timestamp's documented range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_TIMESTAMP_MIN, _TIMESTAMP_MAX = -62135596800, 253402300799


def validate_checkpoint(checkpoint: federation_pb2.AuditCheckpoint) -> None:
    """Check the fields' shapes (not the signature).

    Raises:
        CheckpointError: the first malformed field, named.
    """
    if not _CENTRE.fullmatch(checkpoint.centre):
        raise CheckpointError("centre must be a centre id", "centre")
    if not 1 <= checkpoint.entries <= MAX_VERSION:
        raise CheckpointError(
            f"entries must be from 1 to {MAX_VERSION}: a checkpoint anchors an entry", "entries"
        )
    if not _HASH.fullmatch(checkpoint.head_hash):
        raise CheckpointError("head_hash must be 64 lower-case hexadecimal digits", "head_hash")
    time = checkpoint.time
    if (
        not checkpoint.HasField("time")
        or not 0 <= time.nanos < 1_000_000_000
        or not _TIMESTAMP_MIN <= time.seconds <= _TIMESTAMP_MAX
    ):
        raise CheckpointError(
            "time must be set, from 0001-01-01 to 9999-12-31 UTC, with nanos from 0 to 999,999,999",
            "time",
        )
    if not checkpoint.key_id:
        raise CheckpointError("key_id must name the signing key", "key_id")
    if len(checkpoint.signature) != _SIGNATURE_BYTES:
        raise CheckpointError(
            f"signature must be {_SIGNATURE_BYTES} bytes (Ed25519), "
            f"not {len(checkpoint.signature)}",
            "signature",
        )


def verify_checkpoint(
    checkpoint: federation_pb2.AuditCheckpoint, key_ring: KeyRing, now: dt.datetime | None = None
) -> None:
    """Check a checkpoint's fields, and that its centre signed it with a key of the ring that was
    valid when it says it was signed (and not in the future).

    Raises:
        CheckpointError: malformed, or the signature does not verify (the message says why).
    """
    validate_checkpoint(checkpoint)
    try:
        key_ring.verify(
            centre=checkpoint.centre,
            key_id=checkpoint.key_id,
            statement=statement_of(checkpoint),
            signature=checkpoint.signature,
            signed_at=(checkpoint.time.seconds, checkpoint.time.nanos),
            now=now,
        )
    except SignatureError as error:
        raise CheckpointError(str(error)) from None


def verify_checkpoint_with(
    checkpoint: federation_pb2.AuditCheckpoint, public_keys: Sequence[Ed25519PublicKey]
) -> None:
    """Check a checkpoint's fields, and that one of ``public_keys`` signed it - for an auditor
    who was handed the centre's public keys and vouches for them (no validity periods).

    Raises:
        CheckpointError: malformed, or none of the keys verifies the signature.
    """
    validate_checkpoint(checkpoint)
    statement = statement_of(checkpoint)
    for key in public_keys:
        try:
            key.verify(checkpoint.signature, statement)
        except InvalidSignature:
            continue
        return
    raise CheckpointError("the signature does not verify under any of the given keys")


def describe(checkpoint: federation_pb2.AuditCheckpoint) -> str:
    """``the checkpoint WCO-I2C signed at 2026-11-27T12:00:00Z``, for messages."""
    moment = checkpoint.time.ToDatetime(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"the checkpoint {checkpoint.centre} signed at {moment}"


def anchor_of(checkpoint: federation_pb2.AuditCheckpoint) -> Anchor:
    """What the log must reach: the entry at ``entries`` with hash ``head_hash``."""
    return Anchor(ChainHead(checkpoint.entries, checkpoint.head_hash), describe(checkpoint))


def checkpoints_document(checkpoints: Sequence[federation_pb2.AuditCheckpoint]) -> str:
    """A checkpoint file: ``ListCheckpointsResponse`` in the protobuf JSON mapping."""
    response = federation_pb2.ListCheckpointsResponse(checkpoints=checkpoints)
    return json_format.MessageToJson(response, indent=2) + "\n"


def read_checkpoint_file(path: Path) -> list[federation_pb2.AuditCheckpoint]:
    """The checkpoints in ``path``: a ``ListCheckpointsResponse`` (what ``liaison audit
    checkpoints`` writes) or one ``AuditCheckpoint``, in the protobuf JSON mapping. Their shapes
    are checked, not their signatures.

    Raises:
        CheckpointFileError: unreadable, not such JSON, empty, or a malformed checkpoint.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CheckpointFileError(
            f"cannot read the checkpoint file {path}: {error.strerror or error}"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CheckpointFileError(f"{path} is not a JSON checkpoint file: {error}") from None
    if not isinstance(document, dict):
        raise CheckpointFileError(f"{path} must hold a JSON object (a list of checkpoints)")
    try:
        if "checkpoints" in document:
            response = federation_pb2.ListCheckpointsResponse()
            json_format.ParseDict(document, response)
            checkpoints = list(response.checkpoints)
        else:
            single = federation_pb2.AuditCheckpoint()
            json_format.ParseDict(document, single)
            checkpoints = [single]
    except json_format.ParseError as error:
        raise CheckpointFileError(f"{path}: {error}") from None
    if not checkpoints:
        raise CheckpointFileError(f"{path} holds no checkpoints")
    for number, checkpoint in enumerate(checkpoints, start=1):
        try:
            validate_checkpoint(checkpoint)
        except CheckpointError as error:
            raise CheckpointFileError(f"{path}: checkpoint #{number}: {error}") from None
    return checkpoints
