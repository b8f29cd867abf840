"""LLM judgement of the criteria through a real OpenAI-protocol server: a verdict counts only with a quote that
is verbatim in the plan; otherwise the extractive judgement stands."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from assistant.check import PlanLimits, load_config, plan_from_text
from assistant.check.assess import CriterionResult, analyse_sentences, apply_verdict, detect
from assistant.check.llm_judge import llm_verdicts, parse_verdicts, verify_quote
from assistant.llm import OpenAICompatibleChat
from tests.support.fake_openai import FakeOpenAIServer, Reply

CONFIG = load_config()
PLAN = plan_from_text(
    "# Smarte Beleuchtung\n\n"
    "Die Straßenbeleuchtung dimmt nachts, wenn niemand unterwegs ist. "
    "Unser Maßstab für den Erfolg ist, wie viel Strom die Leuchten im Jahr verbrauchen. "
    "Die Mittel für den Betrieb sollen eventuell aus dem Haushalt kommen.\n",
    PlanLimits(min_chars=10),
)


@pytest.fixture
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def model(server: FakeOpenAIServer) -> OpenAICompatibleChat:
    return OpenAICompatibleChat(server.base_url, "test-model", "test", first_token_timeout_s=2, deadline_s=3)


def reply(*items: dict[str, str]) -> Reply:
    return Reply(text="Hier das Ergebnis:\n" + json.dumps({"criteria": list(items)}, ensure_ascii=False))


def results(verdicts) -> dict[str, CriterionResult]:  # type: ignore[no-untyped-def]
    analysed = analyse_sentences(PLAN, CONFIG)
    out = {}
    for fc in CONFIG.factors.values():
        for r in detect(analysed, fc, CONFIG):
            out[r.criterion.id] = apply_verdict(r, verdicts.get(r.criterion.id))
    return out


def test_a_verdict_with_a_verbatim_quote_is_accepted_and_its_sentence_is_the_evidence(llm) -> None:  # type: ignore[no-untyped-def]
    before = results({})
    assert before["indikatoren"].status == "fehlt"  # the words miss this paraphrase
    llm.enqueue(
        reply(
            # typographic quotes and line breaks in the quote do not matter
            {
                "id": "indikatoren",
                "status": "erfuellt",
                "quote": "wie viel Strom die Leuchten\nim Jahr verbrauchen",
            },
            {"id": "quelle", "status": "vage", "quote": "sollen eventuell aus dem Haushalt kommen"},
        )
    )
    verdicts = llm_verdicts(model(llm), PLAN, CONFIG)
    assert set(verdicts) == {"indikatoren", "quelle"}
    prompt = llm.requests[-1].json["messages"][-1]["content"]
    assert "<plan>" in prompt and "Straßenbeleuchtung dimmt" in prompt and "indikatoren:" in prompt
    after = results(verdicts)
    assert after["indikatoren"].status == "erfuellt" and after["indikatoren"].judged_by == "llm"
    assert [m.sentence.text for m in after["indikatoren"].evidence()] == [
        "Unser Maßstab für den Erfolg ist, wie viel Strom die Leuchten im Jahr verbrauchen."
    ]
    assert after["quelle"].status == "vage" and after["quelle"].evidence() == []
    assert after["indikatoren"].to_contract()["judged_by"] == "llm"


def test_invented_quotes_unknown_criteria_and_missing_quotes_change_nothing(llm) -> None:  # type: ignore[no-untyped-def]
    llm.enqueue(
        reply(
            {
                "id": "indikatoren",
                "status": "erfuellt",
                "quote": "Wir messen den Stromverbrauch jedes Jahr genau.",
            },
            {"id": "haushalt", "status": "erfuellt", "quote": ""},
            {
                "id": "erfunden",
                "status": "erfuellt",
                "quote": "wie viel Strom die Leuchten im Jahr verbrauchen",
            },
            {"id": "folgekosten", "status": "erfuellt", "quote": "im Jahr"},  # too short to prove anything
            {"id": "betreibermodell", "status": "fehlt", "quote": ""},
        )
    )
    verdicts = llm_verdicts(model(llm), PLAN, CONFIG)
    assert verdicts == {}
    assert {k: r.status for k, r in results(verdicts).items()} == {
        k: r.status for k, r in results({}).items()
    }


def test_a_broken_or_failing_model_leaves_the_extractive_judgement(llm) -> None:  # type: ignore[no-untyped-def]
    llm.enqueue(Reply(text="Das kann ich so nicht beurteilen."), Reply(status=500), Reply(text="{kein json"))
    chat = model(llm)
    assert llm_verdicts(chat, PLAN, CONFIG) == {}
    assert llm_verdicts(chat, PLAN, CONFIG) == {}
    assert llm_verdicts(chat, PLAN, CONFIG) == {}


def test_quote_verification_is_verbatim() -> None:
    assert verify_quote("„Unser Maßstab für den Erfolg“", PLAN) is not None
    assert verify_quote("Unser Maßstab für die Wirkung", PLAN) is None
    assert parse_verdicts('{"criteria": "nein"}', PLAN, CONFIG) == {}


def test_the_check_uses_verified_llm_verdicts_end_to_end(llm, embedder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.check import run_check
    from tests.conftest import make_services

    services = make_services(
        tmp_path / "index",
        embedder,
        llm_base_url=llm.base_url,
        llm_model="test-model",
        llm_first_token_timeout_s=2,
        llm_deadline_s=3,
    )
    llm.enqueue(
        reply(
            {
                "id": "indikatoren",
                "status": "erfuellt",
                "quote": "wie viel Strom die Leuchten im Jahr verbrauchen",
            },
            {"id": "daten", "status": "erfuellt", "quote": "Alle Daten liegen offen auf der Datenplattform."},
        )
    )
    report = run_check(services, PLAN, summaries=False)
    assert report.mode == "llm" and any("wörtlich im Plan" in n for n in report.notices)
    criteria = {c["id"]: c for f in report.to_contract()["factors"] for c in f["criteria"]}
    assert criteria["indikatoren"]["status"] == "erfuellt" and criteria["indikatoren"]["judged_by"] == "llm"
    assert criteria["indikatoren"]["evidence"][0]["text"].startswith("Unser Maßstab für den Erfolg")
    assert criteria["daten"]["status"] == "fehlt" and criteria["daten"]["judged_by"] == "extraktiv"
