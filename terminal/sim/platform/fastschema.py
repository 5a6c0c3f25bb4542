"""A faster JSON Schema check inside openapi-core: valid bodies pass through jsonschema-rs, a
body that fails is checked again by openapi-core's own (jsonschema) validator for its errors.

Why: openapi-core validates with the pure-Python `jsonschema`, about 60 µs per uploaded record
for the request and more for the answer — most of what a 500-record batch costs the simulator
(`scripts/bench platform`). jsonschema-rs (Draft 2020-12, the dialect of OpenAPI 3.1; by the
schemathesis authors) compiles every schema of the spec once and checks a record in well
under a microsecond. Everything else — finding the operation, parameters, content types,
status codes, headers, and every error message — stays openapi-core's. Without jsonschema-rs
installed, openapi-core's own validator is used unchanged.
"""

from __future__ import annotations

from typing import Any

from openapi_core.validation.schemas import oas31_schema_validators_factory
from openapi_core.validation.schemas.validators import SchemaValidator

try:
    import jsonschema_rs
except ImportError:  # optional: a platform without a wheel falls back to openapi-core alone
    jsonschema_rs = None


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class _FastSchemaValidator(SchemaValidator):
    def __init__(self, slow: SchemaValidator, fast: Any):
        super().__init__(slow.schema, slow.validator)
        self._fast = fast

    def validate(self, value: Any) -> None:
        if self._fast.is_valid(value):
            return
        super().validate(value)  # the same verdict, with openapi-core's errors


class FastSchemaValidators:
    """A drop-in for openapi-core's OAS 3.1 schema validators factory (only `create` is used)."""

    def __init__(self, document: dict):
        self._document = document
        self._base = oas31_schema_validators_factory
        compile_all = getattr(jsonschema_rs, "validator_map_for", None)  # jsonschema-rs ≥ 0.60
        self._compiled = compile_all(document) if compile_all else None
        self._by_parts: dict[tuple, Any] = {}

    def _pointer(self, parts: tuple) -> str | None:
        """The JSON pointer where the schema at `parts` really lives, following local $refs."""
        node, pointer = self._document, ""
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                return None
            node, pointer = node[part], f"{pointer}/{_escape(str(part))}"
            for _ in range(32):  # bounded: a $ref chain longer than this is not in our spec
                if not (isinstance(node, dict) and str(node.get("$ref", "")).startswith("#/")):
                    break
                pointer = node["$ref"][1:]
                node = self._document
                for step in pointer.strip("/").split("/"):
                    node = node.get(step.replace("~1", "/").replace("~0", "~"), {})
        return "#" + pointer

    def _fast(self, schema) -> Any:
        parts = tuple(schema.parts)
        if parts not in self._by_parts:
            pointer = self._pointer(parts)
            self._by_parts[parts] = self._compiled.get(pointer) if pointer else None
        return self._by_parts[parts]

    def create(self, spec, schema, *args, **kwargs) -> SchemaValidator:
        validator = self._base.create(spec, schema, *args, **kwargs)
        if self._compiled is None:
            return validator
        fast = self._fast(schema)
        return _FastSchemaValidator(validator, fast) if fast is not None else validator
