"""The gRPC link to a peer centre: ``Federation.Deliver`` (and ``KeepCheckpoint``) over mutual TLS.

The channel verifies that the server's certificate is the peer centre's own (its centre host
name, see ``gateway.security.certs.centre_host``) and presents this centre's certificate. Any
failure to get an answer — the peer down, a handshake refused, a deadline — is
``PeerUnavailableError``: the batch stays queued and is retried with backoff. A peer that answers
refuses or accepts each record on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from grpc import aio

from gateway.federation.forwarder import PeerUnavailableError
from gateway.federation.settings import PeerConfig
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
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
        try:
            response: federation_pb2.DeliverResponse = await self._stub.Deliver(
                request, timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise PeerUnavailableError(f"{error.code().name}: {error.details()}") from None
        return list(response.results)

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
