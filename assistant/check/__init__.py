"""Verstetigungs-Check: a project plan against the five success factors, with cited gaps, next steps,
building blocks for the application and export (Markdown, DOCX).

Modules: ``plan`` (reading plans), ``criteria`` (the editable criteria file), ``assess`` (detection, rating,
guidance), ``summary`` (optional LLM summaries), ``blocks`` (building blocks, bibliography), ``report`` (the
service and its text form), ``export`` (Markdown, DOCX). Front ends: ``run_check_cli`` here,
``assistant.web.ui_check`` for the web UI.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from assistant.check.blocks import BuildingBlock, build_block
from assistant.check.criteria import CheckConfig, load_config
from assistant.check.plan import Plan, PlanLimits, plan_from_text, read_plan_bytes, read_plan_file
from assistant.check.report import CheckReport, render_text, run_check
from assistant.check.texts import tr

if TYPE_CHECKING:
    from assistant.config import Settings

__all__ = [
    "BuildingBlock",
    "CheckConfig",
    "CheckReport",
    "Plan",
    "PlanLimits",
    "build_block",
    "load_config",
    "plan_from_text",
    "read_plan_bytes",
    "read_plan_file",
    "render_text",
    "run_check",
    "run_check_cli",
]


def run_check_cli(args: argparse.Namespace, settings: Settings) -> int:
    """`lotse check PLAN_FILE [--out FILE.md|FILE.docx] [--json] [--topic T ...] [--lang en]`."""
    import sys

    from assistant.check.export import check_out_path, write_report
    from assistant.cli import EXIT_OK, _emit
    from assistant.services import build_services

    out = getattr(args, "out", None)
    if out is not None:
        check_out_path(out, args.plan)  # refuse a bad --out before the slow part
    plan = read_plan_file(args.plan)
    services = build_services(settings)
    topics = getattr(args, "topic", None) or None
    if isinstance(topics, str):
        topics = [topics]
    lang = "en" if getattr(args, "lang", "de") == "en" else "de"
    report = run_check(services, plan, topics=topics, lang=lang)
    written = write_report(report, out) if out is not None else None

    def human() -> None:
        sys.stdout.write(render_text(report) + "\n")
        if written is not None:
            sys.stdout.write(f"\n{tr(lang, 'saved', path=written)}\n")

    payload = report.to_contract()
    if written is not None:
        payload["out"] = str(written)
    _emit(args, payload, human)
    return EXIT_OK
