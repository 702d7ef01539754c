"""Every private OpenTelemetry name the fast pipeline relies on, and a check of each one's shape.

Private names change without notice between OpenTelemetry releases. Liaison keeps them to this
package, lists each one here with the shape it relies on, and checks them:

- ``tests/gateway/telemetry/fast/test_opentelemetry_internals.py`` fails on an upgrade that
  breaks one, and says what to do;
- :func:`gateway.telemetry.pipeline.load_pipeline` runs :func:`problems` before it builds the
  fast pipeline, and falls back to the stock SDK pipeline (with a warning) rather than run on a
  name that changed.

The fast tracer and the deferred histograms use public API only; where they reproduce the SDK's
behaviour (span limits, attribute cleaning, status rules), comparison tests run both side by
side instead.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Final

__all__ = ["RELIED_ON", "PrivateName", "check", "problems"]


@dataclass(frozen=True, slots=True)
class PrivateName:
    """A private method of an OpenTelemetry class, and the shape the fast pipeline relies on."""

    module: str
    """The module that defines the class."""
    owner: str
    """The class."""
    name: str
    """The private method."""
    parameters: tuple[str, ...]
    """Its parameter names, in order (``self`` first)."""
    returns: str
    """The name of the type it returns."""
    why: str
    """What the fast pipeline does with it, and what to change if it goes."""

    @property
    def qualified(self) -> str:
        """``module.Owner.name``."""
        return f"{self.module}.{self.owner}.{self.name}"


RELIED_ON: Final = (
    PrivateName(
        module="opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
        owner="OTLPSpanExporter",
        name="_translate_data",
        parameters=("self", "data"),
        returns="ExportTraceServiceRequest",
        why=(
            "fast/otlp.py overrides it so that the OTLP exporter sends the request encode_spans "
            "wrote, keeping the exporter's retries, TLS, headers and compression; if the "
            "exporter now builds its request elsewhere, override that instead (or drop the "
            "override: the stock encoder is correct, about 3x slower)"
        ),
    ),
)
"""The private names of OpenTelemetry that the fast pipeline uses."""


def _type_name(annotation: object) -> str:
    if isinstance(annotation, str):  # postponed annotations
        return annotation.rpartition(".")[2]
    return str(getattr(annotation, "__name__", annotation))


def check(item: PrivateName) -> str | None:
    """What no longer matches of ``item`` in the installed OpenTelemetry; ``None`` when its shape
    is the one relied on."""
    try:
        module = importlib.import_module(item.module)
    except ImportError as error:
        return f"{item.module} no longer imports ({error})"
    owner = getattr(module, item.owner, None)
    if not isinstance(owner, type):
        return f"{item.module}.{item.owner} is gone"
    member = inspect.getattr_static(owner, item.name, None)
    if member is None or not callable(member):
        return f"{item.qualified} is gone"
    signature = inspect.signature(member)
    parameters = tuple(signature.parameters)
    if parameters != item.parameters:
        return (
            f"{item.qualified} now takes ({', '.join(parameters)}), "
            f"not ({', '.join(item.parameters)})"
        )
    returns = _type_name(signature.return_annotation)
    if returns != item.returns:
        return f"{item.qualified} now returns {returns}, not {item.returns}"
    return None


def problems() -> list[str]:
    """What no longer matches in the installed OpenTelemetry, one line per name; empty when every
    name in :data:`RELIED_ON` has the shape the fast pipeline relies on."""
    return [problem for item in RELIED_ON if (problem := check(item)) is not None]
