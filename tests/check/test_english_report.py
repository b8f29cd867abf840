"""English all the way for the check (issue 16, part 3): with ``lang="en"`` the report's own words are English
in the text report, Markdown, DOCX, JSON labels and the web tab's HTML; plan sentences and quotes stay as written,
the JSON codes stay, and German stays the default."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import docx
import pytest

from assistant.check import read_plan_file, run_check
from assistant.check.export import to_docx, to_markdown
from assistant.check.report import CheckReport, render_text
from assistant.check.texts import FACTOR_LABELS_EN
from assistant.cli import main
from assistant.types import FACTORS
from assistant.web.ui_check import render_report_html

pytestmark = pytest.mark.slow

#: Words of the German report that must not appear in an English one (plan sentences and quotes aside).
GERMAN_REPORT_WORDS = (
    "Lücken", "Nächste Schritte", "Kriterien", "Was der Plan schon sagt", "Literaturverzeichnis", "Bausteine",
    "Erfolgsfaktor", "Begründung", "Fehlt:", "Nur vage:", "belegt durch", "Erstellt am", "Quellen", "Hinweis",
    "(kritisch)", "von 5 Kriterien", "o. J.", "o. V.",
)


@pytest.fixture(scope="module")
def english(corpus_services, plan_files) -> CheckReport:  # type: ignore[no-untyped-def]
    return run_check(corpus_services, read_plan_file(plan_files["schwach"]), lang="en")


def _without_quotes(text: str) -> str:
    """The report's own words: everything outside „…“ quotes (plan sentences, corpus quotes, titles)."""
    return re.sub(r"„[^“]*“", "", text)


def _own_words(report: CheckReport, text: str) -> str:
    """``text`` without the pieces that stay in the documents' language (quotes, titles, topics, file names)."""
    text = _without_quotes(text)
    for c in report.all_citations():
        for piece in (c.title, c.publisher, c.source, c.section or ""):
            if piece:
                text = text.replace(piece, "")
    for b in report.blocks:
        text = text.replace(b.topic, "")
    return text


def test_english_report_has_english_words_and_the_same_findings(english: CheckReport, check_reports) -> None:  # type: ignore[no-untyped-def]
    german = check_reports["schwach"]
    assert german.lang == "de" and english.lang == "en"
    # Same detection, same ratings, same sources: only the words change.
    assert [f.rating for f in english.factors] == [f.rating for f in german.factors]
    assert [[c.status for c in f.criteria] for f in english.factors] == [
        [c.status for c in f.criteria] for f in german.factors
    ]
    assert [c.quote for c in english.all_citations()] == [c.quote for c in german.all_citations()]
    for f in english.factors:
        assert f.label == FACTOR_LABELS_EN[f.factor]
        assert f.reason.startswith({"rot": "Red", "gelb": "Yellow", "gruen": "Green"}[f.rating]), f.reason
        for gap in f.gaps:
            assert gap.startswith(("Missing: ", "Only vague: ")), gap
        en_steps = {c.criterion.step_en for c in f.criteria}
        for step in f.steps:
            assert re.sub(r" \[\d+\]$", "", step) in en_steps, step
    finance = english.factor("finanzierung")
    assert finance.rating == "rot"
    assert "Red because a critical criterion is missing" in finance.reason
    assert any("Source of funding after the funding ends named (critical)" in g for g in finance.gaps)


def test_text_markdown_and_html_are_english(english: CheckReport) -> None:
    text = render_text(english)
    assert text.startswith("Plan check: plan-schwach.md")
    assert "Traffic light per success factor:" in text and "RED     Secured funding" in text
    assert "Gaps:" in text and "Next steps:" in text and "Bibliography" in text
    md = to_markdown(english)
    assert "## Overview" in md and "| Success factor | Traffic light | Reason |" in md
    assert "### What the plan already says" in md and "### Criteria" in md
    html = render_report_html(english)
    assert 'lang="en"' in html and "<h4>Gaps</h4>" in html and "Open document" in html
    for rendered in (text, md, html):
        own = _own_words(english, rendered)
        found = [w for w in GERMAN_REPORT_WORDS if w in own]
        assert not found, found


def test_docx_is_english(english: CheckReport) -> None:
    document = docx.Document(io.BytesIO(to_docx(english)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == "Plan check: plan-schwach.md"
    assert "Overview" in headings and "Bibliography" in headings and "Next steps" in headings
    assert f"{FACTOR_LABELS_EN['finanzierung']} – RED" in headings
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert rows[0] == ["Success factor", "Traffic light", "Reason"]
    assert document.core_properties.language == "en"


def test_json_labels_are_english_and_codes_stay(english: CheckReport) -> None:
    payload = english.to_contract()
    assert payload["lang"] == "en"
    assert [f["factor"] for f in payload["factors"]] == list(FACTORS)
    for f in payload["factors"]:
        assert f["rating"] in ("gruen", "gelb", "rot")
        assert f["rating_label"] in ("green", "yellow", "red")
        for c in f["criteria"]:
            assert c["status"] in ("erfuellt", "vage", "fehlt")
            assert c["label"] and not any(ch in c["label"] for ch in "äöüß"), c["label"]
    for entry in payload["bibliography"]:
        assert "o. J." not in entry["text"] and "S. " not in entry["text"], entry


def test_german_stays_the_default(check_reports) -> None:  # type: ignore[no-untyped-def]
    report = check_reports["schwach"]
    payload = report.to_contract()
    assert payload["lang"] == "de"
    assert payload["factors"][4]["rating_label"] == "rot"
    text = render_text(report)
    assert text.startswith("Verstetigungs-Check: plan-schwach.md") and "Lücken:" in text
    assert "Rot, weil ein kritisches Kriterium fehlt" in report.factor("finanzierung").reason


def test_cli_lang_en(corpus_index_dir: Path, plan_files, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.md"
    assert main(["check", str(plan_files["mittel"]), "--index", str(corpus_index_dir), "--lang", "en", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "YELLOW  Secured funding" in text
    assert "Only vague: Source of funding after the funding ends named (critical) – „soll geprüft werden“" in text
    assert f"Report saved: {out}" in text
    assert out.read_text(encoding="utf-8").startswith("# Plan check: plan-mittel.md")
    assert main(["check", str(plan_files["mittel"]), "--index", str(corpus_index_dir), "--lang", "en", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    finance = payload["factors"][4]
    assert finance["rating"] == "gelb" and finance["rating_label"] == "yellow" and finance["label"] == "Secured funding"
