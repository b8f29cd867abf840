"""Fixtures for the ingest tests: generated PDFs and the location of the real documents."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest


def _load_factory():
    # Loaded by path so it works under any pytest import mode and never clashes with other helpers.
    name = "_lotse_ingest_pdf_factory"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("pdf_factory.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pdf_factory():
    """The pdf_factory module (make_report_pdf, make_image_only_pdf, hostile byte-level PDFs, ...)."""
    return _load_factory()


@pytest.fixture(scope="session")
def report_pdf(tmp_path_factory, pdf_factory) -> Path:
    return pdf_factory.make_report_pdf(tmp_path_factory.mktemp("pdf") / "bericht.pdf")


REALDOCS_DIR = Path(
    os.environ.get("LOTSE_REALDOCS_DIR", Path(__file__).resolve().parents[3] / "shared" / "realdocs")
)
FACT_SHEETS = REALDOCS_DIR / "best-practice-smart-city"


@pytest.fixture(scope="session")
def realdocs_dir() -> Path:
    """../shared/realdocs (or $LOTSE_REALDOCS_DIR); the tests using it are skipped where it is absent, and fail
    under CI=true (a missing folder must not pass CI quietly)."""
    if not FACT_SHEETS.is_dir():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"real documents missing at {FACT_SHEETS} (CI=true): check out ../shared/realdocs")
        pytest.skip(f"real documents not available at {FACT_SHEETS}")
    return REALDOCS_DIR


@pytest.fixture(scope="session")
def loaded_fact_sheets(realdocs_dir):
    """All seven fact sheets loaded once through load_file: {file name: LoadedDocument}."""
    from ingest.loaders import load_file

    return {p.name: load_file(p) for p in sorted((realdocs_dir / "best-practice-smart-city").glob("*.pdf"))}
