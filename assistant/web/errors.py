"""One place that maps Lotse errors to HTTP statuses and a JSON body with German and English text."""

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


def status_for(error: LotseError) -> int:
    return next(code for cls, code in STATUS if isinstance(error, cls))


def error_payload(error: LotseError, lang: str = "de") -> dict[str, Any]:
    """The JSON error body; backend failures show their short public text (the details go to the log)."""
    if error.public_text is not None:
        log.warning("%s: %s", error.code, error.message)
    return {"error": error.public(lang), "error_en": error.public("en"), "code": error.code}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LotseError)
    async def lotse_error(request: Request, exc: LotseError) -> JSONResponse:
        headers = {"Retry-After": "10"} if isinstance(exc, RateLimitError) else None
        return JSONResponse(error_payload(exc), status_code=status_for(exc), headers=headers)

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
