"""schemathesis hooks for test/fuzz.int.test.ts (loaded through SCHEMATHESIS_HOOKS).

The ingest API takes NDJSON batches (application/x-ndjson, one event per line), which
schemathesis has no serializer for: without this it never sends one. The document
declares that body as text, so what is generated is sent as it is.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(_ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    text = value if isinstance(value, str) else json.dumps(value)
    # Lone surrogates as generated go on the wire as their bytes: the API must refuse them.
    return {"data": text.encode("utf-8", "surrogatepass")}
