#!/usr/bin/env bash
# check_reference.sh - the .proto files compile with the reference compiler
# (protoc --python_out) and the example inputs parse as canonical protobuf
# JSON there, so clients in other languages can use both unchanged.
# Usage: check_reference.sh SOURCE_DIR
set -euo pipefail
src=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protoc -I"$src/proto" --python_out="$out" "$src"/proto/jobmatch/v1/*.proto
# Debian's python3-protobuf lives with the system interpreter; a python3
# earlier on PATH (pyenv) may not have it.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
PYTHONPATH="$out" "$py" - "$src" <<'PY'
import json, sys
from google.protobuf import json_format
from jobmatch.v1 import envelope_pb2, intake_pb2, profiles_pb2

src = sys.argv[1]
order = json_format.ParseDict(
    json.load(open(f"{src}/docs/examples/job-order.json")), intake_pb2.JobOrder())
put = json_format.ParseDict(
    json.load(open(f"{src}/docs/examples/profile.json")), profiles_pb2.PutProfile())
req = envelope_pb2.Request(request_id=bytes(16))
req.submit_order.order.CopyFrom(order)
wire = req.SerializeToString()
back = envelope_pb2.Request.FromString(wire)
assert back.WhichOneof("body") == "submit_order", back
assert back.submit_order.order.cvr == "35610006"
assert put.personal.cpr and put.profile.skills, put
print(f"reference compiler ok: Request with an order is {len(wire)} bytes")
PY
