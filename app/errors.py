"""Small exception classes, and the handlers that turn them into one JSON error shape.

Code raises `NotFound`, `InvalidParameter` or `DatasetError`; only this module builds HTTP
responses, so every error body has the same shape: `{"status", "error", "message", "details"}`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.yamlfile import LineDict, line_of

logger = logging.getLogger("app")


@dataclass(frozen=True)
class DatasetError:
    """One problem in the YAML dataset, located as precisely as the input allows."""

    file: str
    line: int | None
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.entry is not None:
            parts.append(f"entry {self.entry!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ": ".join([*parts, self.message])


def field_path(loc: Iterable[int | str]) -> str:
    """A place in a record as `DatasetError.field` names it: `citations[0].quote`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def error_at(
    file: str, raw: LineDict, entry: str, loc: list[int | str], message: str
) -> DatasetError:
    """A problem at `loc` in a record as written: on the line of as much of `loc` as exists."""
    return DatasetError(file, line_of(raw, loc, raw.line), entry, field_path(loc), message)


def short(message: str) -> str:
    """At most 300 characters: a message quoting the input stays readable."""
    return message if len(message) <= 300 else message[:297] + "..."


class InvalidDataset(Exception):
    """The dataset has problems; all of them are listed, not just the first."""

    def __init__(self, errors: Sequence[DatasetError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class NotFound(Exception):
    """An id in the URL names nothing."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"{kind} {identifier!r} not found")


class InvalidParameter(Exception):
    """A query parameter that parses but cannot be answered (bad date, cursor, window)."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")


def error_body(
    status: int, error: str, message: str, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The one error shape every status shares."""
    return {"status": status, "error": error, "message": message, "details": details or []}


def invalid_parameters(details: list[dict[str, str]]) -> dict[str, Any]:
    """The 422 body for refused parameters: each in `details`, all of them in the message."""
    message = "; ".join(f"{d['parameter']}: {d['message']}" for d in details)
    return error_body(422, "invalid_parameter", message, details)


def _response(
    status: int, error: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, error, message), status_code=status, headers=headers)


_REASONS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    414: "uri_too_long",
    422: "invalid_parameter",
    503: "unavailable",
    431: "headers_too_large",
}


def _location(loc: Sequence[Any]) -> str:
    # FastAPI locations look like ("query", "limit") or ("path", "event_id"); a repeated
    # parameter's item adds its index ("query", "type", 1), which names no parameter.
    parts = [
        str(part)
        for part in loc
        if part not in ("query", "path", "header", "body") and not isinstance(part, int)
    ]
    return ".".join(parts) or "request"


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "parameter": _location(err.get("loc", ())),
            "message": str(err.get("msg", "")).removeprefix("Value error, "),
        }
        for err in exc.errors()
    ]
    return JSONResponse(invalid_parameters(details), status_code=422)


async def _invalid_parameter(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidParameter)
    details = [{"parameter": exc.parameter, "message": exc.message}]
    return JSONResponse(invalid_parameters(details), status_code=422)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return _response(404, "not_found", str(exc))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if status == 404 and message == "Not Found":
        message = "no such path"
    return _response(status, _REASONS.get(status, "error"), message, exc.headers)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("database error: %s", exc)
    message = (
        "the database is not ready; run `timeline migrate` and `timeline load`, "
        "or try again shortly"
    )
    return _response(503, "unavailable", message)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # Last resort: log the details for operators, tell the client nothing internal.
    logger.exception("unhandled error", exc_info=exc)
    return _response(500, "internal_error", "the server could not answer this request")


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Declare every 4xx/5xx response in an OpenAPI document as our JSON error shape."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if status[:1] in ("4", "5"):
                    response["content"] = ERROR_CONTENT
    schemas = spec.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception the app can raise to its JSON response."""
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(InvalidParameter, _invalid_parameter)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
