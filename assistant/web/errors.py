"""One place that maps errors to HTTP statuses and a JSON body with German and English text.

The text is `assistant.errors.public_error`'s, the same the web UI and the CLI show for the same failure.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from assistant.errors import (
    ConfigError,
    ConflictError,
    EmbeddingError,
    FileTooLargeError,
    IndexError_,
    IndexLockedError,
    IngestError,
    InputError,
    LLMError,
    LotseError,
    NotFoundError,
    RateLimitError,
    RetrievalError,
    StoreUnavailableError,
    UnsupportedFormatError,
    public_error,
)

log = logging.getLogger(__name__)

STATUS: list[tuple[type[LotseError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (InputError, 400),
    (FileTooLargeError, 413),
    (UnsupportedFormatError, 415),
    (IngestError, 422),  # a document the editors sent that cannot be indexed; the index is unchanged
    (IndexLockedError, 409),
    (RateLimitError, 429),
    (StoreUnavailableError, 503),
    (IndexError_, 503),
    (EmbeddingError, 503),
    (RetrievalError, 503),
    (LLMError, 502),
    (ConfigError, 500),
    (LotseError, 500),
]


def status_for(error: BaseException) -> int:
    return next((code for cls, code in STATUS if isinstance(error, cls)), 500)


def error_payload(error: BaseException, lang: str = "de") -> dict[str, Any]:
    """The JSON error body; backend failures show their short public text and a bug the internal-error text
    (the details go to the log)."""
    if not isinstance(error, LotseError):
        log.error("unexpected error", exc_info=error)
    elif error.public_text is not None:
        log.warning("%s: %s", error.code, error.message)
    public = public_error(error)
    return {"error": public.text(lang), "error_en": public.en, "code": public.code}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LotseError)
    async def lotse_error(request: Request, exc: LotseError) -> JSONResponse:
        headers = {"Retry-After": "10"} if isinstance(exc, RateLimitError) else None
        return JSONResponse(error_payload(exc), status_code=status_for(exc), headers=headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Starlette still re-raises after sending this (the server logs it); the client gets the same JSON shape.
        return JSONResponse(error_payload(exc), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in err["loc"] if p != "body") or "body" for err in exc.errors())
        return JSONResponse(
            {
                "error": f"Ungültige Anfrage: bitte Felder prüfen ({fields}). Fragen dürfen höchstens die erlaubte "
                "Länge haben; unbekannte Felder sind nicht erlaubt.",
                "error_en": f"Invalid request: check the fields ({fields}).",
                "code": "invalid_request",
            },
            status_code=422,
        )
