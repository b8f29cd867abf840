"""Fixtures of the Verstetigungs-Check tests: the sample plans, their generated DOCX/PDF twins, and the three
sample reports over the shared corpus index (computed once per session; checks are the slow part)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

PLANS = ROOT / "examples" / "plans"
PLAN_NAMES = ("gut", "mittel", "schwach")


def make_files() -> ModuleType:
    """examples/plans/make_files.py (not a package: loaded by path)."""
    spec = importlib.util.spec_from_file_location("plan_make_files", PLANS / "make_files.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def plan_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Markdown plans from the repo plus freshly generated DOCX/PDF versions (and an encrypted PDF)."""
    out = tmp_path_factory.mktemp("plans")
    mf = make_files()
    files = {name: PLANS / f"plan-{name}.md" for name in PLAN_NAMES}
    files["mittel.docx"] = mf.make_docx(PLANS / "plan-mittel.md", out / "plan-mittel.docx")
    files["schwach.pdf"] = mf.make_pdf(PLANS / "plan-schwach.md", out / "plan-schwach.pdf")
    files["verschluesselt.pdf"] = mf.make_pdf(PLANS / "plan-schwach.md", out / "geschuetzt.pdf", user_password="geheim")
    return files


@pytest.fixture(scope="session")
def check_reports(corpus_services, plan_files):  # type: ignore[no-untyped-def]
    """The three sample plans checked against the shared corpus index (extractive mode)."""
    from assistant.check import read_plan_file, run_check

    return {name: run_check(corpus_services, read_plan_file(plan_files[name])) for name in PLAN_NAMES}
