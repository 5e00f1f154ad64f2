#!/usr/bin/env python3
"""Writes the console's TypeScript types for API payloads from the OpenAPI document.

    gen-types.py OPENAPI_JSON OUTPUT_TS

For every schema in components.schemas: an `export interface` (objects with properties) or an
`export type`. For every enumeration of strings: an `export const <NAME>S = [...] as const` and
`export type <Name> = (typeof <NAME>S)[number]`, so screens take both the values (filters,
pickers) and the type from the document instead of keeping copies. Enumerations with the same
values in several schemas (a ticket's status in Ticket, TicketDetail, TicketChange) share one
constant, named after the schema most of them belong to once suffixes such as Detail, Change or
Input are set aside.

Deterministic: schemas in name order, properties in document order; the same document always
gives the same file (scripts/build-web --check).
"""
import json
import re
import sys

# Suffixes that mark a view, a request or the wrapper of the same thing, so Ticket, TicketDetail and
# TicketChange name one shared constant TICKET_STATUSES.
VIEW_SUFFIXES = ("Detail", "Change", "Input", "Created", "Accepted", "Page", "List", "Body")
IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def words(name):
    return re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)


def pascal(*names):
    return "".join(w[:1].upper() + w[1:] for n in names for w in words(n))


def constant(*names):
    return "_".join(w.upper() for n in names for w in words(n))


def plural(upper):
    last = upper.rsplit("_", 1)[-1]
    if last in ("BY", "TO", "FOR", "OF", "AT", "IN"):  # closedBy is a relation, not a noun
        return upper + "_VALUES"
    if re.search(r"(S|X|SH|CH)$", upper):
        return upper + "ES"
    if re.search(r"[^AEIOU]Y$", upper):
        return upper[:-1] + "IES"
    return upper + "S"


def stem(schema_name):
    for suffix in VIEW_SUFFIXES:
        if schema_name.endswith(suffix) and len(schema_name) > len(suffix):
            return schema_name[: -len(suffix)]
    return schema_name


def string_values(schema):
    values = schema.get("enum")
    if not isinstance(values, list):
        return None
    strings = [v for v in values if v is not None]
    if not strings or not all(isinstance(v, str) for v in strings):
        return None
    return tuple(strings)


def collect_enums(schemas):
    """Groups the string enumerations of top-level properties by their values and names each group."""
    groups = {}  # values -> [(schema name, property name)]
    order = []
    for name in sorted(schemas):
        for prop, sub in (schemas[name].get("properties") or {}).items():
            values = string_values(sub)
            if values is None:
                continue
            if values not in groups:
                groups[values] = []
                order.append(values)
            groups[values].append((name, prop))
    named = {}  # values -> (CONST, TypeName)
    taken = set()
    # The most widely used enumerations choose their names first.
    for values in sorted(order, key=lambda v: (-len(groups[v]), order.index(v))):
        members = groups[values]
        counts = {}
        for schema, prop in members:
            counts[(stem(schema), prop)] = counts.get((stem(schema), prop), 0) + 1
        candidates = sorted(counts, key=lambda k: (-counts[k], len(k[0]) + len(k[1]), k))
        candidates += sorted(set(members), key=lambda k: (len(k[0]) + len(k[1]), k))
        for owner, prop in candidates:
            const, type_name = plural(constant(owner, prop)), pascal(owner, prop)
            if const not in taken:
                break
        else:
            raise SystemExit(f"gen-types: no free name for the enumeration {list(values)}")
        taken.add(const)
        named[values] = (const, type_name)
    return order, named


class Writer:
    def __init__(self, schemas, named):
        self.schemas = schemas
        self.named = named

    def ts(self, schema, indent):
        if not isinstance(schema, dict) or not schema:
            return "unknown"
        if "$ref" in schema:
            ref = schema["$ref"]
            prefix = "#/components/schemas/"
            if not ref.startswith(prefix) or ref[len(prefix):] not in self.schemas:
                raise SystemExit(f"gen-types: unresolved $ref {ref}")
            return ref[len(prefix):]
        if "const" in schema:
            return json.dumps(schema["const"], ensure_ascii=False)
        if "enum" in schema:
            values = schema["enum"]
            strings = string_values(schema)
            parts = [self.named[strings][1]] if strings in self.named else \
                [json.dumps(v, ensure_ascii=False) for v in values if v is not None]
            if None in values or self.nullable(schema):
                parts.append("null")
            return " | ".join(parts)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.union([self.ts(s, indent) for s in schema[key]])
        if "allOf" in schema:
            return " & ".join(self.wrap(self.ts(s, indent)) for s in schema["allOf"])
        kinds = schema.get("type")
        if kinds is None:
            kinds = "object" if "properties" in schema else None
        if kinds is None:
            return "unknown"
        if isinstance(kinds, str):
            kinds = [kinds]
        return self.union([self.one(kind, schema, indent) for kind in kinds])

    @staticmethod
    def nullable(schema):
        kinds = schema.get("type")
        return kinds == "null" or (isinstance(kinds, list) and "null" in kinds)

    def one(self, kind, schema, indent):
        if kind in ("integer", "number"):
            return "number"
        if kind in ("string", "boolean", "null"):
            return kind
        if kind == "array":
            return self.wrap(self.ts(schema.get("items", {}), indent)) + "[]"
        if kind == "object":
            return self.object(schema, indent)
        return "unknown"

    def object(self, schema, indent):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties", True)
        if not props:
            if isinstance(extra, dict):
                return f"Record<string, {self.ts(extra, indent)}>"
            return "Record<string, unknown>" if extra is not False else "Record<string, never>"
        pad = "  " * (indent + 1)
        lines = ["{"]
        lines += self.members(schema, indent + 1)
        if isinstance(extra, dict):
            # An index signature must admit every named property's type too.
            lines.append(f"{pad}[key: string]: unknown;")
        lines.append("  " * indent + "}")
        return "\n".join(lines)

    def members(self, schema, indent):
        required = set(schema.get("required", []))
        pad = "  " * indent
        out = []
        for prop, sub in (schema.get("properties") or {}).items():
            out += doc_comment(sub.get("description") if isinstance(sub, dict) else None, pad)
            key = prop if IDENTIFIER.match(prop) else json.dumps(prop)
            optional = "" if prop in required else "?"
            out.append(f"{pad}{key}{optional}: {self.ts(sub, indent)};")
        return out

    @staticmethod
    def wrap(text):
        return f"({text})" if (" | " in text or " & " in text) and not text.startswith("{") else text

    @staticmethod
    def union(parts):
        seen = []
        for p in parts:
            if p not in seen:
                seen.append(p)
        if "null" in seen:  # nullable last, as a reader expects
            seen = [p for p in seen if p != "null"] + ["null"]
        return " | ".join(seen)


def doc_comment(text, pad):
    if not text:
        return []
    text = text.replace("*/", "*\\/")
    lines = text.splitlines()
    if len(lines) == 1:
        return [f"{pad}/** {lines[0]} */"]
    return [f"{pad}/**"] + [f"{pad} *{' ' + line if line else ''}" for line in lines] + [f"{pad} */"]


def generate(document):
    schemas = document.get("components", {}).get("schemas", {})
    order, named = collect_enums(schemas)
    writer = Writer(schemas, named)
    out = [
        "// Generated by Resources/admin/gen-types.py from the OpenAPI document assembled from",
        "// Resources/api/ (served at /api/openapi.json). Do not edit; change the feature's part in",
        "// Resources/api/parts/ and run scripts/build-web.",
        "",
    ]
    for values in order:
        const, type_name = named[values]
        items = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
        out.append(f"export const {const} = [{items}] as const;")
        out.append(f"export type {type_name} = (typeof {const})[number];")
    out.append("")
    for name in sorted(schemas):
        schema = schemas[name]
        out += doc_comment(schema.get("description"), "")
        is_object = schema.get("type") == "object" and schema.get("properties") \
            and not any(k in schema for k in ("oneOf", "anyOf", "allOf"))
        if is_object:
            body = writer.object(schema, 0)
            out.append(f"export interface {name} {body}")
        else:
            out.append(f"export type {name} = {writer.ts(schema, 0)};")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main():
    if len(sys.argv) != 3:
        print("usage: gen-types.py OPENAPI_JSON OUTPUT_TS", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        document = json.load(f)
    text = generate(document)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
