"""What the guard (`assistant.web.guard`) answers itself, and the headers every response gets.

Refusals are JSON on the API paths (German ``error``, English ``error_en``, a ``code``) and plain text for people
elsewhere; each carries the security headers, so nothing of ours may be framed, refusals included.
"""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.datastructures import MutableHeaders

from assistant.chat import BUSY
from assistant.web.security import FRAME_ANCESTORS, SECURITY_HEADERS, host_name

#: The API's paths: refusals there are JSON, and cross-origin reads follow the origin allow-list.
PUBLIC_PREFIXES = ("/api/", "/v1/")


def rate_limited(wait: float) -> Response:
    seconds = int(wait) + 1
    response = JSONResponse(
        {
            "error": f"Zu viele Anfragen. Bitte in {seconds} Sekunden erneut versuchen.",
            "error_en": f"Too many requests. Please try again in {seconds} seconds.",
            "code": "rate_limited",
        },
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )
    harden(response.headers)
    return response


def busy() -> Response:
    de, en = BUSY
    response = JSONResponse({"error": de, "error_en": en, "code": "busy"}, status_code=429,
                            headers={"Retry-After": "5"})
    harden(response.headers)
    return response


def host_refusal(host: str | None, path: str) -> Response:
    """400 for a host name that is not ours: JSON on the API, a plain sentence for people elsewhere.

    The name is shown so an administrator sees what to add; only its parsed, harmless form is echoed.
    """
    name = host_name(host)
    shown = f"„{name[:100]}“" if name else "(fehlt oder ungültig)"
    shown_en = f"'{name[:100]}'" if name else "(missing or invalid)"
    error = (
        f"Der Verstetigungslotse ist unter dem Hostnamen {shown} nicht erreichbar. Bitte die übliche Adresse "
        "verwenden. Administration: den Namen in LOTSE_ALLOWED_HOSTS eintragen."
    )
    error_en = (
        f"The Verstetigungslotse does not answer under the host name {shown_en}. Please use its usual address. "
        "Administrators: add the name to LOTSE_ALLOWED_HOSTS."
    )
    response: Response
    if path.startswith(PUBLIC_PREFIXES):
        response = JSONResponse({"error": error, "error_en": error_en, "code": "host_not_allowed"}, status_code=400)
    else:
        response = PlainTextResponse(f"{error}\n\n{error_en}\n", status_code=400)
    harden(response.headers)
    return response


def harden(headers: MutableHeaders) -> None:
    """Security headers on every response, early refusals included: nothing of ours may be framed."""
    for key, value in SECURITY_HEADERS.items():
        headers.setdefault(key, value)
    csp = headers.get("Content-Security-Policy")
    headers["Content-Security-Policy"] = f"{csp}; {FRAME_ANCESTORS}" if csp else FRAME_ANCESTORS


def no_cors(headers: MutableHeaders) -> None:
    """No cross-origin reads of the UI, the editors' page or documents.

    gradio grants every origin credentialed CORS (``Access-Control-Allow-Origin: <origin>`` with
    ``-Credentials: true``) whenever the host is not localhost. Its login cookie is ``SameSite=None``, so any
    website opened by a logged-in editor could read the feedback through the editor's browser. Our pages only
    talk to their own origin and need no CORS at all.
    """
    for key in {k for k in headers if k.lower().startswith("access-control-")}:
        del headers[key]


def cors(headers: MutableHeaders, origin: str | None) -> None:
    if origin is None:
        return
    headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"
    headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    headers["Access-Control-Allow-Headers"] = "Content-Type"
    headers["Access-Control-Max-Age"] = "600"


def with_headers(send, path: str, public: bool, cors_origin: str | None):  # type: ignore[no-untyped-def]
    """``send`` that adds the security headers to the response, CORS on the public API and none elsewhere."""

    async def send_with_headers(message):  # type: ignore[no-untyped-def]
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            harden(headers)
            if public:
                cors(headers, cors_origin)
            else:
                no_cors(headers)
            if path == "/widget.js":
                # The widget is loaded by foreign pages by design; it holds no secret.
                headers["Cross-Origin-Resource-Policy"] = "cross-origin"
                headers["Cache-Control"] = "public, max-age=300"
        await send(message)

    return send_with_headers
