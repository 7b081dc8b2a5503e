"""The one place that chooses and writes the output format of ArcGIS answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Request, Response, render_template

FORMATS = ("html", "json", "pjson")
_CALLBACK = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*", re.ASCII)
_COMPACT = (",", ":")


ALLOWED = f"Allowed values of f: {', '.join(FORMATS)}."


class FormatError(Exception):
    """An `f` or `callback` value the server does not answer in."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        self.message = message
        self.details = [ALLOWED] if details is None else details
        super().__init__(message)


@dataclass(frozen=True)
class Format:
    """The chosen output: html, json or pjson, and a JSONP callback if asked for."""

    name: str
    callback: str | None = None

    @property
    def is_html(self) -> bool:
        return self.name == "html"


JSON = Format("json")
HTML = Format("html")


def negotiate(request: Request) -> Format:
    """The format a request asks for (query string or form); html by default."""
    values = request.values
    name = (values.get("f") or "html").strip().lower()
    if name not in FORMATS:
        raise FormatError(f"Invalid format '{values.get('f')}'. Allowed values: {', '.join(FORMATS)}.")
    callback = values.get("callback") or None
    if callback is not None:
        if name == "html":
            callback = None
        elif not _CALLBACK.fullmatch(callback) or len(callback) > 128:
            raise FormatError(
                "Invalid callback name.",
                ["callback must be a JavaScript name such as handleJob or ns.handle (letters, digits, _ and $)."],
            )
    return Format(name, callback)


def negotiate_or_json(request: Request) -> Format:
    """The request's format, or compact JSON when it asks for one the server cannot write."""
    try:
        return negotiate(request)
    except FormatError:
        return JSON


def encode(obj: Any, fmt: Format, indent: int = 2) -> bytes:
    """obj as compact (json) or indented (pjson) JSON, without the JSONP wrapper."""
    if fmt.name == "pjson":
        return json.dumps(obj, indent=indent, ensure_ascii=False).encode()
    return json.dumps(obj, separators=_COMPACT, ensure_ascii=False).encode()


def wrap(body: bytes, fmt: Format, status: int = 200) -> Response:
    """A JSON body as the response fmt asks for: plain, or wrapped in its JSONP callback."""
    if fmt.callback:
        payload = fmt.callback.encode() + b"(" + body + b");"
        response = Response(payload, status=status, mimetype="application/javascript")
    else:
        response = Response(body, status=status, mimetype="application/json")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def respond(
    obj: Any,
    fmt: Format,
    html: Callable[[], str] | None = None,
    *,
    indent: int = 2,
    status: int = 200,
) -> Response:
    """obj in fmt; html() renders the page for f=html."""
    if fmt.is_html:
        if html is None:
            return wrap(encode(obj, JSON), JSON, status)
        return Response(html(), status=status, mimetype="text/html")
    return wrap(encode(obj, fmt, indent), fmt, status)


def error_envelope(code: int, message: str, details: list[str] | None = None) -> dict[str, Any]:
    """ArcGIS's error body: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code, "message": message, "details": list(details or [])}}


def error_response(
    code: int,
    message: str,
    fmt: Format,
    details: list[str] | None = None,
    *,
    http_status: int = 200,
    indent: int = 2,
) -> Response:
    """An ArcGIS error in fmt: JSON envelope, or an HTML page with the same code and message."""
    body = error_envelope(code, message, details)

    def page() -> str:
        return render_template("error.html", code=code, message=message, details=details or [])

    return respond(body, fmt, page, indent=indent, status=http_status)
