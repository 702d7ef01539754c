"""The gRPC link to a peer centre: ``Federation.Deliver`` (and ``KeepCheckpoint``) over mutual TLS.

The channel verifies that the server's certificate is the peer centre's own (its centre host
name, see ``gateway.security.certs.centre_host``) and presents this centre's certificate. gRPC's
Python client cannot show the server's certificate, so before each batch the link also asks the
server to prove who it is (``Federation.Identify``): it must sign a fresh nonce, and this centre
as it verified the caller, with one of the peer's listed signing keys. A server that merely holds
a certificate with the peer's name (mis-issued, wildcard) gets nothing. Any failure to get an
answer — the peer down, a handshake refused, a deadline, a failed proof — is
``PeerUnavailableError``: the batch stays queued and is retried with backoff. A peer that answers
refuses or accepts each record on its own.

The error says which it was, first word first (it becomes the delivery's ``last_error``):

==============================  =================================================================
``unreachable: ...``            nobody answers at the address: ``connection refused``, the name
                                does not resolve, no route, the connection timed out
``handshake: ...``              something answers, but TLS failed: the peer's certificate is not
                                trusted (``certificate not trusted``) or not valid now, it is
                                another centre's (``not the peer's certificate``), the peer
                                refused this centre's certificate, or the peer does not speak TLS
``identity: ...``               the TLS session is up but the server did not prove it is the peer
                                (``Federation.Identify``)
``timeout: ...``                connected, but no answer within the deadline
``unavailable: ...``            any other status of the call (the peer shutting down, overloaded)
==============================  =================================================================

grpcio reports a failed connection as UNAVAILABLE "failed to connect to all addresses" with the
last connection error in the details (the table in ``gateway.client._handshake`` lists what each
handshake failure looks like there); the cause is read from those details.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import grpc
from grpc import aio

from gateway.federation.forwarder import PeerUnavailableError
from gateway.federation.settings import PeerConfig
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from gateway.signing import (
    IDENTIFY_NONCE_BYTES,
    KeyRing,
    SignatureError,
    identify_statement,
)
from liaison.v1 import federation_pb2, federation_pb2_grpc

__all__ = ["GrpcPeerLink", "peer_failure"]

DELIVER_TIMEOUT_SECONDS = 30.0

_CONNECT_FAILED = "failed to connect to all addresses"
_VERIFY_FAILED = re.compile(r"CERTIFICATE_VERIFY_FAILED(?::\s*([a-z][a-z ]+[a-z]))?")
_WRONG_NAME = ("Hostname Verification Check failed", "No match found for server name")
_CLOSED = ("Socket closed", "Connection reset by peer", "ALERT_")
_UNREACHABLE = (
    ("Connection refused", "connection refused"),
    ("DNS resolution failed", "the address does not resolve"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "network unreachable"),
    ("Timeout occurred", "connection timed out"),
    ("Connection timed out", "connection timed out"),
)


class GrpcPeerLink:
    """Delivers batches to one peer on one long-lived channel."""

    def __init__(
        self,
        peer: PeerConfig,
        tls: TlsConfig | None,
        *,
        centre: str,
        key_ring: KeyRing,
        timeout: float = DELIVER_TIMEOUT_SECONDS,
        max_message_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        options: list[tuple[str, str | int]] = [
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            # Retries are paced by the outbox's backoff; the channel's own reconnect backoff
            # (up to 120 s by default) would otherwise keep a recovered peer unreachable.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
        ]
        self.peer = peer
        self._centre = centre
        self._key_ring = key_ring
        self._mutual_tls = tls is not None
        self._timeout = timeout
        if tls is None:
            # Only for peers on loopback (the settings refuse others without [tls]).
            self._channel = aio.insecure_channel(peer.address, options=options)
        else:
            trust = (
                tls
                if peer.trusted_cas is None
                else TlsConfig(tls.certificate, tls.private_key, peer.trusted_cas)
            )
            options += peer_channel_options(peer.centre)
            self._channel = aio.secure_channel(
                peer.address, channel_credentials(trust), options=options
            )
        self._stub = federation_pb2_grpc.FederationStub(self._channel)

    async def deliver(
        self, records: Sequence[federation_pb2.ForwardedRecord]
    ) -> Sequence[federation_pb2.DeliveryResult]:
        request = federation_pb2.DeliverRequest(records=records)
        await self._identify()
        try:
            response: federation_pb2.DeliverResponse = await self._stub.Deliver(
                request, timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise self._failure(error) from None
        return list(response.results)

    async def wait_ready(self) -> None:
        """Return once a connection to the peer is up (TCP and TLS; the channel keeps trying,
        at most a second apart): the sender then retries at once instead of at its backoff."""
        await self._channel.channel_ready()

    def _failure(self, error: grpc.aio.AioRpcError, doing: str = "") -> PeerUnavailableError:
        """The :class:`PeerUnavailableError` of a failed call, with its cause first."""
        return peer_failure(
            error.code(), error.details() or "", self.peer.address, self.peer.centre, doing
        )

    async def _identify(self) -> None:
        """Make the server prove it is the peer before it is handed anything. Not waiting for a
        connection: a peer that is down or refuses the handshake fails at once, with its cause
        (the sender backs off, and :meth:`wait_ready` says when the peer is back).

        Raises:
            PeerUnavailableError: no answer, or no valid proof (``identity: ...``).
        """
        nonce = os.urandom(IDENTIFY_NONCE_BYTES)
        try:
            proof: federation_pb2.IdentifyResponse = await self._stub.Identify(
                federation_pb2.IdentifyRequest(nonce=nonce),
                timeout=self._timeout,
                wait_for_ready=False,
            )
        except grpc.aio.AioRpcError as error:
            raise self._failure(error, doing="identify") from None
        # Over mutual TLS the peer names the caller its handshake verified: this centre (a proof
        # obtained by a relay with another certificate names that one).
        caller = self._centre if self._mutual_tls else ""
        where = f"the server at {self.peer.address}"
        if proof.centre != self.peer.centre or proof.caller != caller:
            raise PeerUnavailableError(
                f"identity: {where} answered as {proof.centre or '?'} for {proof.caller or '?'}, "
                f"not as {self.peer.centre} for {caller or 'a loopback caller'}",
                cause="identity",
            )
        signed_at = (proof.time.seconds, proof.time.nanos)
        try:
            self._key_ring.verify(
                centre=self.peer.centre,
                key_id=proof.key_id,
                statement=identify_statement(
                    centre=proof.centre,
                    caller=proof.caller,
                    key_id=proof.key_id,
                    nonce=nonce,
                    time=signed_at,
                ),
                signature=proof.signature,
                signed_at=signed_at,
            )
        except (SignatureError, ValueError, OverflowError, OSError) as error:
            raise PeerUnavailableError(
                f"identity: {where} did not prove it is {self.peer.centre}: {error}",
                cause="identity",
            ) from None

    async def keep_checkpoint(self, checkpoint: federation_pb2.AuditCheckpoint) -> int:
        """Deposit this centre's audit checkpoint with the peer.

        Returns:
            How many of this centre's checkpoints the peer keeps.

        Raises:
            PeerUnavailableError: no answer, or a refusal (the status says which).
        """
        request = federation_pb2.KeepCheckpointRequest(checkpoint=checkpoint)
        try:
            response: federation_pb2.KeepCheckpointResponse = await self._stub.KeepCheckpoint(
                request, timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise self._failure(error) from None
        return response.kept

    async def close(self) -> None:
        await self._channel.close(None)


def peer_failure(
    code: grpc.StatusCode, details: str, address: str, centre: str, doing: str = ""
) -> PeerUnavailableError:
    """Why a call to the peer ``centre`` at ``address`` failed, cause first (see the module).

    Args:
        code: The call's status code.
        details: Its status details (for a failed connection, grpcio's last connection error).
        address: The peer's address, named in the message.
        centre: The peer's centre id.
        doing: ``"identify"`` when the call was the identity proof: a status from a connected
            server then means it did not prove who it is.
    """
    if code == grpc.StatusCode.UNAVAILABLE and _CONNECT_FAILED in details:
        if any(marker in details for marker in _WRONG_NAME):
            return PeerUnavailableError(
                f"handshake: not the peer's certificate: the server at {address} presented a "
                f"certificate without {centre}'s name (another centre's server?)",
                cause="handshake",
            )
        verify_failed = _VERIFY_FAILED.search(details)
        if verify_failed is not None:
            reason = verify_failed.group(1) or "verification failed"
            what = (
                "not valid now"
                if any(word in reason for word in ("expired", "not yet valid"))
                else "not trusted"
            )
            return PeerUnavailableError(
                f"handshake: certificate {what}: the certificate of the server at {address} "
                f"({reason}); check the peer's trusted_cas",
                cause="handshake",
            )
        if "WRONG_VERSION_NUMBER" in details:
            return PeerUnavailableError(
                f"handshake: the server at {address} does not speak TLS", cause="handshake"
            )
        for marker, words in _UNREACHABLE:
            if marker in details:
                return PeerUnavailableError(
                    f"unreachable: {words} ({address})", cause="unreachable"
                )
        if any(marker in details for marker in _CLOSED):
            return PeerUnavailableError(
                f"handshake: the server at {address} closed the connection while it was set up "
                "(it did not accept this centre's certificate?)",
                cause="handshake",
            )
        return PeerUnavailableError(
            f"unreachable: no connection to {address} ({details[-200:]})", cause="unreachable"
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return PeerUnavailableError(
            f"timeout: the server at {address} did not answer in time", cause="timeout"
        )
    if doing == "identify" and code != grpc.StatusCode.UNAVAILABLE:
        return PeerUnavailableError(
            f"identity: the server at {address} did not prove it is {centre} "
            f"({code.name}: {details})",
            cause="identity",
        )
    return PeerUnavailableError(f"unavailable: {code.name}: {details}", cause="unavailable")
