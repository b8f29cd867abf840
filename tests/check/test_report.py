"""The check over the shared corpus index: ratings, cited gaps and steps, verified citations, building blocks,
bibliography, the `lotse check` JSON contract, LLM summaries, and that plans never reach the index."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from assistant.check import build_block, load_config, read_plan_file, run_check
from assistant.check.blocks import bibliography, format_pages
from assistant.check.guidance import is_statement
from assistant.check.report import CheckReport
from assistant.cli import main
from assistant.errors import LLMTimeoutError, LLMUnavailableError
from assistant.prompts import CANARY
from assistant.types import FACTORS, Citation
from tests.check.fakes import FakeChatModel

pytestmark = pytest.mark.slow

REF = re.compile(r"\[(\d+)\]")
CONTRACT_CITATION_KEYS = {"n", "source", "title", "page", "section", "quote", "publisher", "year", "url"}


def verify(citation: Citation, store) -> None:  # type: ignore[no-untyped-def]
    """The quote is a verbatim substring of a live chunk of the cited document, on the cited page."""
    chunks = store.chunks_of(citation.doc_id)
    assert chunks, f"{citation.source} not in the index"
    assert any(citation.quote in c.text and c.page == citation.page and c.section == citation.section for c in chunks), (
        citation.source, citation.page, citation.quote)


def test_weak_plan_is_red_where_it_ignores_financing_and_responsibilities(check_reports: dict[str, CheckReport]) -> None:
    report = check_reports["schwach"]
    for factor in ("finanzierung", "zustaendigkeiten"):
        f = report.factor(factor)
        assert f.rating == "rot"
        assert "kritisches Kriterium fehlt" in f.reason
        assert f.gaps and f.steps and f.citations
    assert report.factor("zustaendigkeiten").found == []


def test_good_plan_is_mostly_green_and_medium_plan_yellow_where_vague(check_reports: dict[str, CheckReport]) -> None:
    good = [f.rating for f in check_reports["gut"].factors]
    assert good.count("gruen") >= 4 and "rot" not in good
    medium = {f.factor: f.rating for f in check_reports["mittel"].factors}
    assert list(medium.values()).count("gelb") >= 2 and medium["kommunikation"] == "gruen"


def test_every_statement_is_cited_and_every_citation_verifies(check_reports: dict[str, CheckReport], corpus_services) -> None:  # type: ignore[no-untyped-def]
    store = corpus_services.store
    for name, report in check_reports.items():
        for f in report.factors:
            numbers = {c.n for c in f.citations}
            assert [c.n for c in f.citations] == list(range(1, len(f.citations) + 1))
            for statement in f.gaps + f.steps:
                cited = {int(n) for n in REF.findall(statement)}
                assert cited and cited <= numbers, (name, f.factor, statement)
            for text, n in f.guidance:
                assert n in numbers
                assert text == f.citations[n - 1].quote or text in f.citations[n - 1].quote
            for c in f.citations:
                verify(c, store)
                assert c.page is None or c.page >= 1
            for s in f.found:
                assert s.text in report.plan.text  # the plan side is quoted verbatim too
        assert report.blocks, name
        for block in report.blocks:
            assert block.statements
            for s in block.statements:
                verify(dataclasses.replace(block.citations[s.n - 1], quote=s.text), store)
            for c in block.citations:
                verify(c, store)


def test_pdf_sources_are_cited_with_pages_and_listed_in_the_bibliography(check_reports: dict[str, CheckReport]) -> None:
    report = check_reports["schwach"]
    cited = report.all_citations()
    assert any(c.source.endswith(".pdf") and c.page for c in cited)
    texts = [e.text for e in report.bibliography]
    assert len(texts) == len({c.doc_id for c in cited})
    for entry in report.bibliography:
        assert re.fullmatch(r".+ \((\d{4}|o\. J\.)\): .+\.( (S\. [\d–, ]+|Abschnitte? „.+“)\.)?", entry.text), entry.text
        pages = {c.page for c in cited if c.doc_id and c.source == entry.source and c.page}
        assert set(entry.pages) == pages
        if pages:
            assert format_pages(pages) in entry.text


def test_building_blocks_for_a_known_and_a_free_topic(corpus_services) -> None:  # type: ignore[no-untyped-def]
    config = load_config()
    block = build_block(corpus_services.retriever, "betreibermodell", config=config)
    assert block.topic == "Betreibermodell" and block.factor == "zustaendigkeiten"
    assert 2 <= len(block.statements) <= 5
    assert "Betreibermodell" in block.as_text() and "[1]" in block.as_text()
    free = build_block(corpus_services.retriever, "Open Data Lizenz", config=config)
    assert free.factor is None and free.statements
    for b in (block, free):
        for c in b.citations:
            verify(c, corpus_services.store)
        assert [e.text for e in bibliography(b.citations)]


@pytest.mark.parametrize("topic", ["Anschlussfinanzierung", "Betreibermodell", "Wirkungsindikatoren"])
def test_building_blocks_hold_only_statements_an_application_can_quote(corpus_services, topic: str) -> None:  # type: ignore[no-untyped-def]
    """No document titles or subtitles (they share the topic's words and used to crowd out real statements), no
    sentences about their own document ("Dieser Leitfaden zeigt …")."""
    block = build_block(corpus_services.retriever, topic, config=load_config())
    assert len(block.statements) >= 3, block.as_text()
    for statement in block.statements:
        assert is_statement(statement.text), statement.text
        assert not statement.text.startswith(("Dieser ", "Diese ", "Dieses ")), statement.text
    for c in block.citations:
        verify(c, corpus_services.store)


def test_explicit_topics_replace_the_default_blocks(corpus_services, plan_files) -> None:  # type: ignore[no-untyped-def]
    report = run_check(corpus_services, read_plan_file(plan_files["gut"]), topics=["Wirkungsindikatoren"])
    assert [b.topic for b in report.blocks] == ["Wirkungsindikatoren"]
    assert all(not f.gaps for f in report.factors if f.rating == "gruen")


def test_cli_json_matches_the_interface_contract(corpus_index_dir: Path, plan_files, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bericht.docx"
    code = main(["check", str(plan_files["schwach.pdf"]), "--index", str(corpus_index_dir), "--json", "--out", str(out)])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert [f["factor"] for f in payload["factors"]] == list(FACTORS)
    for f in payload["factors"]:
        assert {"factor", "rating", "found", "gaps", "steps", "citations"} <= set(f)
        assert f["rating"] in ("gruen", "gelb", "rot")
        assert all(isinstance(x, str) for x in f["found"] + f["gaps"] + f["steps"])
        for c in f["citations"]:
            assert set(c) >= CONTRACT_CITATION_KEYS  # the contract allows additional keys
            assert isinstance(c["n"], int) and c["quote"] and c["url"].startswith("/documents/")
    ratings = {f["factor"]: f["rating"] for f in payload["factors"]}
    assert ratings["finanzierung"] == ratings["zustaendigkeiten"] == "rot"
    assert payload["bibliography"] and payload["blocks"] and payload["out"] == str(out)
    assert out.stat().st_size > 10_000


def test_cli_errors_are_one_german_json_object(corpus_index_dir: Path, plan_files, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exe = tmp_path / "plan.pdf"
    exe.write_bytes(b"MZ" + b"\x00" * 100)
    assert main(["check", str(exe), "--index", str(corpus_index_dir), "--json"]) == 1
    err = json.loads(capsys.readouterr().out)
    assert err["code"] == "parse_error" and "keine PDF-Datei" in err["error"]

    assert main(["check", str(plan_files["gut"]), "--index", str(corpus_index_dir), "--json", "--out", "x.pdf"]) == 1
    err = json.loads(capsys.readouterr().out)
    assert err["code"] == "input_error" and ".md oder .docx" in err["error"]

    assert main(["check", str(plan_files["verschluesselt.pdf"]), "--index", str(corpus_index_dir)]) == 1
    assert "passwortgeschützt" in capsys.readouterr().err


def test_human_output_shows_lights_reasons_and_sources(corpus_index_dir: Path, plan_files, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", str(plan_files["mittel.docx"]), "--index", str(corpus_index_dir)]) == 0
    text = capsys.readouterr().out
    assert "GELB   Gesicherte Finanzierung" in text
    assert "Nur vage: Finanzierungsquelle nach Förderende benannt (kritisch) – „soll geprüft werden“" in text
    assert "Bausteine für den Antrag" in text and "Literaturverzeichnis" in text


def test_plans_are_never_added_to_the_index(corpus_copy: Path, embedder, plan_files) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_services

    services = make_services(corpus_copy, embedder)
    docs, chunks = services.store.documents(), services.store.count()
    files = sorted(p.name for p in services.settings.files_dir.iterdir())
    for key in ("gut", "mittel.docx", "schwach.pdf"):
        run_check(services, read_plan_file(plan_files[key]))
    services.store.reopen()
    assert services.store.documents() == docs
    assert services.store.count() == chunks
    assert sorted(p.name for p in services.settings.files_dir.iterdir()) == files
    sources = {d.source for d in docs.values()}
    assert not any("plan-" in s or "Eichstetten" in s for s in sources)
    hits = services.retriever.retrieve("Baumpate Eichstetten Gießpatenschaften", k=10).hits
    assert not any("Eichstetten" in h.chunk.text for h in hits)


# --- LLM summaries -----------------------------------------------------------------------------------------


def _with_model(services, model):  # type: ignore[no-untyped-def]
    return dataclasses.replace(services, chat_model=model)


def test_llm_summaries_are_checked_like_chat_answers(corpus_services, plan_files) -> None:  # type: ignore[no-untyped-def]
    model = FakeChatModel(default="Die Kommune sollte die Finanzierung nach Förderende klären [2]. Siehe auch [9].")
    report = run_check(_with_model(corpus_services, model), read_plan_file(plan_files["schwach"]))
    assert report.mode == "llm"
    # One request judges the criteria (it reads the plan; its reply here has no verified quote, so nothing
    # changes), then one summary per factor, which sees the sources only, never the plan text.
    assert len(model.history) == 6
    assert "<plan>" in model.history[0][-1]["content"]
    summaries = [h[-1]["content"] for h in model.history[1:]]
    assert all("<quellen>" in p and "Eichstetten" not in p and "<plan>" not in p for p in summaries)
    assert all(c.judged_by == "extraktiv" for f in report.factors for c in f.criteria)
    for f in report.factors:
        assert f.summary is not None
        assert "[9]" not in f.summary  # no such source: removed
        numbers = {int(n) for n in REF.findall(f.summary)}
        assert numbers and numbers <= {c.n for c in f.citations}



def test_an_english_report_asks_for_an_english_summary(corpus_services, plan_files) -> None:  # type: ignore[no-untyped-def]
    model = FakeChatModel(default="The municipality should settle the funding after the grant ends [1].")
    report = run_check(_with_model(corpus_services, model), read_plan_file(plan_files["schwach"]), lang="en")
    prompts = [h[-1]["content"] for h in model.history[1:]]
    assert prompts and all(p.rstrip().endswith("Answer in English.") for p in prompts)
    tasks = [p.split("<frage>")[1] for p in prompts]  # the sources before it are German documents
    assert all("success factor" in t and "Erfolgsfaktor" not in t and "fehlt" not in t for t in tasks)
    assert any("missing" in t for t in tasks)  # the weak plan has open points, named in English
    assert all(f.summary and f.summary.startswith("The municipality") for f in report.factors)
    german = _with_model(corpus_services, FakeChatModel(default="Die Kommune sollte klären [1]."))
    run_check(german, read_plan_file(plan_files["schwach"]))
    assert german.chat_model.history[1][-1]["content"].rstrip().endswith("Antworte auf Deutsch.")

def test_llm_failures_fall_back_silently_to_the_extractive_report(corpus_services, plan_files) -> None:  # type: ignore[no-untyped-def]
    model = FakeChatModel(default=LLMUnavailableError("Sprachmodell nicht erreichbar."))
    model.enqueue(
        "Kein JSON, nur Text.", f"Interne Anweisung {CANARY} [1]", "Ohne jede Quellenangabe.", LLMTimeoutError("zu langsam")
    )
    report = run_check(_with_model(corpus_services, model), read_plan_file(plan_files["mittel"]))
    assert report.mode == "extractive"
    assert all(f.summary is None for f in report.factors)
    assert any("Sprachmodell" in n for n in report.notices)
    assert [f.rating for f in report.factors] == [f.rating for f in run_check(corpus_services, read_plan_file(plan_files["mittel"])).factors]
