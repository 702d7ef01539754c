"""The Liaison contract: protobuf messages and gRPC services, versioned by package (liaison.v1)."""
