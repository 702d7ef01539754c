"""Builds and runs one centre's gateway: the grpc.aio server, its services, health, reflection."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gateway.config import CentreConfig, LimitsConfig
from gateway.feed import CommitFeed
from gateway.preparation import MessagePreparer
from gateway.services.exchange import SERVICE_NAME as EXCHANGE_SERVICE
from gateway.services.exchange import RecordExchangeService
from gateway.services.registration import add_service
from gateway.store import RecordStore, create_store
from liaison.v1 import exchange_pb2

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
        preparer: MessagePreparer | None = None,
    ) -> None:
        """Build the gateway; nothing runs before :meth:`start`.

        Args:
            config: The centre's configuration.
            store: The store to use instead of the one ``config.storage`` describes.
            preparer: Prepares SubmitStream messages, instead of one with
                ``config.server.preparation_workers`` workers. The gateway closes it on stop.
        """
        self.config = config
        self._store = store if store is not None else create_store(config.storage)
        self._feed = CommitFeed(self._store)
        self._preparer = (
            preparer
            if preparer is not None
            else MessagePreparer(config.centre_id, config.server.preparation_workers)
        )
        self._server: aio.Server | None = None
        # grpc-stubs predates grpc_health's asyncio servicer (public as grpc_health.v1.health.aio).
        self._health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self._port = 0

    @property
    def store(self) -> RecordStore:
        """The store the gateway writes to."""
        return self._store

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
            await self._store.open()
        except Exception as error:
            raise ServeError(
                f"cannot open the store {self.config.storage.path}: {error}"
            ) from error
        try:
            await self._feed.start()
            self._server = await self._serve(limits)
        except BaseException:
            # The store's writer thread keeps a process alive: never leave it open on failure.
            await self._store.close()
            raise
        for service in ("", EXCHANGE_SERVICE):
            await self._health.set(service, health_pb2.HealthCheckResponse.SERVING)
        _log.info("gateway started: centre %s on port %d", self.config.centre_id, self._port)

    async def _serve(self, limits: LimitsConfig) -> aio.Server:
        """Build, bind and start the gRPC server with every service."""
        server = aio.server(
            options=[
                ("grpc.max_receive_message_length", limits.max_message_bytes),
                # gRPC enables SO_REUSEPORT by default: two gateways could then share a port.
                ("grpc.so_reuseport", 0),
            ]
        )
        exchange = RecordExchangeService(
            store=self._store,
            feed=self._feed,
            centre_id=self.config.centre_id,
            limits=limits,
            preparer=self._preparer,
        )
        add_service(
            server,
            exchange,
            exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"],
            # SubmitStream's messages are parsed where they are prepared, off the event loop.
            raw={"SubmitStream": exchange.submit_stream_bytes},
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        health_service = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        reflection.enable_server_reflection(
            [EXCHANGE_SERVICE, health_service, reflection.SERVICE_NAME], server
        )
        try:
            self._port = server.add_insecure_port(self.config.server.listen)
        except RuntimeError as error:
            raise ServeError(f"cannot listen on {self.config.server.listen}: {error}") from error
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
        self._feed.close()
        await server.stop(self.config.server.grace_seconds if grace is None else grace)
        await self._preparer.close()
        await self._store.close()
        _log.info("gateway stopped: centre %s", self.config.centre_id)

    async def wait_for_termination(self) -> None:
        """Return when the server has stopped."""
        if self._server is not None:
            await self._server.wait_for_termination()


def run(config: CentreConfig) -> None:
    """Serve until SIGINT or SIGTERM, then stop gracefully.

    Raises:
        ServeError: the gateway could not start.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_serve(config))


async def _serve(config: CentreConfig) -> None:
    gateway = Gateway(config)
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
