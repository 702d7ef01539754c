"""Reading finished spans in tests: find them by name, and print a trace as a tree."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["format_tree", "named", "one"]


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    """The spans called ``name``, in the order they ended."""
    return [span for span in spans if span.name == name]


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    """The only span called ``name``."""
    found = named(spans, name)
    assert len(found) == 1, f"expected one {name} span, got {[s.name for s in spans]}"
    return found[0]


def _sort_key(span: ReadableSpan) -> tuple[int, str]:
    return (span.start_time or 0, span.name)


def format_tree(spans: Sequence[ReadableSpan]) -> str:
    """The spans as indented trees (one per trace root), children in start order.

    Each line shows the span name, its kind, its duration and its attributes; events are listed
    under their span. Ids are left out, so the output is stable across runs except durations.
    """
    ids = {span.context.span_id for span in spans if span.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in ids else None, []).append(span)
    lines: list[str] = []

    def walk(span: ReadableSpan, depth: int) -> None:
        duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
        kind = span.kind.name
        attributes = ", ".join(f"{k}={v!s}" for k, v in sorted((span.attributes or {}).items()))
        remote = " (remote parent)" if span.parent is not None and span.parent.is_remote else ""
        lines.append(
            f"{'    ' * depth}{span.name} [{kind}]{remote} {duration_ms:.2f} ms  {attributes}"
        )
        for event in span.events:
            fields = ", ".join(f"{k}={v!s}" for k, v in sorted((event.attributes or {}).items()))
            lines.append(f"{'    ' * (depth + 1)}event {event.name}: {fields}")
        assert span.context is not None
        for child in sorted(children.get(span.context.span_id, []), key=_sort_key):
            walk(child, depth + 1)

    for root in sorted(children.get(None, []), key=_sort_key):
        walk(root, 0)
    return "\n".join(lines)
