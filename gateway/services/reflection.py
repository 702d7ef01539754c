"""Server reflection over both protocols, from the contract's descriptor set with its comments.

grpcio-reflection (1.85) serves ``grpc.reflection.v1alpha`` only, and from the runtime's
descriptor pool, which keeps neither ``json_name`` nor the proto comments: grpcurl showed
``record_id`` where the contract documents ``recordId``, and ``buf curl --reflect-protocol
grpc-v1`` got "Method not found". This servicer answers ``grpc.reflection.v1`` and ``v1alpha``
(wire-identical apart from the package name, so the v1alpha messages serve both) from
``liaison/v1/liaison.binpb``, the ``FileDescriptorSet`` that ``make protos`` generates with
protoc's ``--include_source_info`` (json_name is always filled there). Files the set lacks (the
health and reflection protos) come from the runtime pool, as grpcio-reflection serves them.
Decision 0022.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import AsyncIterator, Iterable
from typing import TypeAlias

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, text_format
from grpc_reflection.v1alpha import reflection_pb2

__all__ = [
    "DESCRIPTOR_SET",
    "SERVICE_NAMES",
    "DescriptorFiles",
    "ReflectionService",
    "add_reflection",
    "reflection_v1_file",
]

SERVICE_NAMES = ("grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection")
"""The reflection services served, newest protocol first."""

DESCRIPTOR_SET = "liaison.binpb"
"""The descriptor set's file name in the ``liaison.v1`` package (generated, committed)."""

_METHOD = "ServerReflectionInfo"


class DescriptorFiles:
    """The serialized ``FileDescriptorProto`` of each file, from the descriptor set first.

    Symbols are resolved in a pool built from the set (so every file it holds, with its source
    info and json names, is found by file or symbol), then in the runtime's default pool.
    """

    def __init__(self, files: Iterable[descriptor_pb2.FileDescriptorProto]) -> None:
        self._serialized: dict[str, bytes] = {}
        self._dependencies: dict[str, tuple[str, ...]] = {}
        self._pool = descriptor_pool.DescriptorPool()
        for file in files:
            self._serialized[file.name] = file.SerializeToString()
            self._dependencies[file.name] = tuple(file.dependency)
            self._pool.Add(file)
        self._runtime = descriptor_pool.Default()

    @classmethod
    def of_contract(cls) -> DescriptorFiles:
        """The contract's committed descriptor set, and the v1 reflection protocol's file."""
        data = importlib.resources.files("liaison.v1").joinpath(DESCRIPTOR_SET).read_bytes()
        return cls([*descriptor_pb2.FileDescriptorSet.FromString(data).file, reflection_v1_file()])

    def file_named(self, name: str) -> str | None:
        """``name`` if a file of that name is known."""
        if name in self._serialized:
            return name
        try:
            return str(self._runtime.FindFileByName(name).name)
        except KeyError:
            return None

    def file_of_symbol(self, symbol: str) -> str | None:
        """The name of the file that declares ``symbol`` (a message, enum, service, method...)."""
        for pool in (self._pool, self._runtime):
            try:
                return str(pool.FindFileContainingSymbol(symbol).name)
            except KeyError:
                continue
        return None

    def file_of_extension(self, containing_type: str, number: int) -> str | None:
        """The name of the file that declares extension ``number`` of ``containing_type``."""
        for pool in (self._pool, self._runtime):
            try:
                message = pool.FindMessageTypeByName(containing_type)
                extension = pool.FindExtensionByNumber(message, number)
                return str(pool.FindFileContainingSymbol(extension.full_name).name)
            except KeyError:
                continue
        return None

    def extension_numbers(self, containing_type: str) -> list[int] | None:
        """The extension numbers of ``containing_type``; ``None`` when it is unknown."""
        for pool in (self._pool, self._runtime):
            try:
                message = pool.FindMessageTypeByName(containing_type)
            except KeyError:
                continue
            return sorted(extension.number for extension in pool.FindAllExtensions(message))
        return None

    def with_dependencies(self, name: str) -> list[bytes]:
        """``name``'s serialized descriptor first, then those of every file it imports."""
        found: list[bytes] = []
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            data, dependencies = self._file(current)
            found.append(data)
            pending.extend(dependencies)
        return found

    def _file(self, name: str) -> tuple[bytes, Iterable[str]]:
        if name in self._serialized:
            return self._serialized[name], self._dependencies[name]
        descriptor = self._runtime.FindFileByName(name)
        proto = descriptor_pb2.FileDescriptorProto()
        descriptor.CopyToProto(proto)
        return proto.SerializeToString(), [d.name for d in descriptor.dependencies]


def reflection_v1_file() -> descriptor_pb2.FileDescriptorProto:
    """``grpc/reflection/v1/reflection.proto``, made from v1alpha's (grpcio-reflection ships no
    v1): the same messages and service under the v1 package, so that a client that resolves the
    service it is talking to finds it."""
    alpha = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(alpha)
    text = text_format.MessageToString(alpha).replace(
        "grpc.reflection.v1alpha", "grpc.reflection.v1"
    )
    v1 = text_format.Parse(text, descriptor_pb2.FileDescriptorProto())
    v1.name = "grpc/reflection/v1/reflection.proto"
    v1.ClearField("options")  # v1alpha's are deprecated = true and its own language packages
    return v1


# grpc_reflection is untyped: its messages are Any to mypy.
Request: TypeAlias = reflection_pb2.ServerReflectionRequest
Response: TypeAlias = reflection_pb2.ServerReflectionResponse


class ReflectionService:
    """``ServerReflectionInfo`` for both protocols: one answer per request, in order."""

    def __init__(self, services: Iterable[str], files: DescriptorFiles) -> None:
        self._services = sorted({*services, *SERVICE_NAMES})
        self._files = files

    async def ServerReflectionInfo(
        self, requests: AsyncIterator[Request], context: object
    ) -> AsyncIterator[Response]:
        """Answer each request of the stream."""
        async for request in requests:
            yield self.answer(request)

    def answer(self, request: Request) -> Response:
        """The response to one reflection request."""
        kind = request.WhichOneof("message_request")
        if kind == "list_services":
            return Response(
                original_request=request,
                list_services_response=reflection_pb2.ListServiceResponse(
                    service=[reflection_pb2.ServiceResponse(name=s) for s in self._services]
                ),
            )
        if kind == "all_extension_numbers_of_type":
            numbers = self._files.extension_numbers(request.all_extension_numbers_of_type)
            if numbers is None:
                return _error(request, grpc.StatusCode.NOT_FOUND)
            return Response(
                original_request=request,
                all_extension_numbers_response=reflection_pb2.ExtensionNumberResponse(
                    base_type_name=request.all_extension_numbers_of_type,
                    extension_number=numbers,
                ),
            )
        name = self._file_asked(request, kind)
        if name is None:
            return _error(
                request,
                grpc.StatusCode.NOT_FOUND if kind else grpc.StatusCode.INVALID_ARGUMENT,
            )
        return Response(
            original_request=request,
            file_descriptor_response=reflection_pb2.FileDescriptorResponse(
                file_descriptor_proto=self._files.with_dependencies(name)
            ),
        )

    def _file_asked(self, request: Request, kind: str | None) -> str | None:
        if kind == "file_by_filename":
            return self._files.file_named(request.file_by_filename)
        if kind == "file_containing_symbol":
            return self._files.file_of_symbol(request.file_containing_symbol)
        if kind == "file_containing_extension":
            asked = request.file_containing_extension
            return self._files.file_of_extension(asked.containing_type, asked.extension_number)
        return None


def _error(request: Request, code: grpc.StatusCode) -> Response:
    number, text = code.value
    return Response(
        original_request=request,
        error_response=reflection_pb2.ErrorResponse(error_code=number, error_message=text),
    )


def add_reflection(server: grpc.aio.Server, services: Iterable[str]) -> ReflectionService:
    """Serve reflection of ``services`` (and of itself) on ``server``, over both protocols."""
    service = ReflectionService(services, DescriptorFiles.of_contract())
    handler = grpc.stream_stream_rpc_method_handler(
        service.ServerReflectionInfo,
        request_deserializer=Request.FromString,
        response_serializer=Response.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(name, {_METHOD: handler}) for name in SERVICE_NAMES]
    )
    return service
