"""The trace sampler an operator chose (``OTEL_TRACES_SAMPLER``), built from the SDK's samplers.

The names are those of the OpenTelemetry specification (:data:`~gateway.telemetry.settings.
SAMPLERS`); what each means for a gateway is in ``docs/operations.md`` ("Sampling").
"""

from __future__ import annotations

from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from gateway.telemetry.settings import SAMPLERS

__all__ = ["build_sampler"]

_PARENT_BASED = "parentbased_"


def build_sampler(sampler: str, ratio: float) -> Sampler:
    """The SDK sampler named ``sampler``; ``ratio`` is used by the ``traceidratio`` ones.

    Raises:
        ValueError: ``sampler`` is not one of :data:`~gateway.telemetry.settings.SAMPLERS`, or
            ``ratio`` is not between 0 and 1.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"sampling ratio must be between 0 and 1, got {ratio!r}")
    root_name = sampler.removeprefix(_PARENT_BASED)
    root: Sampler
    if root_name == "traceidratio":
        root = TraceIdRatioBased(ratio)
    elif root_name == "always_on":
        root = ALWAYS_ON
    else:
        root = ALWAYS_OFF
    return ParentBased(root) if sampler.startswith(_PARENT_BASED) else root
