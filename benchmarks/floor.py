"""The floor: parse each NDJSON line with orjson and write it back, nothing else."""

import sys

import orjson

out = sys.stdout.buffer
for line in sys.stdin.buffer:
    out.write(orjson.dumps(orjson.loads(line)) + b"\n")
