"""Structured logs: one JSON object per line, with the trace and span ids of the current span.

Every line carries ``trace_id`` and ``span_id`` (``null`` outside any call), so that a log line
leads to its trace. An exception is logged by type and stack frames only: its message could
quote what a caller sent, and logs stay free of personal data like traces do.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import IO

from opentelemetry import trace

__all__ = ["JsonLogFormatter", "configure_logging"]


class JsonLogFormatter(logging.Formatter):
    """Formats a record as ``{"time", "level", "logger", "message", "trace_id", "span_id"}``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        context = trace.get_current_span().get_span_context()
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": f"{context.trace_id:032x}" if context.is_valid else None,
            "span_id": f"{context.span_id:016x}" if context.is_valid else None,
            "thread": record.threadName,
        }
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, stack = record.exc_info
            document["exception"] = kind.__qualname__
            document["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(stack)
            ]
        return json.dumps(document, ensure_ascii=False)


def configure_logging(level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Send the root logger's records to ``stream`` (standard error) as JSON lines."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
