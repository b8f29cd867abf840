"""Verstetigungs-Check: a project plan against the five success factors, with cited gaps, next steps,
building blocks for the application and export (Markdown, DOCX).

Modules: ``plan`` (reading plans), ``criteria`` (the editable criteria file), ``assess`` (detection, rating,
guidance), ``summary`` (optional LLM summaries), ``blocks`` (building blocks, bibliography), ``report`` (the
service and its text form), ``export`` (Markdown, DOCX), ``texts`` (the report's words in German and English).
Front ends call in from above: ``lotse check`` in ``assistant.commands``, ``assistant.web.ui_check`` for the
web UI and ``/api/check`` in ``assistant.web.api``.
"""

from __future__ import annotations

from assistant.check.blocks import BuildingBlock, build_block
from assistant.check.criteria import CheckConfig, load_config
from assistant.check.plan import Plan, PlanLimits, plan_from_text, read_plan_bytes, read_plan_file
from assistant.check.report import CheckReport, render_text, run_check

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
]

