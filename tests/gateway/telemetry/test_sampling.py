"""Every standard sampler, as a gateway applies it to callers that sampled, did not, or sent no
trace context (the table of ``docs/operations.md``, "Sampling")."""

from __future__ import annotations

import pytest
from grpc import aio
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    TraceIdRatioBased,
)

from gateway.config import CentreConfig
from gateway.server import Gateway
from gateway.telemetry.sampling import build_sampler
from gateway.telemetry.settings import SAMPLERS
from liaison.v1 import exchange_pb2
from tests.gateway.telemetry.conftest import recording
from tests.gateway.telemetry.spans import named
from tests.support.factories import person
from tests.support.rpc import ExchangeStub

SUBMIT = "/liaison.v1.RecordExchange/Submit"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"

CALLERS = {
    "sampled": (("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01"),),
    "not sampled": (("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-00"),),
    "no context": (),
}
"""The metadata of a caller that sampled its trace, one that did not, and one without tracing."""

RECORDED = {
    # sampler, ratio: which callers' calls the gateway records
    ("parentbased_traceidratio", 1.0): {"sampled", "no context"},
    ("parentbased_traceidratio", 0.0): {"sampled"},
    ("parentbased_always_on", 0.0): {"sampled", "no context"},
    ("parentbased_always_off", 1.0): {"sampled"},
    ("traceidratio", 1.0): {"sampled", "not sampled", "no context"},
    ("traceidratio", 0.0): set(),
    ("always_on", 0.0): {"sampled", "not sampled", "no context"},
    ("always_off", 1.0): set(),
}


def test_the_table_covers_every_sampler() -> None:
    assert {sampler for sampler, _ in RECORDED} == set(SAMPLERS)


@pytest.mark.parametrize(("sampler", "ratio"), sorted(RECORDED))
async def test_what_a_gateway_records_for_each_caller(
    gateway_config: CentreConfig, pipeline: str, sampler: str, ratio: float
) -> None:
    recorded = recording(ratio, pipeline=pipeline, sampler=sampler)
    gateway = Gateway(gateway_config, telemetry=recorded.telemetry)
    await gateway.start()
    found = set()
    try:
        async with aio.insecure_channel(gateway.address) as channel:
            exchange = ExchangeStub(channel)
            for n, (caller, metadata) in enumerate(CALLERS.items()):
                recorded.spans.clear()
                request = exchange_pb2.SubmitRequest(record=person(f"TEST-CENTRE:sampling-{n}"))
                await exchange.Submit(request, metadata=metadata)
                if named(recorded.spans.get_finished_spans(), SUBMIT):
                    found.add(caller)
    finally:
        await gateway.stop(grace=0)
        recorded.telemetry.shutdown()
    assert found == RECORDED[(sampler, ratio)]


@pytest.mark.parametrize(
    ("sampler", "expected"),
    [
        ("parentbased_traceidratio", ParentBased(TraceIdRatioBased(0.25))),
        ("parentbased_always_on", ParentBased(ALWAYS_ON)),
        ("parentbased_always_off", ParentBased(ALWAYS_OFF)),
        ("traceidratio", TraceIdRatioBased(0.25)),
        ("always_on", ALWAYS_ON),
        ("always_off", ALWAYS_OFF),
    ],
)
def test_each_name_is_the_sdk_sampler_of_that_name(sampler: str, expected: object) -> None:
    built = build_sampler(sampler, 0.25)
    assert built.get_description() == expected.get_description()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("sampler", "ratio", "complaint"),
    [
        ("xray", 1.0, "unknown sampler 'xray'"),
        ("traceidratio", 1.5, "sampling ratio must be between 0 and 1"),
    ],
)
def test_a_bad_sampler_is_refused(sampler: str, ratio: float, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        build_sampler(sampler, ratio)
