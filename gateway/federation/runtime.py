"""Federation of one centre, built from its settings: the peers, the forwarding, the checkpoints.

The gateway owns one ``FederationRuntime``; security (the listener's TLS, the audit log, the
interceptors, the signing keys) is the gateway's own (:mod:`gateway.server`), handed in here. It
decides, from the centre's configuration:

* whether the Federation service is served (with TLS or peers) and the FederationAdmin service
  (also when this centre forwards); the gateway registers them;
* when peers and routes are configured: the outbox (``<store>.outbox.db`` beside a SQLite
  store; the store's database, shared by every replica, with ``backend = "postgresql"``), the
  forwarder and the submission traces it continues;
* with the audit log on: signed audit checkpoints, deposited with peers and kept for them.

Its background tasks (the router, a sender per peer, the audit writer, the checkpoint rounds) run
under the gateway's :class:`~gateway.supervision.Supervisor`, so that a failed one is restarted
and shows on the gateway's health.
"""

from __future__ import annotations

from pathlib import Path

from opentelemetry.trace import Tracer

from gateway.audit.log import AuditLog
from gateway.federation.checkpoints import AuditCheckpoints
from gateway.federation.forwarder import Forwarder, PeerLink
from gateway.federation.outbox import Backoff, Outbox
from gateway.federation.peers import GrpcPeerLink
from gateway.federation.postgresql_outbox import PostgresOutbox
from gateway.federation.settings import FederationSettings
from gateway.federation.sqlite_outbox import SqliteOutbox
from gateway.federation.traces import SubmissionTraces
from gateway.security.gate import RecordGate
from gateway.signing import KeyRing, RecordSigner
from gateway.store.feed import CommitFeed
from gateway.store.postgresql import resolve_dsn
from gateway.store.settings import StorageConfig
from gateway.supervision import HealthBoard, Supervisor

__all__ = ["FederationRuntime", "create_outbox"]


class FederationRuntime:
    """Security and federation of one centre; see the module documentation."""

    def __init__(
        self,
        *,
        centre_id: str,
        settings: FederationSettings,
        store_path: Path,
        audit: AuditLog | None,
        max_message_bytes: int,
        supervisor: Supervisor | None = None,
        storage: StorageConfig | None = None,
    ) -> None:
        """Plan the centre's federation; nothing is opened before :meth:`open`.

        Args:
            centre_id: This centre.
            settings: Its peers, routes, TLS and checkpoint policy.
            store_path: The store's file; the outbox is kept beside it.
            audit: The gateway's audit log (opened by the gateway before :meth:`open`), or
                ``None`` when auditing is off.
            max_message_bytes: Largest message to a peer.
            supervisor: Runs the background tasks (the gateway's); by default one of its own.
            storage: The store's settings: with ``backend = "postgresql"`` the outbox is in
                the store's database, shared by the centre's replicas (``store_path`` unused).
        """
        self.supervisor = supervisor if supervisor is not None else Supervisor(HealthBoard())
        self.centre_id = centre_id
        self.settings = settings
        self.audit = audit
        self._max_message_bytes = max_message_bytes
        # Any peer means forwarding, routing rules or not: corrections and withdrawals follow
        # the ledger after every rule was removed, and request/reply threads go where they are
        # addressed (issue 15).
        forwarding = bool(settings.peers)
        self.outbox: Outbox | None = (
            create_outbox(storage or StorageConfig(path=store_path), settings.backoff)
            if forwarding
            else None
        )
        self.forwarder: Forwarder | None = None
        self._links: dict[str, GrpcPeerLink] = {}
        self.traces = SubmissionTraces() if forwarding else None
        """Submission trace contexts, remembered by the exchange service for forwarding (only
        when this gateway forwards: otherwise nothing would ever read them)."""
        self.signer: RecordSigner | None = None
        self.key_ring = KeyRing()
        self.checkpoints: AuditCheckpoints | None = None
        """Signed audit checkpoints, taken and deposited with peers, and peers' kept here."""

    async def open(self, key_ring: KeyRing, signer: RecordSigner | None) -> None:
        """Open the peer links, the checkpoints (on the open audit log) and the outbox.

        Args:
            key_ring: The public keys of this centre and its peers (deliveries are verified and
                peers identified with them).
            signer: This centre's signer (checkpoints and Identify answers), if it signs.
        """
        self.key_ring = key_ring
        self.signer = signer
        for peer in self.settings.peers:
            self._links[peer.centre] = GrpcPeerLink(
                peer,
                self.settings.tls,
                centre=self.centre_id,
                key_ring=self.key_ring,
                max_message_bytes=self._max_message_bytes,
            )
        if self.audit is not None:
            self.checkpoints = AuditCheckpoints(
                centre=self.centre_id,
                audit=self.audit,
                key_ring=self.key_ring,
                signer=self.signer,
                peers=self._links,
                policy=self.settings.audit_checkpoints,
                supervisor=self.supervisor,
            )
            try:
                await self.checkpoints.open()
            except BaseException:
                self.checkpoints = None
                await self._close_links()
                raise
        if self.outbox is not None:
            try:
                await self.outbox.open()
            except BaseException:
                await self._close_links()
                raise

    @property
    def serves_federation(self) -> bool:
        """Whether the Federation service is served: with TLS (peers call in) or peers."""
        return self.settings.tls is not None or bool(self.settings.peers)

    @property
    def serves_admin(self) -> bool:
        """Whether the FederationAdmin service is served: also when this centre forwards, and
        on every gateway that keeps an audit log, whose chain status (VerifyAuditLog) and own
        checkpoints (ListCheckpoints) it answers; without peers its delivery ledger is empty
        (decision 0026)."""
        return self.serves_federation or self.outbox is not None or self.audit is not None

    async def start_forwarding(
        self, gate: RecordGate, feed: CommitFeed, tracer: Tracer | None = None
    ) -> None:
        """Start routing committed records to peers (when peers are configured)."""
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
            supervisor=self.supervisor,
        )
        await self.forwarder.start()

    def wake(self, peer: str | None) -> None:
        """Retry deliveries now (to ``peer``, or to every peer), e.g. after a replay."""
        if self.forwarder is not None:
            self.forwarder.wake(peer)

    async def stop_forwarding(self) -> None:
        """Stop the forwarder (before the store closes)."""
        if self.forwarder is not None:
            await self.forwarder.stop()
            self.forwarder = None

    async def close(self) -> None:
        """Close the outbox, the checkpoints (a last one is taken and deposited) and the peer
        channels, after the server has stopped and before the gateway closes the audit log."""
        await self.stop_forwarding()
        if self.outbox is not None:
            await self.outbox.close()
        await self._close_links()

    async def _close_links(self) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.close()
            self.checkpoints = None
        for link in self._links.values():
            await link.close()
        self._links.clear()


def create_outbox(storage: StorageConfig, backoff: Backoff) -> Outbox:
    """The outbox of the store ``storage`` configures (not opened yet): a SQLite file beside a
    SQLite store (``<store>.outbox.db``), or tables in the PostgreSQL store's schema.

    Raises:
        StoreError: the PostgreSQL backend has no DSN, or its password file cannot be read.
    """
    if storage.backend == "postgresql":
        return PostgresOutbox(resolve_dsn(storage), backoff, schema=storage.schema)
    return SqliteOutbox(storage.path.with_name(storage.path.name + ".outbox.db"), backoff)
