"""Decodes Avro single-object messages with fastavro, an independent strict reader.

Reads JSON from stdin: {"schemas": [{"fingerprint": "<16 hex>", "schema": {...}}, ...],
"messages": ["<base64>", ...]} and prints JSON: {"reader": "fastavro <version>",
"results": [{"ok": true, "record": {...}} | {"ok": false, "error": "..."}]}.
A message must carry C3 01, a known fingerprint, then exactly one record: strings must
be valid UTF-8 (Python decodes them strictly) and no byte may be left over. Logical
types only annotate longs and strings, so they are dropped to compare plain values.
"""
import base64
import io
import json
import sys

import fastavro


def plain(schema):
    if isinstance(schema, dict):
        return {key: plain(value) for key, value in schema.items() if key != "logicalType"}
    if isinstance(schema, list):
        return [plain(item) for item in schema]
    return schema


def read(message, schemas):
    if len(message) < 10 or message[0:2] != b"\xc3\x01":
        raise ValueError("not an Avro single-object message")
    schema = schemas.get(message[2:10].hex())
    if schema is None:
        raise ValueError(f"unknown fingerprint {message[2:10].hex()}")
    body = io.BytesIO(message[10:])
    record = fastavro.schemaless_reader(body, schema)
    if body.tell() != len(message) - 10:
        raise ValueError(f"{len(message) - 10 - body.tell()} bytes left after the record")
    return record


def main() -> None:
    request = json.load(sys.stdin)
    schemas = {s["fingerprint"]: fastavro.parse_schema(plain(s["schema"])) for s in request["schemas"]}
    results = []
    for encoded in request["messages"]:
        try:
            results.append({"ok": True, "record": read(base64.b64decode(encoded), schemas)})
        except Exception as error:  # any reader error is the answer for that message
            results.append({"ok": False, "error": f"{type(error).__name__}: {error}"})
    json.dump({"reader": f"fastavro {fastavro.__version__}", "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
