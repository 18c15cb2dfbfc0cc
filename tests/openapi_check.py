"""Validating JSON against a schema of the API document (OpenAPI 3.0's dialect of JSON
Schema): its ``nullable`` becomes JSON Schema's ``null`` type, then jsonschema_rs decides."""

from __future__ import annotations

from typing import Any

import jsonschema_rs


def json_schema(schema: Any) -> Any:
    """``schema`` with every ``nullable: true`` written as JSON Schema says it."""
    if isinstance(schema, list):
        return [json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: json_schema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``instance`` breaks ``schema`` (an OpenAPI 3.0 schema), as messages."""
    validator = jsonschema_rs.Draft4Validator(json_schema(schema))
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(instance)]
