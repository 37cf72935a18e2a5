# Schemathesis hooks (loaded by schemathesis.toml): bodies of the NDJSON routes
# (POST /v1/profiles/import) go on the wire as they were generated, bytes or JSON text, as
# application/octet-stream bodies do; schemathesis has no serializer for these media types.
import schemathesis

schemathesis.serializer.alias(["application/x-ndjson", "application/jsonl"], "application/octet-stream")
