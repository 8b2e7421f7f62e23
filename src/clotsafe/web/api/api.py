"""The NinjaAPI of /api/v1/: its routers, auth, rate limit, error handlers and OpenAPI document
(served at /api/v1/openapi.json; the intake's JSON Schema is the engine's own)."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from clotsafe.domain.intake import intake_json_schema
from clotsafe.web.api import errors
from clotsafe.web.api.auth import TokenAuth, TokenRateThrottle
from clotsafe.web.api.common import StrictParser
from clotsafe.web.api.routes import clients, recheck, records, screen

DESCRIPTION = """The clotsafe JSON API for practice software, booking sites and scripts
(docs/api.md). Authenticate with `Authorization: Bearer <token>`; a token belongs to one user of
one clinic (`clotsafe api-token create --user USERNAME`). Errors are
`{"errors": [{"field", "code", "message", "got"}]}` with the codes of docs/errors.md."""
#: every operation can answer these (a missing token, the rate limit)
COMMON = {"401": "no valid API token", "429": "too many calls with this token"}


class ClotsafeApi(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        """The view's name (``client_list``): stable and readable in generated clients."""
        return str(operation.view_func.__name__)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        _add_intake(components)
        for item in schema["paths"].values():
            for op in item.values():
                _add_common(op)
        return schema


def _add_intake(components: dict[str, Any]) -> None:
    """The engine's intake JSON Schema (INTAKE.md) as components: Intake, ClearanceIn, ..."""
    intake = intake_json_schema()
    defs = intake.pop("$defs", {})
    clash = set(defs) & set(components) - {"Intake", "RecheckIn"}
    if clash:
        raise RuntimeError(f"API schema names clash with the intake's: {sorted(clash)}")
    components.update(_refs({**defs, "Intake": intake}))
    components["RecheckIn"] = recheck.recheck_schema(components["Answers"])


def _refs(value: Any) -> Any:
    """JSON Schema ``#/$defs/X`` -> OpenAPI ``#/components/schemas/X``."""
    if isinstance(value, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _refs(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_refs(v) for v in value]
    return value


def _add_common(op: dict[str, Any]) -> None:
    ref = {"schema": {"$ref": "#/components/schemas/ErrorsOut"}}
    for status, text in COMMON.items():
        op["responses"].setdefault(
            status, {"description": text, "content": {"application/json": ref}}
        )
    op["responses"]["429"].setdefault(
        "headers", {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}}
    )


def build() -> ClotsafeApi:
    api = ClotsafeApi(
        title="clotsafe API",
        version="1",
        description=DESCRIPTION,
        auth=TokenAuth(),
        throttle=[TokenRateThrottle()],
        docs_url=None,
        parser=StrictParser(),
        urls_namespace="clotsafe-api",
    )
    errors.install(api)
    api.add_router("", screen.router)
    api.add_router("", clients.router)
    api.add_router("", records.router)
    api.add_router("", recheck.router)
    return api


api = build()
