"""Every request and response checked against docs/openapi.yaml with openapi-core.

openapi-core reads OpenAPI 3.1 and validates parameters, bodies and response headers. We give it
our own small request/response adapters (its protocols are duck-typed) rather than its aiohttp
ones, because those match the request's scheme://host without the port against `servers`,
which a test server on a random port never matches. Security is not checked here: it is mutual
TLS, enforced by the TLS layer and `auth.identify`, which openapi-core has no provider for.

Response validation is strict: a response outside the spec becomes a 500 and is recorded in
`SpecCheck.violations`, so tests fail loudly instead of a client meeting it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiohttp import web
from jsonschema_path import SchemaPath
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.validation.request.validators import (
    V31RequestBodyValidator,
    V31RequestParametersValidator,
)
from openapi_core.validation.response.validators import V31ResponseValidator
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from terminal.sim.platform.fastschema import FastSchemaValidators
from terminal.sim.platform.problems import Problem, internal, invalid

# The source tree's docs/openapi.yaml; an installed wheel carries it as terminal/docs/ (setup.py).
_CANDIDATES = (
    Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml",
    Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml",
)
SPEC_PATH = next((p for p in _CANDIDATES if p.is_file()), _CANDIDATES[0])
MAX_BODY_BYTES = 1024 * 1024
BODY = web.RequestKey("body", object)  # the validated, parsed JSON body

log = logging.getLogger(__name__)


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class _Response:
    data: bytes
    status_code: int
    content_type: str
    headers: object


def _reject_float(text: str):
    raise ValueError(f"numbers are whole integers here, not {text}")


def _reject_constant(text: str):
    raise ValueError(f"{text} is not JSON")


def parse_json(body: bytes) -> object:
    """JSON with integers only: money is whole won, and 1e3 must not pass as 1000."""
    return json.loads(body, parse_float=_reject_float, parse_constant=_reject_constant)


# openapi-core knows application/json; problem documents are JSON too, and the spec is YAML.
_DESERIALIZERS = {
    "application/problem+json": lambda value, **parameters: json.loads(value),
    "application/yaml": lambda value, **parameters: yaml.safe_load(value),
}


def _describe(error: Exception) -> str:
    """One line naming the field and what was wrong (openapi-core nests the schema errors)."""
    causes = getattr(error, "__cause__", None)
    schema_errors = getattr(causes, "schema_errors", None) or getattr(error, "schema_errors", None)
    # A parameter error names the parameter; a body error starts at the body.
    name, location = getattr(error, "name", None), getattr(error, "location", None)
    top = f"{location} parameter {name}" if name and location else "body"
    if schema_errors:
        first = schema_errors[0]
        where = "/".join(str(p) for p in first.absolute_path)
        return f"{top}{'/' + where if where else ''}: {first.message}"[:500]
    return " ".join(str(causes or error).split())[:500]


@dataclass
class SpecCheck:
    spec_bytes: bytes
    violations: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> SpecCheck:
        return cls(path.read_bytes())

    def __post_init__(self) -> None:
        document = yaml.safe_load(self.spec_bytes)
        self.base_url = document["servers"][0]["url"]
        spec = SchemaPath.from_dict(document)
        options = {
            "extra_media_type_deserializers": _DESERIALIZERS,
            "schema_validators_factory": FastSchemaValidators(document),
        }
        self._parameters = V31RequestParametersValidator(spec, **options)
        self._body = V31RequestBodyValidator(spec, **options)
        self._response = V31ResponseValidator(spec, **options)

    def _request(self, request: web.Request, body: bytes | None) -> _Request:
        return _Request(
            host_url=self.base_url,
            path=request.path,
            method=request.method.lower(),
            parameters=RequestParameters(
                query=request.query, header=request.headers, cookie=request.cookies
            ),
            body=body,
            content_type=request.content_type if body else "application/json",
        )

    async def check_request(self, request: web.Request) -> object | None:
        """Validates the request; returns its parsed JSON body (None without one)."""
        body = await _read_body(request)
        adapted = self._request(request, body)
        try:
            self._parameters.validate(adapted)
        except PathError:
            detail = f"no operation {request.method} {request.path}"
            raise Problem(404, "park", "not_found", detail) from None
        except Exception as error:  # openapi-core's validation errors share no useful base
            raise invalid(_describe(error)) from None
        if not body and request.method in ("GET", "HEAD"):
            return None
        if body and request.content_type != "application/json":
            raise Problem(
                415, "park", "unsupported_media_type", "send the body as application/json"
            )
        try:
            parsed = parse_json(body) if body else None
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise invalid(f"body is not JSON: {error}") from None
        try:
            self._body.validate(adapted)
        except MediaTypeNotFound:
            raise Problem(415, "park", "unsupported_media_type", "send application/json") from None
        except Exception as error:
            raise invalid(_describe(error)) from None
        return parsed

    def check_response(self, request: web.Request, response: web.Response) -> web.Response:
        """The response if the spec allows it; otherwise a 500 and a recorded violation."""
        body = response.body if isinstance(response.body, bytes) else b""
        adapted = _Response(body, response.status, response.content_type or "", response.headers)
        try:
            self._response.validate(self._request(request, None), adapted)
        except (InvalidSchemaValue, Exception) as error:
            message = f"{request.method} {request.path} → {response.status}: {_describe(error)}"
            self.violations.append(message)
            log.error("response outside the spec: %s", message)
            return internal("the platform produced an answer outside its spec").response()
        return response


async def _read_body(request: web.Request) -> bytes | None:
    if not request.can_read_body:
        return None
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Problem(
            413, "park", "too_large", f"bodies are at most {MAX_BODY_BYTES} bytes: split it"
        ) from None
