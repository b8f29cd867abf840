"""Export: the Word document parsed back with python-docx, the Markdown file, and what --out refuses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import docx
import pytest

from assistant.check.export import check_out_path, to_markdown, write_report
from assistant.check.plan import PlanSentence
from assistant.check.report import CheckReport
from assistant.check.texts import rating_label
from assistant.errors import InputError

pytestmark = pytest.mark.slow


def _headings(document: docx.document.Document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def test_docx_has_headings_traffic_light_table_citations_and_bibliography(
    check_reports: dict[str, CheckReport], tmp_path: Path
) -> None:
    report = check_reports["schwach"]
    path = write_report(report, tmp_path / "bericht.docx")
    document = docx.Document(str(path))

    headings = _headings(document)
    assert headings[0] == ("Title", "Verstetigungs-Check: plan-schwach.md")
    h1 = [text for style, text in headings if style == "Heading 1"]
    assert h1[0] == "Übersicht" and h1[-2:] == ["Bausteine für den Antrag", "Literaturverzeichnis"]
    for f in report.factors:
        assert f"{f.label} – {rating_label(f.rating, 'de').upper()}" in h1
    assert {"Was der Plan schon sagt", "Lücken", "Nächste Schritte", "Quellen"} <= {
        text for style, text in headings if style == "Heading 2"
    }

    table = document.tables[0]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Erfolgsfaktor", "Ampel", "Begründung"]
    assert [(r[0], r[1]) for r in rows[1:]] == [(f.label, rating_label(f.rating, "de").upper()) for f in report.factors]
    assert rows[1:][4][2] == report.factor("finanzierung").reason
    fills = [row.cells[1]._tc.xpath("./w:tcPr/w:shd/@w:fill") for row in table.rows[1:]]
    assert all(fill for fill in fills)

    paragraphs = [p.text for p in document.paragraphs]
    start = paragraphs.index("Literaturverzeichnis")
    assert paragraphs[start + 1 : start + 1 + len(report.bibliography)] == [e.text for e in report.bibliography]
    body = "\n".join(paragraphs)
    for f in report.factors:
        for c in f.citations:
            assert f"[{c.n}] " in body and f"„{c.quote}“" in body
        for gap in f.gaps:
            assert gap in body
    for block in report.blocks:
        for s in block.statements:
            assert f"„{s.text}“ [{s.n}]" in body


def test_markdown_report_has_the_same_content(check_reports: dict[str, CheckReport], tmp_path: Path) -> None:
    report = check_reports["mittel"]
    text = write_report(report, tmp_path / "bericht.md").read_text(encoding="utf-8")
    assert text.startswith("# Verstetigungs-Check: plan-mittel.md")
    assert "| Erfolgsfaktor | Ampel | Begründung |" in text
    assert "| Gesicherte Finanzierung | 🟡 gelb |" in text
    for heading in ("## Übersicht", "### Lücken", "### Nächste Schritte", "### Quellen",
                    "## Bausteine für den Antrag", "## Literaturverzeichnis"):
        assert heading in text
    for entry in report.bibliography:
        assert f"- {entry.text}" in text


def test_markdown_neutralises_markup_from_the_plan(check_reports: dict[str, CheckReport]) -> None:
    report = check_reports["schwach"]
    hostile = PlanSentence("<script>alert(1)</script> | # Überschrift? Kosten: 5 <img src=x onerror=alert(1)>", "X <b>")
    factor = dataclasses.replace(report.factors[0], found=[hostile])
    plan = dataclasses.replace(report.plan, name="<b>plan</b>.md")
    text = to_markdown(dataclasses.replace(report, plan=plan, factors=[factor, *report.factors[1:]]))
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_out_paths_are_checked_before_the_work(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.md oder \.docx"):
        check_out_path(tmp_path / "bericht.pdf")
    plan = tmp_path / "plan.md"
    with pytest.raises(InputError, match="überschreiben"):
        check_out_path(plan, plan)
    assert check_out_path(tmp_path / "B.DOCX") == tmp_path / "B.DOCX"
