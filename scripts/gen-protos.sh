#!/usr/bin/env bash
# Generate the Python code of the liaison.v1 contract into OUT (default: protos, i.e. in place).
# Uses the pinned generators of the project's .venv: grpcio-tools (protoc, gRPC plugin) and
# mypy-protobuf (typed stubs). Only the files that declare services get *_pb2_grpc modules.
# Also the descriptor set the reflection service serves (liaison/v1/liaison.binpb): every contract
# file, the google.rpc error protos shipped beside it (protos/third_party) and their imports, with json_name and the
# comments (source info), which the Python runtime's descriptor pool does not keep.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-protos}"
venv="${VENV:-.venv}"
export PATH="$PWD/$venv/bin:$PATH"
mkdir -p "$out"
protos=(protos/liaison/v1/*.proto)
services=()
for file in "${protos[@]}"; do
  if grep -q '^service ' "$file"; then services+=("$file"); fi
done
"$venv/bin/python" -m grpc_tools.protoc -Iprotos \
  --python_out="$out" --mypy_out=quiet:"$out" "${protos[@]}"
"$venv/bin/python" -m grpc_tools.protoc -Iprotos \
  --grpc_python_out="$out" --mypy_grpc_out=quiet:"$out" "${services[@]}"
"$venv/bin/python" -m grpc_tools.protoc -Iprotos/third_party -Iprotos \
  --include_imports --include_source_info \
  --descriptor_set_out="$out/liaison/v1/liaison.binpb" "${protos[@]}" protos/third_party/google/rpc/*.proto
