"""Who may drive the control API and the dashboard (SPEC section 10).

Bound to a loopback address, a request must name a loopback host or the bound address (no
DNS rebinding), and control-API writes must be JSON, which no page of another site can send
without a CORS preflight (and mockjobs answers no preflight). Bound elsewhere, the control
API and the dashboard need the control token (``Authorization: Bearer T``) unless the
server was started open.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, render_template, request

from .errors import MockjobsError

CONTROL_PREFIX = "/__mock"
DASHBOARD_PATHS = frozenset({"/", "/favicon.ico"})
PAGE_PREFIXES = ("/scenarios/",)  # the pages for people beside the dashboard (mockjobs.pages); /static stays open
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# Content types a control-API write may carry; none of them is CORS-safelisted, so a page of
# another site cannot send them without a preflight. YAML only where a scenario is posted.
JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
TOKEN_COOKIE = "mockjobs_control_token"  # read by the dashboard page only (GET), never by a write


def is_loopback(host: str) -> bool:
    """Whether host (a name or an address, with or without [brackets]) is this machine's loopback."""
    name = host.strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _hostname(header: str) -> str:
    """The host of a Host header, without its port."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def check_settings(cfg: Mapping[str, Any]) -> None:
    """Refuse to build an app whose control API would be open to the network by accident."""
    token = cfg.get("CONTROL_TOKEN") or ""
    if not is_loopback(str(cfg["HOST"])) and not token and not cfg.get("CONTROL_OPEN"):
        raise MockjobsError(
            f"bound to {cfg['HOST']}, anyone who reaches it could drive the control API:"
            " give --control-token TOKEN (clients send Authorization: Bearer TOKEN), or --control-open"
        )


def install(app: Flask) -> None:
    """Guard the control API and the dashboard of app as its HOST, CONTROL_TOKEN and CONTROL_OPEN say."""
    bound = str(app.config["HOST"])
    loopback = is_loopback(bound)
    token = str(app.config.get("CONTROL_TOKEN") or "")
    check_settings(app.config)

    @app.before_request
    def guard() -> Response | tuple[Response, int] | None:
        path = request.path
        control = path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
        if not control and path not in DASHBOARD_PATHS and not path.startswith(PAGE_PREFIXES):
            return None
        if loopback:
            host = _hostname(request.host)
            if not (is_loopback(host) or host == bound.strip("[]").lower()):
                return _refuse(
                    403,
                    f"Host {request.host[:100]!r} is not this server's name: this mock answers its control API"
                    f" and dashboard only to localhost, 127.0.0.1, [::1] or {bound} (a guard against DNS rebinding)",
                )
        if token and not _has_token(token, cookie_ok=not control and request.method == "GET"):
            if not control and request.method == "GET" and request.accept_mimetypes.accept_html:
                page = Response(render_template("control_token.html", cookie=TOKEN_COOKIE), 401)
                page.headers["WWW-Authenticate"] = 'Bearer realm="mockjobs control"'
                return page  # a person's browser: a form that keeps the token (cookie) and reloads
            response, status = _refuse(
                401,
                "this server's control API needs its token: send Authorization: Bearer <token>"
                " (the --control-token it was started with)",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="mockjobs control"'
            return response, status
        if control and request.method == "POST" and request.mimetype not in _allowed_types(path):
            shown = request.mimetype or "none"
            return _refuse(
                415,
                f"control-API writes are JSON: send Content-Type: application/json (a body of {{}} where nothing"
                f" else is needed{'; a scenario may also be application/yaml' if _is_scenarios(path) else ''}),"
                f" not {shown}",
            )
        return None


def _is_scenarios(path: str) -> bool:
    return path.rstrip("/") == CONTROL_PREFIX + "/scenarios"


def _allowed_types(path: str) -> frozenset[str]:
    return JSON_TYPES | YAML_TYPES if _is_scenarios(path) else JSON_TYPES


def _has_token(token: str, *, cookie_ok: bool) -> bool:
    """Whether the request carries the control token (as a Bearer header; for a page view, also the cookie)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(TOKEN_COOKIE, "") if cookie_ok else ""
    return bool(cookie) and hmac.compare_digest(cookie.encode(), token.encode())


def _refuse(status: int, message: str) -> tuple[Response, int]:
    """A JSON error; 401 carries tokenRequired, the signal for the dashboard to ask for the token."""
    body: dict[str, Any] = {"error": message}
    if status == 401:
        body["tokenRequired"] = True
    return jsonify(body), status
