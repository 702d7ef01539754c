"""JSON log lines carry the trace and span ids of the current span, and no exception message."""

from __future__ import annotations

import io
import json
import logging

from gateway.telemetry import JsonLogFormatter, configure_logging
from tests.gateway.telemetry.conftest import recording


def _line(logger: logging.Logger, stream: io.StringIO) -> dict[str, object]:
    lines = stream.getvalue().splitlines()
    assert lines, "nothing was logged"
    document: dict[str, object] = json.loads(lines[-1])
    return document


def test_a_line_inside_a_span_names_it(pipeline: str) -> None:
    recorded = recording(pipeline=pipeline)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("tests.gateway.telemetry.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with recorded.telemetry.tracer.start_as_current_span("liaison.validate") as span:
            logger.warning("stored %d record(s)", 3)
        context = span.get_span_context()
        line = _line(logger, stream)
        assert line["message"] == "stored 3 record(s)"
        assert line["level"] == "WARNING"
        assert line["logger"] == "tests.gateway.telemetry.logs"
        assert line["trace_id"] == f"{context.trace_id:032x}"
        assert line["span_id"] == f"{context.span_id:016x}"

        logger.warning("outside any call")
        outside = _line(logger, stream)
        assert outside["message"] == "outside any call"
        assert outside["trace_id"] is None
        assert outside["span_id"] is None
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        recorded.telemetry.shutdown()


def test_an_exception_is_logged_by_type_and_frames_only() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("tests.gateway.telemetry.logs.exception")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise KeyError("ERIKSSON ANNA MARIA")
        except KeyError:
            logger.exception("lookup failed")
        line = _line(logger, stream)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert line["exception"] == "KeyError"
    assert isinstance(line["stack"], list)
    assert any("test_logs.py" in frame for frame in line["stack"])
    assert "ERIKSSON" not in stream.getvalue()


def test_configure_logging_replaces_the_root_handlers() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging(logging.INFO, stream)
        logging.getLogger("gateway.server").info("gateway started: centre %s", "LOCAL")
        assert json.loads(stream.getvalue())["message"] == "gateway started: centre LOCAL"
        assert len(root.handlers) == 1
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
