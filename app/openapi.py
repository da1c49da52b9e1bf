"""The OpenAPI document as client generators and linters want it.

FastAPI inlines a copy of every `Literal` wherever it is used and declares only the
statuses a route names; generated clients then get one enum class per parameter and
crash on a 304. This module names the shared vocabularies once in `components`, declares
every status the middleware can answer, and gives array parameters array examples.
Query parameters say that a blank value is allowed (it means absent).
"""

from __future__ import annotations

from typing import Any, get_args

from app.dataset import ActorKind, EventType, PlaceKind
from app.dates import Precision
from app.errors import ERROR_CONTENT
from app.formats import GroupBy
from app.planner import Sort
from app.versions import ChangeKind

# Named vocabularies: every inline enum with exactly these values becomes a reference.
ENUMS: dict[str, tuple[str, ...]] = {
    "EventType": get_args(EventType),
    "ActorKind": get_args(ActorKind),
    "PlaceKind": get_args(PlaceKind),
    "Precision": get_args(Precision),
    "Match": ("overlap", "within"),
    "Sort": get_args(Sort),
    "GroupBy": get_args(GroupBy),
    "ChangeKind": get_args(ChangeKind),
}
_DESCRIPTIONS = {
    "EventType": "An event type of the controlled vocabulary.",
    "ActorKind": "What kind of actor: a person, party, state, body...",
    "PlaceKind": "What kind of place.",
    "Precision": "Which form an event's EDTF date has.",
    "Match": "`overlap`: the event may fall in the window; `within`: it surely does.",
    "Sort": "`date`: earliest first; `-date`: the exact reverse.",
    "GroupBy": "Rows of a TimelineJS timeline: `none` (one row), or by type, actor or place.",
    "ChangeKind": "What a load did to an event: `added`, `changed` or `removed`.",
}
_STATUSES: dict[str, str] = {
    "304": "Not Modified: the `If-None-Match` ETag is still current; no body.",
    "405": "Any method but GET, HEAD and OPTIONS: the API is read-only.",
    "414": "The query string is longer than 8 KB.",
    "422": "A parameter was refused (unknown, repeated, blank-free but invalid).",
    "503": "The database is not migrated, loaded or reachable yet.",
}


def _share_enums(node: Any, by_values: dict[frozenset[str], str]) -> Any:
    """`node` with every inline copy of a named enum replaced by a reference to it."""
    if isinstance(node, list):
        return [_share_enums(item, by_values) for item in node]
    if not isinstance(node, dict):
        return node
    enum = node.get("enum")
    if isinstance(enum, list) and frozenset(enum) in by_values:
        kept = {k: v for k, v in node.items() if k in ("description", "default", "examples")}
        return {"$ref": f"#/components/schemas/{by_values[frozenset(enum)]}", **kept}
    return {key: _share_enums(value, by_values) for key, value in node.items()}


def _query_parameters(operation: dict[str, Any]) -> None:
    """An array parameter's examples are arrays (`["Kuvvatov"]`, not `"Kuvvatov"`), and a
    query parameter is a value or absent, never `null` (FastAPI's `str | None`). A blank
    value means absent (`app.params`), as `allowEmptyValue` says: `kind=` is accepted,
    although `""` is no kind."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query":
            parameter["allowEmptyValue"] = True
        schema = parameter.get("schema", {})
        options = schema.get("anyOf")
        if isinstance(options, list):
            kept = [option for option in options if option != {"type": "null"}]
            if len(kept) == 1:
                del schema["anyOf"]
                schema.update(kept[0])
                schema["examples"] = [e for e in schema.get("examples", []) if e is not None]
                if not schema["examples"]:
                    del schema["examples"]
        if schema.get("type") == "array" and "examples" in schema:
            schema["examples"] = [
                example if isinstance(example, list) else [example]
                for example in schema["examples"]
            ]


def _declare_statuses(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, description in _STATUSES.items():
        if status == "304" and path == "/health":
            continue  # never cached, never revalidated
        if status not in responses:
            responses[status] = {"description": description}
    if "304" in responses:
        responses["304"]["headers"] = {"ETag": {"schema": {"type": "string"}}}
    if "{" in path and "404" not in responses:
        responses["404"] = {"description": "No such id."}
    for status, response in responses.items():
        if status[:1] in ("4", "5"):
            response["content"] = ERROR_CONTENT
    ok = responses.get("200")
    if ok is not None and path != "/health":
        ok.setdefault("headers", {})["ETag"] = {
            "description": "Names this representation: send it back in `If-None-Match`.",
            "schema": {"type": "string"},
        }


def finish(spec: dict[str, Any]) -> dict[str, Any]:
    """Shared enums, every status, array examples, servers, license and no security (in a
    document `errors.document_errors` has been through)."""
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    by_values = {frozenset(values): name for name, values in ENUMS.items()}
    spec["paths"] = _share_enums(spec.get("paths", {}), by_values)
    components["schemas"] = schemas = _share_enums(schemas, by_values)
    for name, values in ENUMS.items():
        schemas[name] = {
            "type": "string",
            "enum": list(values),
            "title": name,
            "description": _DESCRIPTIONS[name],
        }
    for path, item in spec.get("paths", {}).items():
        for operation in item.values():
            _query_parameters(operation)
            _declare_statuses(path, operation)
    spec["servers"] = [{"url": "/", "description": "This server."}]
    spec["security"] = []
    spec.setdefault("info", {})["license"] = {"name": "MIT", "identifier": "MIT"}
    components["schemas"] = dict(sorted(schemas.items()))
    return spec
