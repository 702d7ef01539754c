"""Schemathesis against the OpenAPI document the gateway serves: no 5xx under generated input.

A real gateway serves HTTP on loopback (plaintext: the caller is the ``local`` operator, who may
call everything), in a thread with its own event loop, because Schemathesis calls it with a
blocking client. For every operation of ``/openapi.json`` Schemathesis sends examples that fit
the schema and examples that break it (wrong types, missing or extra fields, strings where
numbers go), and the only check is Schemathesis's ``not_a_server_error``: bad input is a 4xx
with a Connect error, never a 500. The examples are bounded and derandomized (same examples
each run) so that the test takes under a minute (about 200 calls).

Left out: Subscribe, as NDJSON (POST) and as Server-Sent Events (GET). It never ends - it
follows the store after catching up - so a call would only end at the client's timeout; its
bad input is refused before the first event by the same parsing as Search's, which is tested.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from gateway.config import HttpConfig
from gateway.server import Gateway
from tests.conftest import make_config

EXAMPLES = 5
"""Generated examples per operation and mode (positive and negative)."""

NEVER_ENDING = "/liaison.v1.RecordExchange/Subscribe"
OPENAPI = Path(__file__).parents[3] / "docs" / "openapi.json"


@schemathesis.serializer("application/x-ndjson")
def _ndjson(context: Any, value: Any) -> bytes:
    """SubmitStream's body: one request message per line (one here)."""
    return (json.dumps(value) + "\n").encode()


class _ThreadedGateway:
    """A gateway served from its own event loop in a thread."""

    def __init__(self, root: Path) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        config = make_config(root, max_streams_per_caller=1000)
        self.gateway = Gateway(replace(config, http=HttpConfig("127.0.0.1:0")))
        self._run(self.gateway.start())

    def _run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=60)

    def stop(self) -> None:
        self._run(self.gateway.stop(grace=0))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway serving HTTP on loopback for the module."""
    running = _ThreadedGateway(tmp_path_factory.mktemp("schemathesis"))
    try:
        yield running.gateway
    finally:
        running.stop()


def _operations(gateway: Gateway) -> list[Any]:
    """The operations of the committed document - the one the gateway serves (``test_openapi``
    fails when they differ) - that this gateway serves (not the Federation services, which need
    peers), but the never-ending Subscribe."""
    calls = gateway.http_calls
    assert calls is not None
    served = {method.path for method in calls.methods()} - {NEVER_ENDING}
    loaded = schemathesis.openapi.from_path(OPENAPI).include(path=list(served))
    operations = []
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    return operations


def test_no_generated_request_gets_a_server_error(served: Gateway) -> None:
    base_url = f"http://{served.http_address}"
    failures: list[str] = []
    session = requests.Session()  # one kept-alive connection, not one per example
    operations = _operations(served)
    assert len(operations) > 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: Any) -> None:
                case.call_and_validate(
                    base_url=base_url, session=session, checks=[not_a_server_error]
                )

            try:
                call()
            except (
                Exception,
                BaseExceptionGroup,
            ) as error:  # every operation is tried, then all are reported
                failures.append(f"{operation.label} ({mode.value}): {error}"[:2000])
    assert not failures, "\n\n".join(failures)
