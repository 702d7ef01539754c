"""Builds and runs one centre's gateway: the grpc.aio server, its services, health, reflection."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from adapters import AdapterRegistry, default_registry
from gateway.config import CentreConfig, LimitsConfig
from gateway.federation.routing import h2_permission
from gateway.federation.runtime import FederationRuntime, PlaintextRefusedError
from gateway.feed import CommitFeed
from gateway.preparation import MessagePreparer
from gateway.security.gate import RecordGate
from gateway.security.signing import SigningKeyError
from gateway.security.visibility import NeedToKnow
from gateway.services.exchange import SERVICE_NAME as EXCHANGE_SERVICE
from gateway.services.exchange import RecordExchangeService
from gateway.services.registration import MalformedRequestInterceptor, add_service
from gateway.services.translation import SERVICE_NAME as TRANSLATION_SERVICE
from gateway.services.translation import TranslationService
from gateway.store import RecordStore, create_store
from gateway.telemetry import (
    ServerTelemetryInterceptor,
    Telemetry,
    configure_logging,
    resolve_settings,
)
from liaison.v1 import exchange_pb2, translation_pb2

__all__ = ["Gateway", "ServeError", "run"]

_log = logging.getLogger(__name__)


class ServeError(RuntimeError):
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
    ) -> None:
        """Prepare the gateway; nothing is opened before :meth:`start`.

        Args:
            config: The centre's configuration.
            store: The record store; by default the one ``config.storage`` describes.
            telemetry: Traces and metrics; by default none.
            registry: The adapters Translation serves; by default every installed adapter.
            preparer: Prepares SubmitStream messages, instead of one with
                ``config.server.preparation_workers`` workers. The gateway closes it on stop.
        """
        self.config = config
        self._registry = registry if registry is not None else default_registry()
        self._translation: TranslationService | None = None
        self._federation = FederationRuntime(
            centre_id=config.centre_id,
            settings=config.federation,
            store_path=config.storage.path,
            max_streams_per_caller=config.limits.max_streams_per_caller,
            max_message_bytes=config.limits.max_message_bytes,
        )
        self._store = (
            store
            if store is not None
            else create_store(config.storage, self._federation.signing_key)
        )
        # Need-to-know for every reader, and forwarding, obeys the same H2 permissions.
        self._gate = RecordGate(
            self._store,
            NeedToKnow(config.centre_id, h2_permission(config.federation.routes)),
        )
        self._gate.on_hidden = self._federation.guard.denied
        # The caller owns the telemetry (and shuts it down); by default there is none.
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        self._feed = CommitFeed(self._store, telemetry=self._telemetry)
        self._telemetry.metrics.observe_subscribers(lambda: self._feed.subscribers)
        self._store.add_commit_timer(self._telemetry.metrics.store_committed)
        self._store.add_unavailable_listener(self._store_unavailable)
        self._preparer = (
            preparer
            if preparer is not None
            else MessagePreparer(config.centre_id, config.server.preparation_workers)
        )
        self._server: aio.Server | None = None
        self._unhealthy: asyncio.Future[None] | None = None
        # grpc-stubs predates grpc_health's asyncio servicer (public as grpc_health.v1.health.aio).
        self._health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self._port = 0

    @property
    def federation(self) -> FederationRuntime:
        """Security and federation: the audit log, the outbox, the forwarder."""
        return self._federation

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
            self._federation.load_keys()
        except SigningKeyError as error:
            raise ServeError(f"cannot use the signing keys: {error}") from error
        try:
            await self._store.open()
        except Exception as error:
            raise ServeError(
                f"cannot open the store {self.config.storage.path}: {error}"
            ) from error
        try:
            await self._federation.open()
        except Exception as error:
            await self._store.close()
            raise ServeError(f"cannot open the audit log or the outbox: {error}") from error
        try:
            await self._feed.start()
            self._server = await self._serve(limits)
            await self._federation.start_forwarding(self._gate, self._feed, self._telemetry.tracer)
        except BaseException:
            # The store's writer thread keeps a process alive: never leave it open on failure.
            if self._server is not None:
                await self._server.stop(None)
                self._server = None
            await self._federation.close()
            await self._store.close()
            raise
        services = ("", EXCHANGE_SERVICE, TRANSLATION_SERVICE, *self._federation.service_names())
        for service in services:
            await self._health.set(service, health_pb2.HealthCheckResponse.SERVING)
        for problem in self._registry.problems:
            _log.warning("adapter plugin not loaded: %s: %s", problem.entry_point, problem.reason)
        _log.info("gateway started: centre %s on port %d", self.config.centre_id, self._port)

    def _store_unavailable(self, reason: str) -> None:
        """The store can no longer write: say so, and stop advertising the gateway as SERVING
        (reads still work, but a load balancer must send submissions elsewhere)."""
        _log.error("store writes unavailable (%s): health is NOT_SERVING until a restart", reason)

        async def not_serving() -> None:
            for service in ("", EXCHANGE_SERVICE, TRANSLATION_SERVICE):
                await self._health.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)

        self._unhealthy = asyncio.ensure_future(not_serving())

    async def _serve(self, limits: LimitsConfig) -> aio.Server:
        """Build, bind and start the gRPC server with every service."""
        host = self.config.server.listen.rpartition(":")[0]
        # Telemetry before the guards, so that the RPC span covers authorisation and the guards;
        # only the refusal of unknown methods goes outside it (no span per invented method).
        interceptors = [
            *self._federation.outer_interceptors(),
            *self._telemetry.server_interceptors(host),
            *self._federation.interceptors(),
            # Innermost: every other interceptor sees a malformed call and its real outcome.
            MalformedRequestInterceptor(),
        ]
        server = aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", limits.max_message_bytes),
                # gRPC enables SO_REUSEPORT by default: two gateways could then share a port.
                ("grpc.so_reuseport", 0),
            ],
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
        )
        add_service(
            server,
            exchange,
            exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"],
            # SubmitStream's messages are parsed where they are prepared, off the event loop.
            raw={"SubmitStream": exchange.submit_stream_bytes},
        )
        self._translation = TranslationService(
            registry=self._registry,
            store=self._store,
            gate=self._gate,
            centre_id=self.config.centre_id,
            limits=limits,
            telemetry=self._telemetry,
        )
        add_service(
            server,
            self._translation,
            translation_pb2.DESCRIPTOR.services_by_name["Translation"],
        )
        self._federation.add_services(server, self._store, self._gate, self._telemetry.tracer)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        health_service = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        reflection.enable_server_reflection(
            [
                EXCHANGE_SERVICE,
                TRANSLATION_SERVICE,
                *self._federation.service_names(),
                health_service,
                reflection.SERVICE_NAME,
            ],
            server,
        )
        try:
            self._port = self._federation.bind(server, self.config.server.listen)
        except PlaintextRefusedError as error:
            raise ServeError(str(error)) from error
        except (RuntimeError, ValueError) as error:
            raise ServeError(f"cannot listen on {self.config.server.listen}: {error}") from error
        for interceptor in interceptors:
            if isinstance(interceptor, ServerTelemetryInterceptor):
                interceptor.set_server_port(self._port)
        await server.start()
        return server

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls, let in-flight calls finish for ``grace`` seconds, close the store.

        Everything acknowledged is already committed; writes still queued are committed before the
        store closes.
        """
        if self._server is None:
            return
        server, self._server = self._server, None
        await self._health.enter_graceful_shutdown()
        await self._federation.stop_forwarding()
        self._feed.close()
        await server.stop(self.config.server.grace_seconds if grace is None else grace)
        await self._federation.close()
        if self._translation is not None:
            await self._translation.close()
        await self._preparer.close()
        await self._store.close()
        _log.info("gateway stopped: centre %s", self.config.centre_id)

    async def wait_for_termination(self) -> None:
        """Return when the server has stopped."""
        if self._server is not None:
            await self._server.wait_for_termination()


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
    if telemetry is not None:
        asyncio.run(_serve(config, telemetry))
        return
    settings = resolve_settings(config.telemetry, os.environ)
    owned = Telemetry.from_settings(settings, config.centre_id)
    try:
        asyncio.run(_serve(config, owned))
    finally:
        owned.shutdown()


async def _serve(config: CentreConfig, telemetry: Telemetry) -> None:
    gateway = Gateway(config, telemetry=telemetry)
    await gateway.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(
        f"liaison: centre {config.centre_id} listening on {gateway.address} "
        f"(store {config.storage.path})",
        file=sys.stderr,
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await gateway.stop()
