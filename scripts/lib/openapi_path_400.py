"""Adds the edge's 400 path_not_canonical answer to every operation with a path parameter.

A parameter value can carry what the edge refuses (a percent-encoded `/`, `\\`, `.` or NUL, or
a whole `.`/`..` segment), so those operations can answer 400 before routing. Idempotent:
run it on the document or on a part as often as needed.
    python3 scripts/lib/openapi_path_400.py FILE.json [FILE.json …]
"""
import json
import sys

NOTE = "Path not in canonical form: a `.` or `..` segment, or a percent-encoded `/`, `\\`, `.` or NUL (code path_not_canonical)."


def envelope(description):
    return {"description": description, "headers": {"X-Request-Id": {"$ref": "#/components/headers/XRequestId"}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}


for name in sys.argv[1:]:
    doc = json.load(open(name))
    for path, item in doc.get("paths", {}).items():
        if "{" not in path:
            continue
        for method, op in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            existing = responses.get("400")
            if existing is None:
                responses["400"] = envelope(NOTE)
            elif "$ref" not in existing and "path_not_canonical" not in existing.get("description", ""):
                existing["description"] = existing["description"].rstrip(".") + "; or " + NOTE[0].lower() + NOTE[1:]
    with open(name, "w") as out:
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
