"""Builds and runs one centre's gateway: the grpc.aio server, its services, health, reflection.

Security is wired here, in one place, from the centre's configuration:

* the listener: mutual TLS when ``[tls]`` is set, otherwise plaintext, which is refused unless
  the listen address is loopback;
* the audit log: on with TLS or an ``[audit]`` table (``<store>.audit.db`` by default), off for
  the plaintext loopback default of ``make run``;
* the signing keys: this centre's signer (the store signs its own versions) and the key ring of
  every centre's public keys (deliveries are verified with it);
* the interceptors, outermost first: the audited refusal of unknown methods (outside telemetry:
  no span per invented method name), telemetry, authorisation (identifies every caller, audits
  refused identities and calls), the per-caller stream limit, the record guard (refuses
  undeclared RPCs, audits every call, batches stream denials), the refusal of malformed request
  bytes - so every guard sees a malformed call and its real outcome - and, innermost, the drain
  that ends the calls a stop would cut with UNAVAILABLE (:mod:`gateway.draining`);
* the visibility gate every read passes (:class:`RecordGate`, need-to-know).

Federation (:class:`FederationRuntime`) gets the audit log and the keys from here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from starlette.types import ASGIApp

from adapters import AdapterRegistry, default_registry
from gateway.audit.log import AuditLog
from gateway.audit.postgresql_log import PostgresAuditLog
from gateway.audit.verification import AuditVerifier
from gateway.config import CentreConfig, LimitsConfig
from gateway.console import with_console
from gateway.draining import CallDrain
from gateway.federation.routing import h2_permission
from gateway.federation.runtime import FederationRuntime
from gateway.http.app import HttpApi
from gateway.http.calls import Calls
from gateway.http.cors import CorsPolicy
from gateway.http.handlers import HandlerTable, Mirror
from gateway.http.listener import HttpListener
from gateway.lifecycle.keeper import RetentionKeeper
from gateway.lifecycle.threads import ThreadBook
from gateway.security.authorization import AuthorizationInterceptor, UnknownMethodInterceptor
from gateway.security.gate import RecordGate
from gateway.security.guard import RecordGuardInterceptor
from gateway.security.limits import StreamLimitInterceptor
from gateway.security.tls import PlaintextRefusedError, is_loopback, server_credentials
from gateway.security.visibility import NeedToKnow
from gateway.services.exchange import SERVICE_NAME as EXCHANGE_SERVICE
from gateway.services.exchange import RecordExchangeService
from gateway.services.federation import (
    ADMIN_SERVICE,
    FEDERATION_SERVICE,
    FederationAdminService,
    FederationService,
)
from gateway.services.lifecycle import LifecycleCalls
from gateway.services.reflection import add_reflection
from gateway.services.registration import MalformedRequestInterceptor, add_service
from gateway.services.screening import SERVICE_NAME as SCREENING_SERVICE
from gateway.services.screening import ScreeningService
from gateway.services.screening_cursor import ScreeningCursor
from gateway.services.screening_desk import ScreeningDesk
from gateway.services.statuses import abort
from gateway.services.translation import SERVICE_NAME as TRANSLATION_SERVICE
from gateway.services.translation import TranslationService
from gateway.signing import (
    KeyRing,
    RecordSigner,
    SigningKeyError,
    SigningKeySource,
    load_key_ring,
    load_signer,
)
from gateway.store import RecordStore, StoreError, create_store
from gateway.store.feed import CommitFeed
from gateway.store.postgresql import resolve_dsn
from gateway.store.preparation_pool import MessagePreparer
from gateway.supervision import HealthBoard, Supervisor
from gateway.telemetry import (
    ServerTelemetryInterceptor,
    Telemetry,
    configure_logging,
    resolve_settings,
)
from gateway.telemetry.providers import SHUTDOWN_SECONDS
from liaison.rules.errors import LiaisonError
from liaison.v1 import exchange_pb2, screening_pb2, translation_pb2

__all__ = ["Gateway", "ServeError", "run"]

_log = logging.getLogger(__name__)

_STORE_WRITES = "store:writes"
"""The health condition of the store's writes (see ``[storage] unhealthy_after_seconds``)."""

_TASKS_STOP_SECONDS = 1.0
"""How long a stop waits for its cancelled background tasks (they end at once unless one lost
its cancellation: it is then logged and left)."""


_LISTENER_STOP_SECONDS = 0.05
"""The least grace the listeners get when they close at a stop whose grace is spent."""


class ServeError(LiaisonError, RuntimeError):
    """The gateway could not start (address in use, unusable store, ...)."""


class Gateway:
    """One centre's gateway. ``await start()``, serve, ``await stop()``."""

    def __init__(
        self,
        config: CentreConfig,
        *,
        store: RecordStore | None = None,
        telemetry: Telemetry | None = None,
        registry: AdapterRegistry | None = None,
        preparer: MessagePreparer | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """Prepare the gateway; nothing is opened before :meth:`start`.

        Args:
            config: The centre's configuration.
            store: The record store; by default the one ``config.storage`` describes.
            telemetry: Traces and metrics; by default none.
            registry: The adapters Translation serves; by default every installed adapter.
            preparer: Prepares SubmitStream messages, instead of one with
                ``config.server.preparation_workers`` workers. The gateway closes it on stop.
            clock: The time the record lifecycle is judged at (expiry, reviews, withdrawal
                times), in microseconds since the epoch; the wall clock by default. Tests move
                it instead of sleeping.
        """
        self.config = config
        self._registry = registry if registry is not None else default_registry()
        self._translation: TranslationService | None = None
        security = config.federation
        self._audit = _audit_log(config)
        self._guard = RecordGuardInterceptor(self._audit, refuse=abort)
        self._signer: RecordSigner | None = None
        self._key_ring = KeyRing()
        # The caller owns the telemetry (and shuts it down); by default there is none.
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        # Everything that can make the gateway NOT_SERVING reports a condition here; the health
        # service follows the board (see _publish_health). Background tasks (forwarding,
        # checkpoints) run under the supervisor, which reports their failures on the board.
        self._board = HealthBoard()
        self._board.add_listener(self._publish_health)
        self._supervisor = Supervisor(
            self._board, on_restart=self._telemetry.metrics.task_restarted
        )
        self._federation = FederationRuntime(
            centre_id=config.centre_id,
            settings=security,
            store_path=config.storage.path,
            audit=self._audit,
            max_message_bytes=config.limits.max_message_bytes,
            supervisor=self._supervisor,
            storage=config.storage,
        )
        signing = security.signing
        signing_key = (
            None
            if signing is None
            else SigningKeySource(config.centre_id, signing.key_id, signing.private_key)
        )
        self._store = (
            store
            if store is not None
            else create_store(config.storage, signing_key, config.lifecycle.retention)
        )
        self.clock: Callable[[], int] = clock if clock is not None else _wall_clock_us
        # Need-to-know for every reader, and forwarding, obeys the same H2 permissions.
        self._gate = RecordGate(
            self._store,
            NeedToKnow(config.centre_id, h2_permission(security.routes)),
            clock=lambda: self.clock(),
        )
        self._gate.on_hidden = self._guard.denied
        self._feed = CommitFeed(self._store, telemetry=self._telemetry)
        self._telemetry.metrics.observe_subscribers(lambda: self._feed.subscribers)
        self._store.add_commit_timer(self._telemetry.metrics.store_committed)
        self._store.add_unavailable_listener(self._store_unavailable)
        self._store.add_recovered_listener(self._store_recovered)
        self._preparer = (
            preparer
            if preparer is not None
            else MessagePreparer(config.centre_id, config.server.preparation_workers)
        )
        self._desk = ScreeningDesk(
            self._store,
            config.centre_id,
            config.screening,
            gate=self._gate,
            centres={peer.centre for peer in security.peers}
            | {grant.acts_for for grant in security.grants if grant.acts_for},
            cursor=ScreeningCursor(
                config.storage.path.with_name(config.storage.path.name + ".screening.db")
            ),
        )
        self._threads = ThreadBook(
            self._store, config.centre_id, config.lifecycle, lambda: self.clock(), audit=self._audit
        )
        self._keeper = RetentionKeeper(
            self._store,
            config.centre_id,
            config.lifecycle,
            clock=lambda: self.clock(),
            audit=self._audit,
            telemetry=self._telemetry,
            threads=self._threads,
        )
        self._server: aio.Server | None = None
        # One drain for both listeners: the HTTP listener runs the same interceptor instances.
        self._drain = CallDrain()
        self._http: HttpListener | None = None
        self._http_calls: Calls | None = None
        self._unhealthy: asyncio.Future[None] | None = None
        # grpc-stubs predates grpc_health's asyncio servicer (public as grpc_health.v1.health.aio).
        self._health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self._served: tuple[str, ...] = ()
        self._port = 0

    @property
    def federation(self) -> FederationRuntime:
        """Federation: the outbox, the forwarder, the checkpoints."""
        return self._federation

    @property
    def audit(self) -> AuditLog | None:
        """The audit log, or ``None`` when auditing is off."""
        return self._audit

    @property
    def key_ring(self) -> KeyRing:
        """The public keys of this centre and its peers (after :meth:`start`)."""
        return self._key_ring

    @property
    def health(self) -> HealthBoard:
        """The conditions that make the gateway (or one of its services) NOT_SERVING."""
        return self._board

    @property
    def keeper(self) -> RetentionKeeper:
        """Withdraws this centre's expired records and raises review reminders."""
        return self._keeper

    @property
    def supervisor(self) -> Supervisor:
        """Runs the gateway's background tasks, restarting them after failures."""
        return self._supervisor

    @property
    def screening(self) -> ScreeningDesk:
        """The screening index and the automatic screening of commits."""
        return self._desk

    @property
    def store(self) -> RecordStore:
        """The store the gateway writes to."""
        return self._store

    @property
    def gate(self) -> RecordGate:
        """The visibility gate every read passes."""
        return self._gate

    @property
    def registry(self) -> AdapterRegistry:
        """The adapters the Translation service serves."""
        return self._registry

    @property
    def preparer(self) -> MessagePreparer:
        """Prepares SubmitStream messages (in worker processes when configured)."""
        return self._preparer

    @property
    def feed(self) -> CommitFeed:
        """The commit feed subscribers are served from."""
        return self._feed

    @property
    def port(self) -> int:
        """The bound port (known after :meth:`start`, also when the configuration asked for 0)."""
        return self._port

    @property
    def http_port(self) -> int:
        """The HTTP listener's bound port (0 when ``[http] listen`` is not set)."""
        return self._http.port if self._http is not None else 0

    @property
    def http_calls(self) -> Calls | None:
        """The calls the HTTP listener serves (``None`` without one)."""
        return self._http_calls

    @property
    def http_address(self) -> str:
        """``host:port`` of the HTTP listener ("" when there is none)."""
        if self._http is None:
            return ""
        return f"{self.config.http.listen.rpartition(':')[0]}:{self._http.port}"

    @property
    def address(self) -> str:
        """``host:port`` the gateway listens on."""
        host = self.config.server.listen.rpartition(":")[0]
        return f"{host}:{self._port}"

    async def start(self) -> None:
        """Open the store and start serving.

        Raises:
            ServeError: the address cannot be bound or the store cannot be opened.
        """
        limits = self.config.limits
        try:
            self._load_keys()
        except SigningKeyError as error:
            raise ServeError(f"cannot use the signing keys: {error}") from error
        try:
            await self._store.open()
        except StoreError as error:
            # The store's message names the file and why it cannot be used.
            raise ServeError(f"cannot open the store: {error}") from error
        except Exception as error:
            raise ServeError(
                f"cannot open the store {self.config.storage.path}: {error}"
            ) from error
        try:
            if self._audit is not None:
                await self._audit.open()
            await self._federation.open(self._key_ring, self._signer)
        except Exception as error:
            if self._audit is not None:
                await self._audit.close()
            await self._store.close()
            raise ServeError(f"cannot open the audit log or the outbox: {error}") from error
        try:
            await self._desk.open()
            await self._threads.open()
            self._supervisor.spawn("screening", self._desk.follow, (SCREENING_SERVICE,))
            # Reads check expiry themselves: a keeper that fails serves nothing stale.
            self._supervisor.spawn("retention", self._keeper.run)
            # Receipts of the requests handled here go back to their requesters (and those that
            # lag after a restart are written now).
            self._supervisor.spawn("threads", self._threads.run)
            await self._feed.start()
            self._server = await self._serve(limits)
            await self._federation.start_forwarding(self._gate, self._feed, self._telemetry.tracer)
        except BaseException:
            # The store's writer thread keeps a process alive: never leave it open on failure.
            if self._http is not None:
                await self._http.stop(0)
                self._http = None
            if self._server is not None:
                await self._server.stop(None)
                self._server = None
            await self._supervisor.stop()
            await self._desk.close()
            self._threads.close()
            await self._federation.close()
            if self._audit is not None:
                await self._audit.close()
            await self._store.close()
            raise
        self._served = (
            "",
            EXCHANGE_SERVICE,
            TRANSLATION_SERVICE,
            # Its desk's conditions (a dead worker, hits the store refuses) are on the board:
            # without it here, a health check of it answered NOT_FOUND whatever they were.
            SCREENING_SERVICE,
            *self._federation_service_names(),
        )
        for service in self._served:
            await self._health.set(service, self._status_of(service))
        for problem in self._registry.problems:
            _log.warning("adapter plugin not loaded: %s: %s", problem.entry_point, problem.reason)
        _log.info("gateway started: centre %s on port %d", self.config.centre_id, self._port)

    def _load_keys(self) -> None:
        """Read the signing key and every listed public key; check that they belong together.

        Raises:
            SigningKeyError: a key file is unusable, or the private key is not the listed one.
        """
        security = self.config.federation
        keys = {peer.centre: peer.signing_keys for peer in security.peers}
        signing = security.signing
        if signing is not None:
            keys[self.config.centre_id] = signing.keys
            self._signer = load_signer(
                self.config.centre_id, signing.key_id, signing.private_key, signing.keys
            )
        self._key_ring = load_key_ring(keys)

    def _interceptors(self, host: str) -> list[Any]:
        """The interceptors, outermost first (see the module documentation)."""
        security = self.config.federation
        guarded = security.tls is not None or self._audit is not None
        chain: list[Any] = []
        if guarded:
            chain.append(UnknownMethodInterceptor(self._audit))
        chain.extend(self._telemetry.server_interceptors(host))
        if guarded:
            chain.append(
                AuthorizationInterceptor(security.policy(), self.config.centre_id, self._audit)
            )
        chain.append(StreamLimitInterceptor(self.config.limits.max_streams_per_caller, self._audit))
        chain.append(self._guard)
        chain.append(MalformedRequestInterceptor())
        chain.append(self._drain)
        return chain

    def _federation_service_names(self) -> list[str]:
        names = []
        if self._federation.serves_federation:
            names.append(FEDERATION_SERVICE.full_name)
        if self._federation.serves_admin:
            names.append(ADMIN_SERVICE.full_name)
        return names

    def _add_federation_services(self, server: Mirror) -> list[str]:
        """Register Federation (peers deliver, identify, deposit checkpoints) and FederationAdmin
        (deliveries, replay, checkpoints) as the federation settings ask; their names."""
        federation = self._federation
        desk = federation.checkpoints.desk if federation.checkpoints is not None else None
        if federation.serves_federation:
            receiver = FederationService(
                self._store,
                self.config.centre_id,
                self._audit,
                self._key_ring,
                self._telemetry.tracer,
            )
            receiver.checkpoints = desk
            receiver.signer = self._signer
            add_service(server, receiver, FEDERATION_SERVICE)
        if federation.serves_admin:
            admin = FederationAdminService(federation.outbox, federation.wake, self._gate)
            admin.checkpoints = desk
            if self._audit is not None:
                book = federation.checkpoints.book if federation.checkpoints is not None else None
                admin.verifier = AuditVerifier(self._audit, self.config.centre_id, book)
            add_service(server, admin, ADMIN_SERVICE)
        return self._federation_service_names()

    def _bind(self, server: aio.Server) -> int:
        """Bind the listener (mutual TLS, or plaintext on loopback only); returns the port."""
        listen = self.config.server.listen
        tls = self.config.federation.tls
        if tls is not None:
            return server.add_secure_port(listen, server_credentials(tls))
        if not is_loopback(listen.rpartition(":")[0]):
            raise PlaintextRefusedError(
                f"plaintext is only served on loopback, not on {listen}: configure [tls]"
            )
        return server.add_insecure_port(listen)

    def _store_unavailable(self, reason: str) -> None:
        """The store can no longer write: stop advertising the gateway as SERVING (reads still
        work, but a load balancer must send submissions elsewhere)."""
        self._board.report(
            _STORE_WRITES,
            (
                "",
                EXCHANGE_SERVICE,
                TRANSLATION_SERVICE,
                SCREENING_SERVICE,
                FEDERATION_SERVICE.full_name,
            ),
            f"store writes unavailable: {reason}",
        )

    def _store_recovered(self) -> None:
        """A write succeeded after failures that had made the gateway NOT_SERVING."""
        self._board.clear(_STORE_WRITES)

    def _status_of(self, service: str) -> int:
        serving = self._board.serving(service)
        return int(
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )

    def _publish_health(self, services: frozenset[str]) -> None:
        """Mirror the board into the health service (only once serving has started, and never
        after graceful shutdown has begun: that answer is NOT_SERVING for good)."""
        if self._server is None:
            return
        published = [s for s in self._served if s in services or not s]
        if not published:
            return

        async def publish() -> None:
            for service in published:
                await self._health.set(service, self._status_of(service))

        self._unhealthy = asyncio.ensure_future(publish())

    async def _serve(self, limits: LimitsConfig) -> aio.Server:
        """Build, bind and start the gRPC server with every service."""
        host = self.config.server.listen.rpartition(":")[0]
        interceptors = self._interceptors(host)
        table = HandlerTable()
        server = aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", limits.max_message_bytes),
                # gRPC enables SO_REUSEPORT by default: two gateways could then share a port.
                ("grpc.so_reuseport", 0),
            ],
        )
        # Every service is registered on the gRPC server and, through the mirror, in the HTTP
        # listener's table: one set of handlers behind both (decision 0020).
        both = Mirror(server, table)
        lifecycle = LifecycleCalls(
            store=self._store,
            gate=self._gate,
            centre_id=self.config.centre_id,
            settings=self.config.lifecycle,
            clock=lambda: self.clock(),
            keeper=self._keeper,
            telemetry=self._telemetry,
            threads=self._threads,
        )
        exchange = RecordExchangeService(
            store=self._store,
            gate=self._gate,
            feed=self._feed,
            centre_id=self.config.centre_id,
            limits=limits,
            telemetry=self._telemetry,
            preparer=self._preparer,
            traces=self._federation.traces,
            preparation=self.config.storage.preparation,
            lifecycle=lifecycle,
        )
        add_service(
            both,
            exchange,
            exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"],
            # Requests are parsed once, where they are prepared (the writer, a worker process).
            raw={"Submit": exchange.submit_bytes, "SubmitStream": exchange.submit_stream_bytes},
        )
        self._translation = TranslationService(
            registry=self._registry,
            store=self._store,
            gate=self._gate,
            centre_id=self.config.centre_id,
            limits=limits,
            telemetry=self._telemetry,
            unknown_threads=lifecycle.unknown_threads,
        )
        add_service(
            both,
            self._translation,
            translation_pb2.DESCRIPTOR.services_by_name["Translation"],
        )
        screening = ScreeningService(
            self._desk,
            self._store,
            self._gate,
            self.config.centre_id,
            self._translation.decode,
            max_page_size=limits.max_page_size,
            default_page_size=limits.default_page_size,
        )
        add_service(both, screening, screening_pb2.DESCRIPTOR.services_by_name["Screening"])
        federation_services = self._add_federation_services(both)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, both)
        health_service = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        add_reflection(
            server,
            [
                EXCHANGE_SERVICE,
                TRANSLATION_SERVICE,
                SCREENING_SERVICE,
                *federation_services,
                health_service,
            ],
        )
        try:
            self._port = self._bind(server)
        except PlaintextRefusedError as error:
            raise ServeError(str(error)) from error
        except (RuntimeError, ValueError) as error:
            raise ServeError(f"cannot listen on {self.config.server.listen}: {error}") from error
        for interceptor in interceptors:
            if isinstance(interceptor, ServerTelemetryInterceptor):
                interceptor.set_server_port(self._port)
        await server.start()
        if self.config.http.listen:
            try:
                await self._listen_http(table, interceptors, limits)
            except BaseException:
                await server.stop(None)
                raise
        return server

    async def _listen_http(
        self, table: HandlerTable, interceptors: list[Any], limits: LimitsConfig
    ) -> None:
        """Serve the same handlers, through the same interceptors, over HTTP."""
        self._http_calls = Calls(table, interceptors)
        api = HttpApi(
            self._http_calls,
            max_message_bytes=limits.max_message_bytes,
            sse_keepalive_seconds=self.config.http.sse_keepalive_seconds,
        )
        listen = self.config.http.listen
        try:
            # The analyst console (/console) is static files over the same API (decision 0023).
            app: ASGIApp = with_console(api.app())
            if self.config.http.cors_origins:
                # Pages of the configured origins only (gRPC-Web from another origin).
                app = CorsPolicy(app, self.config.http.cors_origins)
            listener = HttpListener(app, listen, self.config.federation.tls)
            await listener.start()
            for interceptor in interceptors:
                if isinstance(interceptor, ServerTelemetryInterceptor):
                    interceptor.set_http_listener(listen.rpartition(":")[0], listener.port)
        except PlaintextRefusedError as error:
            raise ServeError(str(error)) from error
        except OSError as error:
            raise ServeError(f"cannot listen for HTTP on {listen}: {error}") from error
        self._http = listener

    async def stop(self, grace: float | None = None, *, since: float | None = None) -> None:
        """Stop accepting calls, let in-flight calls finish for ``grace`` seconds, close the store.

        Every step counts from one start, ``since`` (``time.monotonic()`` when the stop was asked
        for, e.g. a signal's arrival; now by default): calls arriving from then on are refused
        UNAVAILABLE; the calls in flight get the grace, less
        :data:`~gateway.draining.DRAIN_SECONDS`, after which those still running are ended with
        UNAVAILABLE too (never cut as CANCELLED), and both listeners close. Then what the
        gateway holds closes, side by side where nothing depends on the order, the store last.
        Everything acknowledged is already committed; writes still queued are committed before
        the store closes.
        """
        if self._server is None:
            return
        started = time.monotonic() if since is None else since
        deadline = started + (self.config.server.grace_seconds if grace is None else grace)
        server, self._server = self._server, None
        http, self._http = self._http, None
        self._drain.refuse_new()
        await self._health.enter_graceful_shutdown()
        background = asyncio.ensure_future(self._stop_background())
        ended = await self._drain.wind_down(deadline)
        if ended:
            _log.warning("stop: %d call(s) still running at the end of the grace ended", ended)
        # Both listeners at once, with what is left of the grace (a moment at least, for a call
        # that arrived in the last instant to be refused rather than cut).
        left = max(deadline - time.monotonic(), _LISTENER_STOP_SECONDS)
        listeners = [server.stop(left)]
        if http is not None:
            listeners.append(http.stop(left))
        # A step that fails does not keep the others, nor the closing, from running; the first
        # failure is raised once the store is closed.
        failures = await asyncio.gather(*listeners, background, return_exceptions=True)
        served = time.monotonic()
        await self._close_after_serving()
        stopped = time.monotonic()
        _log.info(
            "gateway stopped: centre %s in %.2f s (calls and listeners %.2f s, closing %.2f s)",
            self.config.centre_id,
            stopped - started,
            served - started,
            stopped - served,
        )
        for failure in failures:
            if isinstance(failure, BaseException):
                raise failure

    async def _stop_background(self) -> None:
        """Stop the background tasks and forwarding, then end the Subscribe streams (UNAVAILABLE:
        clients resume) - while the calls in flight finish."""
        # Cancelled tasks end at once; one that lost its cancellation is logged and left after
        # a second, so the shutdown stays within the grace + 1 s the operator guide promises.
        await self._supervisor.stop(grace=_TASKS_STOP_SECONDS)
        await self._federation.stop_forwarding()
        self._feed.close()

    async def _close_after_serving(self) -> None:
        """Close what the gateway holds once nothing is served: the receipts, federation and the
        audit log in that order; the screening desk, the adapter threads and the preparation
        workers beside them (each waits on its own threads or processes); the store last, even
        when another step failed (its queued writes commit)."""

        async def records_and_audit() -> None:
            await self._flush_threads()
            await self._federation.close()
            if self._audit is not None:
                await self._audit.close()
            self._threads.close()

        steps = [records_and_audit(), self._desk.close(), self._preparer.close()]
        if self._translation is not None:
            steps.append(self._translation.close())
        outcomes = await asyncio.gather(*steps, return_exceptions=True)
        await self._store.close()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _flush_threads(self) -> None:
        """Write the receipts and thread audit entries still pending (the last calls may have
        read a request); what cannot be written now is written after the next start."""
        try:
            await self._threads.flush()
        except Exception as error:
            _log.error(
                "thread receipts or audit entries not written at stop (%s): the receipts are "
                "written at the next start",
                type(error).__name__,
            )

    async def wait_for_termination(self) -> None:
        """Return when the server has stopped."""
        if self._server is not None:
            await self._server.wait_for_termination()


def _wall_clock_us() -> int:
    return time.time_ns() // 1000


def _audit_log(config: CentreConfig) -> AuditLog | None:
    """The audit log the configuration asks for: on with TLS or an ``[audit]`` table."""
    security = config.federation
    if security.tls is None and security.audit_path is None and security.audit_key_path is None:
        return None
    store_path = config.storage.path
    path = security.audit_path or store_path.with_name(store_path.name + ".audit.db")
    if config.storage.backend == "postgresql":
        # One chain for every replica, in the store's database; the file keeps checkpoints.
        return PostgresAuditLog(
            resolve_dsn(config.storage),
            schema=config.storage.schema,
            key_path=security.audit_key_path,
            path=path,
        )
    return AuditLog(path, security.audit_key_path)


def run(config: CentreConfig, *, telemetry: Telemetry | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then stop gracefully.

    Telemetry is exported as the centre's ``[telemetry]`` table and the ``OTEL_*`` variables say
    (off by default) unless ``telemetry`` is given (then the caller owns it and shuts it down);
    log lines are JSON on standard error, with trace and span ids.

    Raises:
        ServeError: the gateway could not start.
        TelemetryConfigError: an ``OTEL_*`` variable has a value Liaison does not support.
    """
    configure_logging(logging.INFO)
    # Adapters decode in threads that hold the GIL; at the default 5 ms switch interval the event
    # loop waits up to that long per hand-over, and a Health/Check needs several (bench health).
    sys.setswitchinterval(_SWITCH_INTERVAL_SECONDS)
    if telemetry is not None:
        asyncio.run(_serve(config, telemetry))
        return
    settings = resolve_settings(config.telemetry, os.environ)
    owned = Telemetry.from_settings(settings, config.centre_id)
    stopping: list[float] = []
    try:
        asyncio.run(_serve(config, owned, stopping))
    finally:
        # The last export gets what is left of the grace (+1 s) since the stop signal: an
        # unreachable collector must not hold the process beyond it.
        budget = config.server.grace_seconds + 1.0 - _SHUTDOWN_MARGIN_SECONDS
        left = budget - (time.monotonic() - stopping[0]) if stopping else SHUTDOWN_SECONDS
        owned.shutdown(timeout=max(left, _SHUTDOWN_MARGIN_SECONDS))


_SWITCH_INTERVAL_SECONDS = 0.001
"""How long a thread holds the GIL before another may take it, in a serving process."""

_SHUTDOWN_MARGIN_SECONDS = 0.25
"""Kept back from the grace for what follows the telemetry flush (closing the interpreter)."""


async def _serve(
    config: CentreConfig, telemetry: Telemetry, stopping: list[float] | None = None
) -> None:
    gateway = Gateway(config, telemetry=telemetry)
    await gateway.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop_asked() -> None:
        # The stop's one start: the grace, the calls' drain and the telemetry's last export
        # all count from here, not from when a busy loop got round to the stop.
        if stopping is not None and not stopping:
            stopping.append(time.monotonic())
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_asked)
    http = f", HTTP on {gateway.http_address}" if gateway.http_address else ""
    print(
        f"liaison: centre {config.centre_id} listening on {gateway.address}{http} "
        f"(store {config.storage.path})",
        file=sys.stderr,
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        if stopping is not None and not stopping:
            stopping.append(time.monotonic())
        await gateway.stop(since=stopping[0] if stopping else None)
