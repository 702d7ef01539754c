"""Signed record versions and audit checkpoints: Ed25519 keys, the signed statements, a key ring.

Only the originating centre may publish a version of its records, and every receiver must be able
to check that without trusting whoever relayed the version. So the originating gateway signs each
version it stores, and every receiving gateway verifies the signature before storing the version.

What is signed is a short *statement* about the version, not the serialized record:

* the record id, the originating centre and the signing key's id;
* the version number, so that a relay cannot renumber old content as a newer version;
* the SHA-256 content hash the store already keys idempotency on (the deterministic protobuf
  serialization of the record with ``version``, ``provenance.received_at`` and
  ``provenance.signature`` cleared), so that a relay cannot alter a single field;
* when it was signed, which must fall within the key's validity period.

Signing the content hash rather than a second canonical form means one definition of "the same
content" for duplicates and for signatures. JWS would need a canonical JSON (JCS), whose number
handling does not fit 64-bit ids; COSE would add a CBOR dependency for no gain.

Each centre lists its signing keys with validity periods (``[[signing.keys]]``), and each peer's
(``[[peers.signing_keys]]``); rotating is adding the next key, switching ``[signing] key_id`` to
it, and letting the old one expire. Removing a key revokes every signature made with it.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from google.protobuf.message import DecodeError

from liaison.rules.errors import LiaisonError, SetupError
from liaison.v1 import record_pb2

__all__ = [
    "CHECKPOINT_DOMAIN",
    "IDENTIFY_DOMAIN",
    "IDENTIFY_NONCE_BYTES",
    "RECORD_DOMAIN",
    "KeyRing",
    "PublicKeyInfo",
    "RecordSigner",
    "SignatureError",
    "SigningKeyError",
    "SigningKeySource",
    "SigningKeySpec",
    "checkpoint_statement",
    "create_centre_signing_key",
    "create_signing_key",
    "identify_statement",
    "load_key_ring",
    "load_private_key",
    "load_public_key",
    "load_signer",
    "record_statement",
]

RECORD_DOMAIN = b"liaison.v1 record-version\x00"
"""Prefix of a record version statement: a signature over one kind of statement can never be
passed off as a signature over another."""

CHECKPOINT_DOMAIN = b"liaison.v1 audit-checkpoint\x00"
"""Prefix of an audit checkpoint statement."""

IDENTIFY_DOMAIN = b"liaison.v1 identify\x00"
"""Prefix of a gateway's proof of who it is (``Federation.Identify``)."""

IDENTIFY_NONCE_BYTES = 32
"""Length of an Identify challenge."""

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_SIGNED_AT = struct.Struct(">qI")


@dataclass(frozen=True, slots=True)
class SigningKeySpec:
    """One public signing key of a centre, as configured, and the period its signatures may be
    made in."""

    key_id: str
    """The key's id ("WCO-I2C/2026-12"), unique across every centre."""
    public_key: Path
    """The Ed25519 public key (PEM)."""
    not_before: dt.datetime
    """Start of validity (timezone-aware)."""
    not_after: dt.datetime
    """End of validity (timezone-aware)."""


class SigningKeyError(SetupError, ValueError):
    """A signing key file is missing, unreadable, too open, or not an Ed25519 key."""


class SignatureError(LiaisonError, ValueError):
    """A signature does not verify; the message says why, without any record content."""


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return _U32.pack(len(data)) + data


def record_statement(
    *,
    record_id: str,
    originating_centre: str,
    key_id: str,
    version: int,
    content_sha256: bytes,
    received_at: tuple[int, int],
    signed_at: tuple[int, int],
) -> bytes:
    """The bytes signed for one record version (layout: ``RecordSignature`` in record.proto)."""
    if len(content_sha256) != 32:
        raise ValueError("the content hash must be 32 bytes")
    return b"".join(
        (
            RECORD_DOMAIN,
            _text(record_id),
            _text(originating_centre),
            _text(key_id),
            _U64.pack(version),
            content_sha256,
            _SIGNED_AT.pack(*received_at),
            _SIGNED_AT.pack(*signed_at),
        )
    )


def identify_statement(
    *, centre: str, caller: str, key_id: str, nonce: bytes, time: tuple[int, int]
) -> bytes:
    """The bytes a gateway signs to prove it is ``centre``, answering ``caller`` now (layout:
    ``IdentifyResponse`` in federation.proto)."""
    return b"".join(
        (
            IDENTIFY_DOMAIN,
            _text(centre),
            _text(caller),
            _text(key_id),
            _U32.pack(len(nonce)),
            nonce,
            _SIGNED_AT.pack(*time),
        )
    )


def checkpoint_statement(
    *, centre: str, head_hash: str, key_id: str, entries: int, time: tuple[int, int]
) -> bytes:
    """The bytes signed for an audit checkpoint (layout: ``AuditCheckpoint`` in
    federation.proto)."""
    return b"".join(
        (
            CHECKPOINT_DOMAIN,
            _text(centre),
            _text(head_hash),
            _text(key_id),
            _U64.pack(entries),
            _SIGNED_AT.pack(*time),
        )
    )


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    """One verification key of one centre, with the period its signatures may be made in."""

    key_id: str
    """The key's id, unique across every centre this gateway knows."""
    centre: str
    """The centre whose key it is."""
    public_key: Ed25519PublicKey
    not_before: dt.datetime
    """Signatures made before this moment are refused (timezone-aware)."""
    not_after: dt.datetime
    """Signatures made after this moment are refused (timezone-aware)."""

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.not_before <= moment <= self.not_after


def _moment(seconds: int, nanos: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC) + dt.timedelta(microseconds=nanos // 1000)


class KeyRing:
    """The verification keys of this centre and of its peers."""

    def __init__(self, keys: Iterable[PublicKeyInfo] = ()) -> None:
        self._keys: dict[str, PublicKeyInfo] = {}
        for key in keys:
            if key.key_id in self._keys:
                raise SigningKeyError(f"signing key id {key.key_id!r} is listed twice")
            self._keys[key.key_id] = key
        self._centres = frozenset(key.centre for key in self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def knows(self, centre: str) -> bool:
        """Whether any key of ``centre`` is listed."""
        return centre in self._centres

    def key(self, key_id: str) -> PublicKeyInfo | None:
        return self._keys.get(key_id)

    def verify(
        self,
        *,
        centre: str,
        key_id: str,
        statement: bytes,
        signature: bytes,
        signed_at: tuple[int, int],
        now: dt.datetime | None = None,
        max_clock_skew: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        """Check that ``centre`` signed ``statement`` with ``key_id`` at ``signed_at``.

        Raises:
            SignatureError: unknown key, a key of another centre, a signing time outside the
                key's validity or in the future, or a signature that does not verify.
        """
        key = self._keys.get(key_id)
        if key is None:
            raise SignatureError(f"unknown signing key {key_id!r}")
        if key.centre != centre:
            raise SignatureError(f"signing key {key_id!r} is not a key of {centre}")
        moment = _moment(*signed_at)
        if not key.valid_at(moment):
            raise SignatureError(f"signing key {key_id!r} was not valid at the signing time")
        current = now if now is not None else dt.datetime.now(dt.UTC)
        if moment > current + max_clock_skew:
            raise SignatureError("the signature is dated in the future")
        try:
            key.public_key.verify(signature, statement)
        except InvalidSignature:
            raise SignatureError("the signature does not verify") from None

    def verify_version(
        self,
        *,
        record_id: str,
        originating_centre: str,
        version: int,
        content_sha256: bytes,
        received_at: tuple[int, int],
        signature: bytes,
        now: dt.datetime | None = None,
    ) -> None:
        """Check the originating centre's signature on one record version.

        Args:
            record_id: The record's id.
            originating_centre: Its originating centre.
            version: The version number signed.
            content_sha256: The version's content hash, as computed by the receiver.
            received_at: When the originating centre received it (``provenance.received_at``).
            signature: The serialized ``RecordSignature`` that came with it.
            now: The current time (for tests).

        Raises:
            SignatureError: the version is unsigned or its signature does not verify.
        """
        if not signature:
            raise SignatureError("the version is not signed by its originating centre")
        try:
            parsed = record_pb2.RecordSignature.FromString(signature)
        except DecodeError:
            raise SignatureError("the signature is not a RecordSignature") from None
        signed_at = (parsed.signed_at.seconds, parsed.signed_at.nanos)
        statement = record_statement(
            record_id=record_id,
            originating_centre=originating_centre,
            key_id=parsed.key_id,
            version=version,
            content_sha256=content_sha256,
            received_at=received_at,
            signed_at=signed_at,
        )
        self.verify(
            centre=originating_centre,
            key_id=parsed.key_id,
            statement=statement,
            signature=parsed.signature,
            signed_at=signed_at,
            now=now,
        )


@dataclass(frozen=True, slots=True)
class RecordSigner:
    """This centre's current signing key."""

    centre: str
    key_id: str
    private_key: Ed25519PrivateKey

    def sign_version(
        self,
        record_id: str,
        version: int,
        content_sha256: bytes,
        received_at: tuple[int, int],
        signed_at: tuple[int, int],
    ) -> bytes:
        """A serialized ``RecordSignature`` over one version of one of this centre's records."""
        statement = record_statement(
            record_id=record_id,
            originating_centre=self.centre,
            key_id=self.key_id,
            version=version,
            content_sha256=content_sha256,
            received_at=received_at,
            signed_at=signed_at,
        )
        signature = record_pb2.RecordSignature(
            key_id=self.key_id, signature=self.private_key.sign(statement)
        )
        signature.signed_at.seconds, signature.signed_at.nanos = signed_at
        return signature.SerializeToString(deterministic=True)

    def sign_statement(self, statement: bytes) -> bytes:
        """An Ed25519 signature over ``statement`` (an audit checkpoint's, for instance)."""
        return self.private_key.sign(statement)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True, slots=True)
class SigningKeySource:
    """Where a centre's current signing key is: what a process that signs (the store's writer
    process) is told, instead of the key itself."""

    centre: str
    key_id: str
    private_key: Path

    def load(self) -> RecordSigner:
        """The signer.

        Raises:
            SigningKeyError: the key file cannot be used.
        """
        return RecordSigner(self.centre, self.key_id, load_private_key(self.private_key))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``path`` (PEM, PKCS#8, unencrypted, mode 0600).

    Raises:
        SigningKeyError: unreadable, readable by group or others, or not an Ed25519 key.
    """
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(
            f"cannot read the signing key {path}: {error.strerror or error}"
        ) from None
    if mode & 0o077:
        raise SigningKeyError(
            f"the signing key {path} is accessible by other users (mode {mode & 0o777:04o}); "
            "make it 0600"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in ``path`` (PEM, SubjectPublicKeyInfo).

    Raises:
        SigningKeyError: unreadable, or not an Ed25519 public key.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(
            f"cannot read the public key {path}: {error.strerror or error}"
        ) from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path} is not an Ed25519 public key")
    return key


def create_signing_key(private_path: Path, public_path: Path) -> Ed25519PrivateKey:
    """Write a new Ed25519 key pair: the private key with mode 0600, never over an existing file.

    Raises:
        SigningKeyError: a file exists or cannot be written.
    """
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        private_path.parent.mkdir(parents=True, exist_ok=True)
        public_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(private)
        with public_path.open("xb") as file:
            file.write(public)
    except OSError as error:
        raise SigningKeyError(f"cannot write the signing key: {error}") from None
    return key


def load_key_ring(keys_by_centre: Mapping[str, Iterable[SigningKeySpec]]) -> KeyRing:
    """Read the public keys of each centre (this one and its peers) into a key ring.

    Raises:
        SigningKeyError: a key file cannot be read, or a key id is listed twice.
    """
    return KeyRing(
        PublicKeyInfo(
            key_id=spec.key_id,
            centre=centre,
            public_key=load_public_key(spec.public_key),
            not_before=spec.not_before,
            not_after=spec.not_after,
        )
        for centre, specs in keys_by_centre.items()
        for spec in specs
    )


def load_signer(
    centre: str, key_id: str, private_key: Path, keys: Iterable[SigningKeySpec]
) -> RecordSigner:
    """This centre's signer: the private key named ``key_id``, checked against its listed public
    key so that a mismatch is found at start, not by every peer refusing every version.

    Raises:
        SigningKeyError: unreadable key, or its public half is not the one listed as ``key_id``.
    """
    listed = next((spec for spec in keys if spec.key_id == key_id), None)
    if listed is None:
        raise SigningKeyError(f"signing key {key_id!r} is not among the centre's listed keys")
    private = load_private_key(private_key)
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    if private.public_key().public_bytes(*raw) != load_public_key(listed.public_key).public_bytes(
        *raw
    ):
        raise SigningKeyError(
            f"the private key {private_key} does not belong to the public key listed as {key_id!r}"
        )
    return RecordSigner(centre=centre, key_id=key_id, private_key=private)


def create_centre_signing_key(
    directory: Path,
    centre: str,
    *,
    now: dt.datetime | None = None,
    validity: dt.timedelta = dt.timedelta(days=2 * 365),
) -> tuple[SigningKeySpec, Path]:
    """A new signing key for ``centre`` in ``directory``: ``<CENTRE>-<YYYYMMDDHHMMSS>.key`` and
    ``.pub``, with the key id ``<CENTRE>/<YYYYMMDDHHMMSS>``.

    Returns:
        The public key's spec (as the centre and its peers list it) and the private key's path.

    Raises:
        SigningKeyError: the files exist or cannot be written.
    """
    start = now if now is not None else dt.datetime.now(dt.UTC)
    stamp = start.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    private = directory / f"{centre}-{stamp}.key"
    public = directory / f"{centre}-{stamp}.pub"
    create_signing_key(private, public)
    spec = SigningKeySpec(
        key_id=f"{centre}/{stamp}",
        public_key=public,
        not_before=(start - dt.timedelta(minutes=5)).replace(microsecond=0),
        not_after=(start + validity).replace(microsecond=0),
    )
    return spec, private
