"""Wiring only: settings → services → one FastAPI app (`uvicorn app:build_app --factory`, or `lotse serve`)."""

from __future__ import annotations

from fastapi import FastAPI

from assistant.config import Settings, load_settings
from assistant.services import build_services
from assistant.web.app import create_app


def build_app(settings: Settings | None = None) -> FastAPI:
    return create_app(build_services(settings or load_settings()))
