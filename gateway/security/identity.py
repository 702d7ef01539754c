"""Who a caller is: Liaison identities and how they are read from a verified certificate.

A certificate names its holder in a URI subject alternative name, and only there:

* ``urn:liaison:centre:<CENTRE-ID>`` - a centre (``WCO-I2C``: upper-case letters, digits and
  inner hyphens, at most 64 characters);
* ``urn:liaison:client:<name>`` - an agency client (letters, digits, ``.``, ``_`` and ``-``,
  starting with a letter or digit, at most 128 characters).

The reading is strict, because the identity decides what a caller may do:

* DNS names, e-mail addresses, IP addresses and the subject's common name are never read, even
  when their text looks like an identity;
* URIs of other schemes (a SPIFFE id from the same PKI, say) are ignored;
* a URI that starts like a Liaison identity (``urn:liaison:``, in any letter case) but is not
  exactly one of the two forms makes the whole certificate invalid - an identity is never
  truncated, cut at a NUL or case-folded into shape;
* a URI SAN carrying a control character (NUL included) makes the whole certificate invalid;
* a certificate naming two different identities is invalid (it would be two callers at once).

A caller without a certificate - plaintext on loopback only - is the ``local`` identity.

This module is rules only: it imports no gRPC, so the settings, the CLI and the interceptors share
it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gateway.security.certs import CENTRE_URI_PREFIX, CLIENT_URI_PREFIX
from liaison.rules.errors import LiaisonError
from liaison.rules.ids import CENTRE_ID_PATTERN

__all__ = [
    "CLIENT_NAME_PATTERN",
    "LOCAL",
    "Identity",
    "IdentityError",
    "IdentityKind",
    "identity_of_certificate",
    "parse_identity",
]

IdentityKind = Literal["centre", "client", "local"]
"""A peer centre, an agency client, or the unauthenticated loopback caller."""

"""A centre id, in full (``re.fullmatch``)."""

CLIENT_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A client name, in full (``re.fullmatch``)."""

_LIAISON_SCHEME = "urn:liaison:"
_LOCAL_NAME = "local"
# C0 and C1 controls and DEL: nothing a certificate's identity may contain.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class IdentityError(LiaisonError, ValueError):
    """A certificate, or a text, names no valid Liaison identity.

    ``reason`` is a short code for audit entries (``no-identity``, ``invalid-identity``,
    ``ambiguous-identity``, ``unreadable-certificate``); the message explains it to the caller
    without echoing the offending text.
    """

    def __init__(self, reason: str, message: str, certificate_sha256: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.certificate_sha256 = certificate_sha256
        """The refused certificate's SHA-256 fingerprint (hex), when it could be parsed."""


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified caller."""

    kind: IdentityKind
    """``centre``, ``client`` or ``local``."""
    name: str
    """The centre id, the client name, or ``local``."""

    @property
    def uri(self) -> str:
        """The identity as grants name it: its URI, or ``local``."""
        if self.kind == "centre":
            return CENTRE_URI_PREFIX + self.name
        if self.kind == "client":
            return CLIENT_URI_PREFIX + self.name
        return _LOCAL_NAME


LOCAL = Identity("local", _LOCAL_NAME)
"""The identity of a plaintext caller on loopback."""


def parse_identity(text: str) -> Identity:
    """The identity ``text`` names exactly: a centre or client URI, or ``local``.

    Raises:
        IdentityError: ``text`` is anything else (``reason`` says how).
    """
    if text == _LOCAL_NAME:
        return LOCAL
    if _CONTROL.search(text):
        raise IdentityError("invalid-identity", "an identity must not contain control characters")
    if text.startswith(CENTRE_URI_PREFIX):
        centre = text.removeprefix(CENTRE_URI_PREFIX)
        if CENTRE_ID_PATTERN.fullmatch(centre):
            return Identity("centre", centre)
        raise IdentityError("invalid-identity", f"{CENTRE_URI_PREFIX}<ID> carries no valid id")
    if text.startswith(CLIENT_URI_PREFIX):
        client = text.removeprefix(CLIENT_URI_PREFIX)
        if CLIENT_NAME_PATTERN.fullmatch(client):
            return Identity("client", client)
        raise IdentityError("invalid-identity", f"{CLIENT_URI_PREFIX}<name> carries no valid name")
    if text.lower().startswith(_LIAISON_SCHEME):
        raise IdentityError(
            "invalid-identity",
            f"a Liaison identity is {CENTRE_URI_PREFIX}<ID> or {CLIENT_URI_PREFIX}<name>",
        )
    raise IdentityError("no-identity", "not a Liaison identity")


def identity_of_certificate(pem: bytes) -> Identity:
    """The identity a verified peer certificate (PEM) names in its URI SANs.

    Only call this with the certificate the TLS handshake verified. Results are cached by
    certificate, since a client presents the same one on every call.

    Raises:
        IdentityError: the certificate names no identity, an invalid one, or two.
    """
    found = _identity_of_certificate(pem)
    if isinstance(found, IdentityError):
        # The cached error is raised again on every call: start each raise without the
        # traceback of the previous one, which would otherwise keep growing.
        raise found.with_traceback(None)
    return found


@functools.lru_cache(maxsize=1024)
def _identity_of_certificate(pem: bytes) -> Identity | IdentityError:
    # Errors are returned, not raised, so that lru_cache keeps them too: a certificate without
    # an identity is refused on every call and is parsed once.
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return IdentityError("unreadable-certificate", "the certificate cannot be read")
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    try:
        uris = _uri_names(certificate)
    except ValueError:  # also UnicodeError: a malformed extension
        return IdentityError(
            "unreadable-certificate",
            "the certificate's alternative names cannot be read",
            fingerprint,
        )
    identities: set[Identity] = set()
    for uri in uris:
        if _CONTROL.search(uri):
            return IdentityError(
                "invalid-identity",
                "the certificate's URI names contain control characters",
                fingerprint,
            )
        try:
            identities.add(parse_identity(uri))
        except IdentityError as error:
            if error.reason != "no-identity":
                return IdentityError(
                    "invalid-identity", f"the certificate's identity: {error}", fingerprint
                )
    identities.discard(LOCAL)  # "local" is no URI: a certificate cannot claim it
    if not identities:
        return IdentityError(
            "no-identity",
            f"the certificate names no Liaison identity (a URI SAN {CENTRE_URI_PREFIX}<ID> "
            f"or {CLIENT_URI_PREFIX}<name>)",
            fingerprint,
        )
    if len(identities) > 1:
        return IdentityError(
            "ambiguous-identity", "the certificate names more than one identity", fingerprint
        )
    return identities.pop()


def _uri_names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return extension.value.get_values_for_type(x509.UniformResourceIdentifier)
