"""Compare a JSON value with an OpenAPI schema: field names, nesting and JSON types."""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def mismatches(schema: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    """Every way ``value`` departs from ``schema``; empty when it conforms."""
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null where the reference has no null"]
    if "oneOf" in schema:
        branches = [mismatches(s, value, path) for s in schema["oneOf"]]
        return [] if any(not b for b in branches) else branches[0]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"{path}: {type(value).__name__} where the reference has {kind}"]
        if kind == "integer" and isinstance(value, float) and not value.is_integer():
            return [f"{path}: {value} where the reference has an integer"]
        return []
    if kind in _TYPES and not isinstance(value, _TYPES[kind]):
        return [f"{path}: {type(value).__name__} where the reference has {kind}"]
    problems: list[str] = []
    if kind == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            if name not in value:
                problems.append(f"{path}.{name}: missing")
            else:
                problems += mismatches(sub, value[name], f"{path}.{name}")
        example = schema.get("example")
        if not schema.get("properties") and isinstance(example, dict):
            problems += [f"{path}.{k}: missing" for k in example if k not in value]
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            problems += mismatches(schema["items"], item, f"{path}[{i}]")
    return problems


def test_checker_finds_what_differs() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {
                "type": "array",
                "items": {"type": "object", "properties": {"c": {"type": "string"}}},
            },
            "d": {"type": "string", "nullable": True},
        },
    }
    assert mismatches(schema, {"a": 1.0, "b": [{"c": "x"}], "d": None}) == []
    assert mismatches(schema, {"a": 1.5, "b": [{"c": 3}], "d": None}) == [
        "$.a: 1.5 where the reference has an integer",
        "$.b[0].c: int where the reference has string",
    ]
    assert mismatches(schema, {"b": []}) == ["$.a: missing", "$.d: missing"]
