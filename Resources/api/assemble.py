#!/usr/bin/env python3
"""Assembles Frontdesk's OpenAPI document from base.json and the per-feature parts.

    assemble.py BASE_JSON PARTS_DIR OUTPUT_JSON

base.json holds what every feature shares (openapi version, info, servers, the shared tags, the
error envelope, shared headers and responses). Each parts/<feature>.json is an object with any of

    "paths":          the operations the feature routes, {"/api/v1/x": {"get": {...}}}
    "components":     {"schemas": {...}, "responses": {...}, "securitySchemes": {...}, ...}
    "tags":           tags the feature introduces, appended after the base's tags
    "x-error-codes":  error codes the feature's operations answer with; each is a string, or
                      {"code": "...", "description": "..."} to also document it in
                      ErrorBody.code's description

so a new feature adds a part and edits nothing shared. The assembler refuses (exit 1, naming
both files) when two files define the same path and method, the same component name with
different content, or the same tag differently; and when a $ref points at nothing.

Output is deterministic: paths sorted, operations in a fixed method order, component names
sorted, error codes sorted; everything inside an operation or schema keeps the order it is
written in (property order is what documentation tools and the generated console types show).
"""
import json
import os
import re
import sys

METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
PART_KEYS = {"paths", "components", "tags", "x-error-codes"}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
TOP_ORDER = ["openapi", "info", "jsonSchemaDialect", "servers", "tags", "paths", "webhooks",
             "components", "security", "externalDocs"]


class Refused(Exception):
    pass


def load(path):
    def no_duplicates(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise Refused(f"{path}: key {key!r} appears twice in one object")
            seen[key] = value
        return seen

    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise Refused(f"{path}: not valid JSON: {e}")


def code_entries(value, origin):
    if not isinstance(value, list):
        raise Refused(f"{origin}: x-error-codes must be a list")
    for entry in value:
        if isinstance(entry, str):
            code, description = entry, None
        elif isinstance(entry, dict) and set(entry) <= {"code", "description"} and isinstance(entry.get("code"), str):
            code, description = entry["code"], entry.get("description")
        else:
            raise Refused(f"{origin}: x-error-codes entry {entry!r} is neither a code nor {{\"code\", \"description\"}}")
        if not CODE.match(code):
            raise Refused(f"{origin}: error code {code!r} is not snake_case")
        yield code, description


def assemble(base_path, parts_dir):
    doc = load(base_path)
    base_name = os.path.basename(base_path)
    try:
        code_schema = doc["components"]["schemas"]["ErrorBody"]["properties"]["code"]
    except (KeyError, TypeError):
        raise Refused(f"{base_path}: components.schemas.ErrorBody.properties.code is missing")
    codes = set(code_schema.get("enum", []))
    described = {}  # code -> (description, file) for the codes documented by a part
    paths = doc.setdefault("paths", {})
    owner = {}  # (path, method) or (kind, name) or ("tag", name) -> file that defined it
    for path, item in paths.items():
        for method in item:
            owner[(path, method)] = base_name
    components = doc.setdefault("components", {})
    for kind, entries in components.items():
        for name in entries:
            owner[(kind, name)] = base_name
    tags = doc.setdefault("tags", [])
    for tag in tags:
        owner[("tag", tag["name"])] = base_name

    part_files = sorted(f for f in os.listdir(parts_dir) if f.endswith(".json"))
    if not part_files:
        raise Refused(f"{parts_dir}: no parts")
    for file in part_files:
        part = load(os.path.join(parts_dir, file))
        origin = f"parts/{file}"
        if not isinstance(part, dict) or not set(part) <= PART_KEYS:
            unknown = sorted(set(part) - PART_KEYS) if isinstance(part, dict) else part
            raise Refused(f"{origin}: unknown top-level keys {unknown}; a part may have {sorted(PART_KEYS)}")
        for path, item in part.get("paths", {}).items():
            if not path.startswith("/"):
                raise Refused(f"{origin}: path {path!r} does not start with /")
            target = paths.setdefault(path, {})
            for method, operation in item.items():
                if (path, method) in owner:
                    if method in METHODS:
                        raise Refused(f"{origin}: {method.upper()} {path} is defined in {owner[(path, method)]} already")
                    if target[method] != operation:
                        raise Refused(f"{origin}: {path} has a different {method!r} in {owner[(path, method)]}")
                    continue
                owner[(path, method)] = origin
                target[method] = operation
        for kind, entries in part.get("components", {}).items():
            section = components.setdefault(kind, {})
            for name, value in entries.items():
                if (kind, name) in owner:
                    if section[name] != value:
                        raise Refused(f"{origin}: components.{kind}.{name} differs from the one in {owner[(kind, name)]}")
                    continue
                owner[(kind, name)] = origin
                section[name] = value
        for tag in part.get("tags", []):
            if not isinstance(tag, dict) or not isinstance(tag.get("name"), str):
                raise Refused(f"{origin}: tag {tag!r} has no name")
            key = ("tag", tag["name"])
            if key in owner:
                if next(t for t in tags if t["name"] == tag["name"]) != tag:
                    raise Refused(f"{origin}: tag {tag['name']!r} differs from the one in {owner[key]}")
                continue
            owner[key] = origin
            tags.append(tag)
        for code, description in code_entries(part.get("x-error-codes", []), origin):
            codes.add(code)
            if description is None:
                continue
            if code in described and described[code][0] != description:
                raise Refused(f"{origin}: error code {code!r} is described differently in {described[code][1]}")
            if code not in described:
                described[code] = (description, origin)
                code_schema["description"] = code_schema.get("description", "") + f"\n- `{code}`: {description}"

    add_path_check_answers(paths)
    code_schema["enum"] = sorted(codes)
    doc["paths"] = {path: order_methods(paths[path]) for path in sorted(paths)}
    doc["components"] = {kind: {name: components[kind][name] for name in sorted(components[kind])}
                         for kind in sorted(components)}
    apply_text_rules(doc)
    unresolved = sorted(set(ref for ref in refs(doc) if not resolves(doc, ref)))
    if unresolved:
        raise Refused("unresolved $ref: " + ", ".join(unresolved))
    return {key: doc[key] for key in sorted(doc, key=lambda k: (TOP_ORDER.index(k) if k in TOP_ORDER else len(TOP_ORDER), k))}


PATH_CHECK = ("Path not in canonical form: a `.` or `..` segment, or a percent-encoded `/`, `\\`, `.` or NUL "
              "(code path_not_canonical).")


def add_path_check_answers(paths):
    """Every operation with a path parameter may answer the edge's 400 `path_not_canonical`:
    a parameter value can carry what the edge refuses before routing. Added here once, so no
    part has to remember it; a part's own 400 gets the sentence appended."""
    for path, item in paths.items():
        if "{" not in path:
            continue
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            existing = responses.get("400")
            if existing is None:
                responses["400"] = {"description": PATH_CHECK,
                                    "headers": {"X-Request-Id": {"$ref": "#/components/headers/XRequestId"}},
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
            elif "$ref" not in existing and "path_not_canonical" not in existing.get("description", ""):
                existing["description"] = existing["description"].rstrip(".") + "; or " + PATH_CHECK[0].lower() + PATH_CHECK[1:]


# The server's text rule (FieldReader.text): surrounding Unicode White_Space is trimmed; then an
# optional field left empty counts as absent, a required one is refused; the length (in code
# points) is checked on what is left; control characters other than tab (and, in multi-line
# fields, line breaks) are refused. A property marked "x-trimmed": true (plus "x-multiline": true
# for multi-line text) with its minLength/maxLength gets this rule as an exact pattern, so the
# fuzzer's valid and invalid requests are the server's.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def trimmed_text_pattern(min_length, max_length, multiline, required):
    ws = f"[{WHITE_SPACE}]"
    inner = "[^\x00-\x08\x0b\x0c\x0e-\x1f]" if multiline else "[^\x00-\x08\x0a-\x1f]"
    edge = f"[^\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    low, high = max(min_length, 1), max_length
    if high == 1:
        text = edge
    elif low <= 1:
        text = f"{edge}(?:{inner}{{0,{high - 2}}}{edge})?"
    else:
        text = f"{edge}{inner}{{{low - 2},{high - 2}}}{edge}"
    return f"^{ws}*{text}{ws}*$" if required else f"^{ws}*(?:{text}{ws}*)?$"


def apply_text_rules(node):
    """Replaces each x-trimmed property's lengths with the exact pattern (see trimmed_text_pattern)."""
    if isinstance(node, list):
        for inner in node:
            apply_text_rules(inner)
        return
    if not isinstance(node, dict):
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        required = set(node.get("required", []))
        for name, schema in properties.items():
            if not (isinstance(schema, dict) and schema.pop("x-trimmed", False)):
                continue
            multiline = schema.pop("x-multiline", False)
            if "maxLength" not in schema:
                raise Refused(f"property {name!r} is x-trimmed but has no maxLength")
            low, high = schema.pop("minLength", 1), schema.pop("maxLength")
            schema["pattern"] = trimmed_text_pattern(low, high, multiline, name in required)
            if name not in required:
                schema["type"] = ["string", "null"]
            rule = (f"Surrounding white space is trimmed; then {max(low, 1)} to {high} characters"
                    f"{'' if multiline else ' on one line'}, no control characters"
                    f"{'' if name in required else '; empty or null means absent'}.")
            schema["description"] = (schema.get("description", "").rstrip() + " " + rule).strip()
    for key, inner in node.items():
        if key != "properties":
            apply_text_rules(inner)
        else:
            for schema in inner.values():
                apply_text_rules(schema)


def order_methods(item):
    rank = {m: i for i, m in enumerate(METHODS)}
    # Path-level keys (summary, parameters, …) first, then the operations in METHODS order.
    return {key: item[key] for key in sorted(item, key=lambda k: (k in rank, rank.get(k, 0), k))}


def refs(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "$ref" and isinstance(inner, str):
                yield inner
            else:
                yield from refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from refs(inner)


def resolves(doc, ref):
    if not ref.startswith("#/"):
        return True  # an external document; not ours to check
    node = doc
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return False
        node = node[token]
    return True


def main():
    if len(sys.argv) != 4:
        print("usage: assemble.py BASE_JSON PARTS_DIR OUTPUT_JSON", file=sys.stderr)
        return 2
    base, parts_dir, output = sys.argv[1:]
    try:
        doc = assemble(base, parts_dir)
    except Refused as e:
        print(f"assemble: {e}", file=sys.stderr)
        return 1
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
