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
"""

from __future__ import annotations

import asyncio
import os
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

__all__ = ["GrpcPeerLink"]

DELIVER_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 2.0


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
        try:
            # Wait (briefly) for a connection rather than failing fast while the channel is in
            # its reconnect backoff: a peer that has just come back must not burn an attempt.
            await asyncio.wait_for(self._channel.channel_ready(), CONNECT_TIMEOUT_SECONDS)
        except TimeoutError:
            raise PeerUnavailableError(
                f"UNAVAILABLE: no connection to {self.peer.address} within "
                f"{CONNECT_TIMEOUT_SECONDS:g} s"
            ) from None
        await self._identify()
        try:
            response: federation_pb2.DeliverResponse = await self._stub.Deliver(
                request, timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise PeerUnavailableError(f"{error.code().name}: {error.details()}") from None
        return list(response.results)

    async def _identify(self) -> None:
        """Make the server prove it is the peer before it is handed anything.

        Raises:
            PeerUnavailableError: no answer, or no valid proof (``IDENTITY: ...``).
        """
        nonce = os.urandom(IDENTIFY_NONCE_BYTES)
        try:
            proof: federation_pb2.IdentifyResponse = await self._stub.Identify(
                federation_pb2.IdentifyRequest(nonce=nonce), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise PeerUnavailableError(
                f"IDENTITY: the server at {self.peer.address} did not prove it is "
                f"{self.peer.centre} ({error.code().name}: {error.details()})"
            ) from None
        # Over mutual TLS the peer names the caller its handshake verified: this centre (a proof
        # obtained by a relay with another certificate names that one).
        caller = self._centre if self._mutual_tls else ""
        where = f"the server at {self.peer.address}"
        if proof.centre != self.peer.centre or proof.caller != caller:
            raise PeerUnavailableError(
                f"IDENTITY: {where} answered as {proof.centre or '?'} for {proof.caller or '?'}, "
                f"not as {self.peer.centre} for {caller or 'a loopback caller'}"
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
                f"IDENTITY: {where} did not prove it is {self.peer.centre}: {error}"
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
            raise PeerUnavailableError(f"{error.code().name}: {error.details()}") from None
        return response.kept

    async def close(self) -> None:
        await self._channel.close(None)
