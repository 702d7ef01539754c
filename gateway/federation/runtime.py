"""Everything a centre runs for security and federation, built from its settings.

The gateway owns one ``FederationRuntime``. It decides, from the centre's configuration:

* how the listener binds: mutual TLS when ``[tls]`` is set, otherwise plaintext, which is
  refused unless the listen address is loopback;
* which interceptors guard the services: authorisation whenever TLS or the audit log is on (it
  identifies every caller and audits refused identities and calls; the refusal of unknown
  methods goes outside telemetry, see ``outer_interceptors``), the per-caller stream limit
  (audited), and the record guard (need-to-know filtering and audit) whenever the audit log is
  on;
* the audit log: on with TLS or an ``[audit]`` table (``<store>.audit.db`` by default), off for
  the plaintext loopback default of ``make run``;
* federation: the Federation service (with TLS), and — when peers and routes are configured —
  the outbox (``<store>.outbox.db``), the forwarder and the FederationAdmin service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grpc import aio
from opentelemetry.trace import Tracer

from gateway.audit.log import AuditLog
from gateway.federation.checkpoints import AuditCheckpoints
from gateway.federation.forwarder import Forwarder, PeerLink
from gateway.federation.outbox import Outbox
from gateway.federation.peers import GrpcPeerLink
from gateway.federation.settings import FederationSettings
from gateway.federation.traces import SubmissionTraces
from gateway.feed import CommitFeed
from gateway.security.authorization import AuthorizationInterceptor, UnknownMethodInterceptor
from gateway.security.gate import RecordGate
from gateway.security.guard import RecordGuardInterceptor
from gateway.security.limits import StreamLimitInterceptor
from gateway.security.signing import (
    KeyRing,
    RecordSigner,
    SigningKeySource,
    load_key_ring,
    load_signer,
)
from gateway.security.tls import is_loopback, server_credentials
from gateway.services.federation import (
    ADMIN_SERVICE,
    FEDERATION_SERVICE,
    FederationAdminService,
    FederationService,
)
from gateway.services.registration import add_service
from gateway.store.base import RecordStore

__all__ = ["FederationRuntime", "PlaintextRefusedError"]


class PlaintextRefusedError(ValueError):
    """Plaintext was asked for on a non-loopback address."""


class FederationRuntime:
    """Security and federation of one centre; see the module documentation."""

    def __init__(
        self,
        *,
        centre_id: str,
        settings: FederationSettings,
        store_path: Path,
        max_streams_per_caller: int,
        max_message_bytes: int,
    ) -> None:
        self.centre_id = centre_id
        self.settings = settings
        self._max_message_bytes = max_message_bytes
        audit_on = (
            settings.tls is not None
            or settings.audit_path is not None
            or settings.audit_key_path is not None
        )
        audit_path = settings.audit_path or store_path.with_name(store_path.name + ".audit.db")
        self.audit: AuditLog | None = (
            AuditLog(audit_path, settings.audit_key_path) if audit_on else None
        )
        forwarding = bool(settings.peers and settings.routes)
        outbox_path = store_path.with_name(store_path.name + ".outbox.db")
        self.outbox: Outbox | None = Outbox(outbox_path, settings.backoff) if forwarding else None
        self.forwarder: Forwarder | None = None
        self._links: dict[str, GrpcPeerLink] = {}
        self._stream_limit = StreamLimitInterceptor(max_streams_per_caller, self.audit)
        self.guard = RecordGuardInterceptor(self.audit)
        """Refuses undeclared RPCs and audits every call (when the audit log is on)."""
        self.traces = SubmissionTraces() if forwarding else None
        """Submission trace contexts, remembered by the exchange service for forwarding (only
        when this gateway forwards: otherwise nothing would ever read them)."""
        signing = settings.signing
        self.signing_key: SigningKeySource | None = (
            None
            if signing is None
            else SigningKeySource(centre_id, signing.key_id, signing.private_key)
        )
        """Where this centre's signing key is (the store signs with it); ``None``: unsigned."""
        self.signer: RecordSigner | None = None
        """This centre's signer, once :meth:`load_keys` has checked it."""
        self.key_ring = KeyRing()
        """The public keys of this centre and its peers, once :meth:`load_keys` has read them."""
        self.checkpoints: AuditCheckpoints | None = None
        """Signed audit checkpoints, taken and deposited with peers, and peers' kept here."""

    def load_keys(self) -> None:
        """Read the signing key and every listed public key; check that they belong together.

        Raises:
            SigningKeyError: a key file is unusable, or the private key is not the listed one.
        """
        signing = self.settings.signing
        keys = {peer.centre: peer.signing_keys for peer in self.settings.peers}
        if signing is not None:
            keys[self.centre_id] = signing.keys
            self.signer = load_signer(
                self.centre_id, signing.key_id, signing.private_key, signing.keys
            )
        self.key_ring = load_key_ring(keys)

    async def open(self) -> None:
        """Open the audit log (with its checkpoints) and the outbox; call :meth:`load_keys`
        first."""
        for peer in self.settings.peers:
            self._links[peer.centre] = GrpcPeerLink(
                peer,
                self.settings.tls,
                centre=self.centre_id,
                key_ring=self.key_ring,
                max_message_bytes=self._max_message_bytes,
            )
        if self.audit is not None:
            await self.audit.open()
            self.checkpoints = AuditCheckpoints(
                centre=self.centre_id,
                audit=self.audit,
                key_ring=self.key_ring,
                signer=self.signer,
                peers=self._links,
                policy=self.settings.audit_checkpoints,
            )
            try:
                await self.checkpoints.open()
            except BaseException:
                self.checkpoints = None
                await self._close_audit()
                raise
        if self.outbox is not None:
            try:
                await self.outbox.open()
            except BaseException:
                await self._close_audit()
                raise

    def outer_interceptors(self) -> list[Any]:
        """The interceptors that go outside telemetry: the audited refusal of unknown methods
        (telemetry must not see a handler per unknown method name), with TLS or an audit log."""
        if self.settings.tls is None and self.audit is None:
            return []
        return [UnknownMethodInterceptor(self.audit)]

    def interceptors(self) -> list[Any]:
        """The guards, outermost first (after telemetry, which the gateway puts first)."""
        chain: list[Any] = []
        if self.settings.tls is not None or self.audit is not None:
            chain.append(
                AuthorizationInterceptor(self.settings.policy(), self.centre_id, self.audit)
            )
        chain.append(self._stream_limit)
        chain.append(self.guard)
        return chain

    @property
    def _federating(self) -> bool:
        return self.settings.tls is not None or bool(self.settings.peers)

    def service_names(self) -> list[str]:
        names = []
        if self._federating:
            names.append(FEDERATION_SERVICE.full_name)
        if self._federating or self.outbox is not None:
            names.append(ADMIN_SERVICE.full_name)
        return names

    def add_services(
        self,
        server: aio.Server,
        store: RecordStore,
        gate: RecordGate,
        tracer: Tracer | None = None,
    ) -> None:
        desk = self.checkpoints.desk if self.checkpoints is not None else None
        if self._federating:
            receiver = FederationService(store, self.centre_id, self.audit, self.key_ring, tracer)
            receiver.checkpoints = desk
            receiver.signer = self.signer
            add_service(server, receiver, FEDERATION_SERVICE)
        if self._federating or self.outbox is not None:
            admin = FederationAdminService(self.outbox, self._wake, gate)
            admin.checkpoints = desk
            add_service(server, admin, ADMIN_SERVICE)

    def bind(self, server: aio.Server, listen: str) -> int:
        """Bind the listener; returns the port."""
        if self.settings.tls is not None:
            return server.add_secure_port(listen, server_credentials(self.settings.tls))
        host = listen.rpartition(":")[0]
        if not is_loopback(host):
            raise PlaintextRefusedError(
                f"plaintext is only served on loopback, not on {listen}: configure [tls]"
            )
        return server.add_insecure_port(listen)

    async def start_forwarding(
        self, gate: RecordGate, feed: CommitFeed, tracer: Tracer | None = None
    ) -> None:
        """Start routing committed records to peers (when peers and routes are configured)."""
        traces = self.traces
        if self.outbox is None or traces is None:
            return
        links: dict[str, PeerLink] = dict(self._links)
        self.forwarder = Forwarder(
            centre_id=self.centre_id,
            gate=gate,
            feed=feed,
            outbox=self.outbox,
            rules=self.settings.routes,
            peers=links,
            audit=self.audit,
            trace_context_of=lambda v: traces.traceparent(v.record_id, v.content_sha256),
            tracer=tracer,
        )
        await self.forwarder.start()

    def _wake(self, peer: str | None) -> None:
        if self.forwarder is not None:
            self.forwarder.wake(peer)

    async def stop_forwarding(self) -> None:
        """Stop the forwarder (before the store closes)."""
        if self.forwarder is not None:
            await self.forwarder.stop()
            self.forwarder = None

    async def close(self) -> None:
        """Close the outbox, the checkpoints (a last one is taken and deposited), the peer
        channels and the audit log (after the server has stopped)."""
        await self.stop_forwarding()
        if self.outbox is not None:
            await self.outbox.close()
        await self._close_audit()

    async def _close_audit(self) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.close()
            self.checkpoints = None
        for link in self._links.values():
            await link.close()
        self._links.clear()
        if self.audit is not None:
            await self.audit.close()
