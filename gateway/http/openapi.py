"""The OpenAPI 3.1 document of the HTTP API, built from the contract's descriptors.

The descriptors come from ``protoc --include_source_info`` (:func:`descriptor_set`, at
generation time: grpcio-tools is a development tool), so every service, method, message and
field comment of ``protos/liaison/v1`` becomes a description. Schemas follow the proto3 JSON
mapping the listener speaks (:mod:`gateway.http.codec`): ``json_name`` field names, enums by
name, 64-bit integers as strings, bytes as base64, Timestamp and Duration as strings.

``scripts/gen-openapi.py`` writes the document to ``docs/openapi.json`` and to the package (the
copy ``/openapi.json`` serves); ``tests/gateway/http/test_openapi.py`` fails when either is
stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

__all__ = ["build_document", "descriptor_set", "render"]

_STREAM_NOTE = (
    "A server stream. Over HTTP: NDJSON for an application/json request (one "
    '{"result": ...} line per message, then a {"status": ...} line: code "ok" or the error), '
    "Connect streaming for application/connect+json, or Server-Sent Events with GET "
    "(?message=<JSON>, resumed with Last-Event-ID)."
)
_CLIENT_STREAM_NOTE = (
    "A client stream. Over HTTP: an application/x-ndjson body, one request message per line, "
    "answered with JSON; or Connect streaming (application/connect+json)."
)
_SCALARS: dict[int, dict[str, Any]] = {
    descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE: {"type": "number"},
    descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT: {"type": "number"},
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: {"type": "string", "format": "int64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64: {"type": "string", "format": "uint64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT64: {"type": "string", "format": "int64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: {"type": "integer", "format": "int32"},
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT32: {"type": "integer", "format": "int32"},
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32: {
        "type": "integer",
        "minimum": 0,
        "maximum": 4294967295,
    },
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED32: {
        "type": "integer",
        "minimum": 0,
        "maximum": 4294967295,
    },
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: {"type": "boolean"},
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: {"type": "string"},
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {
        "type": "string",
        "description": 'Seconds with an "s" suffix, e.g. "86400s".',
    },
}
_ERROR = {
    "type": "object",
    "description": "A Connect error: the gRPC status of the call, with its google.rpc details.",
    "properties": {
        "code": {"type": "string", "description": "The status code, e.g. invalid_argument."},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "description": "e.g. google.rpc.BadRequest"},
                    "value": {"type": "string", "description": "The detail, base64 protobuf."},
                    "debug": {"type": "object", "description": "The detail as JSON."},
                },
            },
        },
    },
    "required": ["code"],
}


def descriptor_set(proto_root: Path) -> descriptor_pb2.FileDescriptorSet:
    """The contract's descriptors with their comments (``protoc --include_source_info``)."""
    files = sorted(str(p.relative_to(proto_root)) for p in proto_root.glob("liaison/v1/*.proto"))
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "contract.binpb"
        subprocess.run(  # noqa: S603 - the venv's own interpreter and protoc
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"-I{proto_root}",
                "--include_source_info",
                "--include_imports",
                f"--descriptor_set_out={out}",
                *files,
            ],
            check=True,
        )
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


class _Comments:
    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self._by_file: dict[str, dict[tuple[int, ...], str]] = {}
        for file in files.file:
            self._by_file[file.name] = {
                tuple(location.path): _clean(location.leading_comments)
                for location in file.source_code_info.location
                if location.leading_comments.strip()
            }

    def of(self, file: str, path: tuple[int, ...]) -> str:
        return self._by_file.get(file, {}).get(path, "")


def _clean(comment: str) -> str:
    return " ".join(line.strip() for line in comment.strip().splitlines()).strip()


def build_document(files: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``liaison.v1`` service and ``grpc.health.v1`` Check."""
    comments = _Comments(files)
    schemas: dict[str, Any] = {"ConnectError": _ERROR}
    paths: dict[str, Any] = {}
    for file in files.file:
        for index, message in enumerate(file.message_type):
            _add_message(schemas, comments, file, f".{file.package}", message, (4, index))
        for index, enum in enumerate(file.enum_type):
            _add_enum(schemas, comments, file, f".{file.package}", enum, (5, index))
    for file in files.file:
        if not file.package.startswith("liaison."):
            continue
        for s_index, service in enumerate(file.service):
            service_name = f"{file.package}.{service.name}"
            for m_index, method in enumerate(service.method):
                path = f"/{service_name}/{method.name}"
                described = comments.of(file.name, (6, s_index, 2, m_index))
                paths[path] = _operations(service_name, method, described)
    _add_health(paths, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Liaison gateway HTTP API",
            "version": "v1",
            "description": (
                "The liaison.v1 services over HTTP (the Connect protocol, NDJSON and Server-Sent "
                "Events), with the same identities, grants, need-to-know, limits and audit as "
                "gRPC. The same paths also speak gRPC-Web (application/grpc-web+proto and "
                "application/grpc-web-text: framed protobuf, not described here) for unary "
                "methods and server streams. Generated from the protos; see docs/http.md."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def _ref(type_name: str) -> dict[str, Any]:
    if type_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[type_name])
    return {"$ref": f"#/components/schemas/{type_name.lstrip('.')}"}


def _operations(
    service: str, method: descriptor_pb2.MethodDescriptorProto, described: str
) -> dict[str, Any]:
    request = _ref(method.input_type)
    response = _ref(method.output_type)
    errors = {
        "default": {
            "description": "The call's error status (Connect: HTTP code from the gRPC code).",
            "content": {"application/json": {"schema": _ref(".ConnectError")}},
        }
    }
    base = {"tags": [service], "operationId": f"{service}.{method.name}"}
    if method.client_streaming:
        return {
            "post": {
                **base,
                "summary": described,
                "description": _CLIENT_STREAM_NOTE,
                "requestBody": {
                    "required": True,
                    "content": {"application/x-ndjson": {"schema": request}},
                },
                "responses": {
                    "200": {
                        "description": "The answer.",
                        "content": {"application/json": {"schema": response}},
                    },
                    **errors,
                },
            }
        }
    if method.server_streaming:
        line = {
            "type": "object",
            "properties": {"result": response, "status": _ref(".ConnectError")},
        }
        return {
            "post": {
                **base,
                "summary": described,
                "description": _STREAM_NOTE,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": request}},
                },
                "responses": {
                    "200": {
                        "description": "One JSON document per line; the last one is the status.",
                        "content": {"application/x-ndjson": {"schema": line}},
                    },
                    **errors,
                },
            },
            "get": {
                **base,
                "operationId": f"{service}.{method.name}.events",
                "summary": described,
                "description": _STREAM_NOTE,
                "parameters": [
                    {
                        "name": "message",
                        "in": "query",
                        "required": False,
                        "description": "The request message as JSON.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "description": "Resume after this event id (the stream's cursor).",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Server-Sent Events; the last is `end` or `error`.",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    **errors,
                },
            },
        }
    return {
        "post": {
            **base,
            "summary": described,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": request}},
            },
            "responses": {
                "200": {
                    "description": "The answer.",
                    "content": {"application/json": {"schema": response}},
                },
                **errors,
            },
        }
    }


def _add_message(
    schemas: dict[str, Any],
    comments: _Comments,
    file: descriptor_pb2.FileDescriptorProto,
    scope: str,
    message: descriptor_pb2.DescriptorProto,
    path: tuple[int, ...],
) -> None:
    full = f"{scope}.{message.name}"
    if full in _WELL_KNOWN:
        return
    for index, nested in enumerate(message.nested_type):
        if not nested.options.map_entry:
            _add_message(schemas, comments, file, full, nested, (*path, 3, index))
    for index, enum in enumerate(message.enum_type):
        _add_enum(schemas, comments, file, full, enum, (*path, 4, index))
    maps = {
        f"{full}.{nested.name}": nested
        for nested in message.nested_type
        if nested.options.map_entry
    }
    properties: dict[str, Any] = {}
    for index, field in enumerate(message.field):
        property_schema = _field_schema(field, maps)
        described = comments.of(file.name, (*path, 2, index))
        if described:
            property_schema = {**property_schema, "description": described}
        properties[field.json_name or field.name] = property_schema
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    schema["additionalProperties"] = False
    described = comments.of(file.name, path)
    if described:
        schema["description"] = described
    schemas[full.lstrip(".")] = schema


def _field_schema(
    field: descriptor_pb2.FieldDescriptorProto, maps: dict[str, descriptor_pb2.DescriptorProto]
) -> dict[str, Any]:
    if field.type_name in maps:
        entry = maps[field.type_name]
        value = entry.field[1]
        return {"type": "object", "additionalProperties": _single(value)}
    single = _single(field)
    if field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
        return {"type": "array", "items": single}
    return single


def _single(field: descriptor_pb2.FieldDescriptorProto) -> dict[str, Any]:
    if field.type in (
        descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        descriptor_pb2.FieldDescriptorProto.TYPE_ENUM,
    ):
        return _ref(field.type_name)
    return dict(_SCALARS[field.type])


def _add_enum(
    schemas: dict[str, Any],
    comments: _Comments,
    file: descriptor_pb2.FileDescriptorProto,
    scope: str,
    enum: descriptor_pb2.EnumDescriptorProto,
    path: tuple[int, ...],
) -> None:
    schema: dict[str, Any] = {"type": "string", "enum": [value.name for value in enum.value]}
    described = comments.of(file.name, path)
    if described:
        schema["description"] = described
    schemas[f"{scope}.{enum.name}".lstrip(".")] = schema


def _add_health(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    schemas["grpc.health.v1.HealthCheckRequest"] = {
        "type": "object",
        "properties": {"service": {"type": "string", "description": "A service name; empty: all"}},
        "additionalProperties": False,
    }
    schemas["grpc.health.v1.HealthCheckResponse"] = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["UNKNOWN", "SERVING", "NOT_SERVING"]},
        },
    }
    health = descriptor_pb2.MethodDescriptorProto(
        name="Check",
        input_type=".grpc.health.v1.HealthCheckRequest",
        output_type=".grpc.health.v1.HealthCheckResponse",
    )
    paths["/grpc.health.v1.Health/Check"] = _operations(
        "grpc.health.v1.Health", health, "Whether the gateway (or one service) is serving."
    )


def render(document: dict[str, Any]) -> str:
    """The document as committed: indented JSON, keys in a stable order, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
