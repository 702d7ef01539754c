"""The fence around OpenTelemetry's private names: what the fast pipeline relies on still exists
with the shape it relies on, and nothing outside ``gateway/telemetry/fast`` uses any.

When one of these tests fails after an OpenTelemetry upgrade, its message says what changed. The
gateway keeps running meanwhile: the fast pipeline falls back to the stock one (with a warning)
when :func:`gateway.telemetry.fast.internals.problems` finds something. To fix it, adapt the named
module under ``gateway/telemetry/fast`` and its entry in ``internals.RELIED_ON``; until then
operators can choose ``[telemetry] pipeline = "sdk"`` explicitly.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.telemetry import attributes as attr
from gateway.telemetry import metrics
from gateway.telemetry.fast import LiaisonOTLPSpanExporter, internals
from gateway.telemetry.fast.internals import RELIED_ON, PrivateName, problems
from tests.gateway.telemetry.otlp_receiver import OtlpReceiver

GATEWAY = Path(__file__).resolve().parents[4] / "gateway"
FAST = GATEWAY / "telemetry" / "fast"

_WHAT_TO_DO = (
    "An OpenTelemetry upgrade changed a private name the fast telemetry pipeline relies on. "
    "Adapt gateway/telemetry/fast (and its entry in internals.RELIED_ON); gateways fall back to "
    '[telemetry] pipeline = "sdk" meanwhile.'
)


@pytest.mark.parametrize("item", RELIED_ON, ids=lambda item: item.qualified)
def test_every_private_name_relied_on_still_has_its_shape(item: PrivateName) -> None:
    found = [
        problem for problem in problems() if item.qualified in problem or item.module in problem
    ]
    assert found == [], f"{_WHAT_TO_DO}\n{found}\nIt is used because: {item.why}"


def test_the_check_notices_a_changed_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: a name, a signature or a return type that moved is reported."""
    real = RELIED_ON[0]
    changed = (
        PrivateName(real.module, real.owner, "_gone", real.parameters, real.returns, "test"),
        PrivateName(real.module, real.owner, real.name, ("self", "spans"), real.returns, "test"),
        PrivateName(real.module, real.owner, real.name, real.parameters, "bytes", "test"),
        PrivateName(real.module, "Gone", real.name, real.parameters, real.returns, "test"),
        PrivateName("opentelemetry.gone", real.owner, real.name, (), real.returns, "test"),
    )
    monkeypatch.setattr(internals, "RELIED_ON", changed)
    found = problems()
    assert len(found) == 5
    assert "_translate_data now takes (self, data), not (self, spans)" in found[1]
    assert "now returns ExportTraceServiceRequest, not bytes" in found[2]


def _spans() -> Sequence[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("liaison.gateway").start_span("liaison.validate").end()
    return exporter.get_finished_spans()


async def test_the_exporter_still_encodes_through_the_override(receiver: OtlpReceiver) -> None:
    """Present is not enough: the exporter must still call ``_translate_data`` to build what it
    sends, or Liaison's encoder is silently bypassed."""
    calls: list[int] = []

    class Counting(LiaisonOTLPSpanExporter):
        def _translate_data(self, data: Sequence[ReadableSpan]) -> object:  # type: ignore[override]
            calls.append(len(data))
            return super()._translate_data(data)

    exporter = Counting(endpoint=receiver.endpoint, insecure=True)
    try:
        result = await asyncio.to_thread(exporter.export, _spans())
    finally:
        exporter.shutdown()
    assert result.name == "SUCCESS"
    assert calls == [1], _WHAT_TO_DO
    assert [span.name for _, span in receiver.spans()] == ["liaison.validate"]


def _modules(root: Path) -> Iterator[Path]:
    yield from sorted(root.rglob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_opentelemetry_imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            names: list[str] = []
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
            names = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            if module.split(".")[0] != "opentelemetry":
                continue
            if any(_private(part) for part in module.split(".")) or any(map(_private, names)):
                found.append(f"line {node.lineno}: {module} {names}")
    return found


def test_no_private_opentelemetry_name_outside_the_fast_package() -> None:
    relied_on = {item.name for item in RELIED_ON}
    offenders = []
    for path in _modules(GATEWAY):
        if FAST in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        offenders += [f"{path}: {found}" for found in _private_opentelemetry_imports(tree)]
        offenders += [
            f"{path}: line {node.lineno}: {_name(node)}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute | ast.FunctionDef) and _name(node) in relied_on
        ]
    assert offenders == [], (
        "private OpenTelemetry names belong in gateway/telemetry/fast only (listed in "
        f"internals.RELIED_ON): {offenders}"
    )


def _name(node: ast.Attribute | ast.FunctionDef) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.name


def test_the_fast_package_uses_only_the_private_names_it_lists() -> None:
    """A private attribute the fast modules use but do not define themselves is someone else's:
    it must be listed, so that the check above covers it."""
    trees = [ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in _modules(FAST)]
    defined: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                defined.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                defined.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, ast.arg):
                defined.add(node.arg)
            elif isinstance(node, ast.alias):
                defined.add(node.asname or node.name)
    used = {
        node.attr
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and _private(node.attr)
    }
    overridden = {
        node.name
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and _private(node.name)
    }
    unlisted = (used - defined) | (overridden & _opentelemetry_members())
    assert unlisted <= {item.name for item in RELIED_ON}, (
        f"the fast package uses private names it does not list in internals.RELIED_ON: "
        f"{sorted(unlisted - {item.name for item in RELIED_ON})}"
    )
    for tree in trees:
        assert all("_incubating" not in found for found in _private_opentelemetry_imports(tree)), (
            "incubating semantic conventions go through gateway.telemetry.attributes"
        )


def _opentelemetry_members() -> set[str]:
    """Private method names of the OpenTelemetry classes the fast package subclasses."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    classes = (OTLPSpanExporter, TracerProvider, PeriodicExportingMetricReader)
    return {
        name for cls in classes for base in cls.__mro__ for name in vars(base) if _private(name)
    }


@pytest.mark.parametrize(
    ("ours", "module", "name"),
    [
        (attr.RPC_SYSTEM, "attributes.rpc_attributes", "RPC_SYSTEM"),
        (attr.RPC_SERVICE, "attributes.rpc_attributes", "RPC_SERVICE"),
        (attr.RPC_METHOD, "attributes.rpc_attributes", "RPC_METHOD"),
        (attr.RPC_GRPC_STATUS_CODE, "attributes.rpc_attributes", "RPC_GRPC_STATUS_CODE"),
        (metrics.RPC_SERVER_CALL_DURATION, "metrics.rpc_metrics", "RPC_SERVER_CALL_DURATION"),
        (metrics.RPC_CLIENT_CALL_DURATION, "metrics.rpc_metrics", "RPC_CLIENT_CALL_DURATION"),
    ],
)
def test_incubating_semantic_conventions_are_the_installed_ones(
    ours: str, module: str, name: str
) -> None:
    """Liaison writes the incubating RPC names out (their package is private and may drop them);
    a release that renames one must be a decision, since operators' dashboards use them."""
    package = f"opentelemetry.semconv._incubating.{module}"
    try:
        theirs = getattr(importlib.import_module(package), name)
    except (ImportError, AttributeError):
        pytest.fail(
            f"{package}.{name} is gone from the installed semantic conventions: check what "
            "replaced it, and whether Liaison should follow (docs/operations.md lists the names)"
        )
    assert ours == theirs, f"semantic conventions renamed {name}: {theirs!r}, Liaison has {ours!r}"
