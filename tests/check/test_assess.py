"""Detection and rating without an index: criteria, vagueness, evidence, the traffic-light rule, the criteria file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.check import PlanLimits, load_config, plan_from_text, read_plan_file
from assistant.check.assess import CriterionResult, analyse_sentences, detect, rate
from assistant.check.criteria import DEFAULT_CRITERIA
from assistant.check.guidance import is_statement
from assistant.errors import ConfigError
from assistant.types import FACTORS
from tests.check.conftest import PLANS

CONFIG = load_config()


def ratings(path: Path) -> dict[str, tuple[str, str, list[CriterionResult]]]:
    plan = read_plan_file(path)
    analysed = analyse_sentences(plan, CONFIG)
    out = {}
    for factor, fc in CONFIG.factors.items():
        results = detect(analysed, fc, CONFIG)
        rating, reason, _ = rate(results, CONFIG)
        out[factor] = (rating, reason, results)
    return out


def status(text: str, factor: str) -> dict[str, CriterionResult]:
    analysed = analyse_sentences(plan_from_text(text, PlanLimits(min_chars=10)), CONFIG)
    return {r.criterion.id: r for r in detect(analysed, CONFIG.factors[factor], CONFIG)}


def test_config_covers_the_five_factors() -> None:
    assert list(CONFIG.factors) == list(FACTORS)
    for fc in CONFIG.factors.values():
        assert len(fc.criteria) >= 4
        assert any(c.critical for c in fc.criteria) or fc.factor == "kommunikation"
        assert all(c.step and c.query for c in fc.criteria)
    labels = {c.label for c in CONFIG.factors["finanzierung"].criteria}
    assert {
        "Folgekosten/Betriebskosten beziffert",
        "Finanzierungsquelle nach Förderende benannt",
        "Haushaltsbeschluss / Verpflichtungsermächtigung",
    } <= labels


def test_weak_plan_is_red_on_financing_and_responsibilities_with_reasons() -> None:
    result = ratings(PLANS / "plan-schwach.md")
    for factor, critical in (
        ("finanzierung", "Finanzierungsquelle nach Förderende benannt"),
        ("zustaendigkeiten", "Verantwortliche Stelle bzw. Produktverantwortung benannt"),
    ):
        rating, reason, criteria = result[factor]
        assert rating == "rot"
        assert reason.startswith("Rot, weil ein kritisches Kriterium fehlt") and critical in reason
    assert all(r.status == "fehlt" for r in result["zustaendigkeiten"][2])


def test_good_plan_is_green_everywhere() -> None:
    result = ratings(PLANS / "plan-gut.md")
    assert [r for r, _, _ in result.values()] == ["gruen"] * 5
    assert all(reason.startswith("Grün") for _, reason, _ in result.values())


def test_medium_plan_is_yellow_where_it_is_vague() -> None:
    result = ratings(PLANS / "plan-mittel.md")
    assert {f for f, (r, _, _) in result.items() if r == "gelb"} == {
        "wirkung",
        "zustaendigkeiten",
        "finanzierung",
    }
    assert "rot" not in {r for r, _, _ in result.values()}
    finance = {c.criterion.id: c for c in result["finanzierung"][2]}
    assert finance["quelle"].status == "vage"
    # Every sentence on the source after funding is hedged ("soll geprüft werden", "denkbar", "ggf.").
    assert finance["quelle"].matches and all(m.vague_markers for m in finance["quelle"].matches)
    assert finance["quelle"].matches[0].why_vague().startswith("„")


def test_vagueness_markers_and_missing_evidence_make_a_criterion_vague() -> None:
    r = status("Die jährlichen Folgekosten von 40.000 Euro sollen ggf. aus Rücklagen kommen.", "finanzierung")
    assert r["folgekosten"].status == "vage" and "„ggf.“" in r["folgekosten"].matches[0].why_vague()
    r = status(
        "Die jährlichen Folgekosten werden im Projektverlauf sorgfältig berechnet und dokumentiert.",
        "finanzierung",
    )
    assert r["folgekosten"].status == "vage" and r["folgekosten"].matches[0].why_vague() == "ohne Betrag"
    r = status(
        "Die jährlichen Folgekosten betragen 40.000 Euro für Hosting, Lizenzen und Wartung.", "finanzierung"
    )
    assert r["folgekosten"].status == "erfuellt"


def test_spellings_without_umlauts_and_compounds_match() -> None:
    r = status(
        "Die Zustaendigkeit fuer den Betrieb liegt ab 2027 beim Tiefbauamt der Stadt.", "zustaendigkeiten"
    )
    assert r["verantwortung"].status == "erfuellt"
    r = status("Eine Folgekostenrechnung über 118.000 Euro pro Jahr liegt der Kämmerei vor.", "finanzierung")
    assert r["folgekosten"].status == "erfuellt"
    r = status(
        "Die Fachverantwortung liegt irgendwo in der Verwaltung, so haben wir es besprochen.",
        "zustaendigkeiten",
    )
    assert r["verantwortung"].status == "vage"  # no named unit


def test_rating_rule_thresholds_and_critical_criteria() -> None:
    fc = CONFIG.factors["finanzierung"]  # folgekosten, quelle (critical), haushalt (critical), partner

    def results(*statuses: str) -> list[CriterionResult]:
        return [CriterionResult(c, s) for c, s in zip(fc.criteria, statuses, strict=True)]  # type: ignore[arg-type]

    assert rate(results("erfuellt", "erfuellt", "erfuellt", "erfuellt"), CONFIG)[0] == "gruen"
    assert rate(results("fehlt", "erfuellt", "erfuellt", "erfuellt"), CONFIG)[0] == "gelb"  # 75 %
    assert (
        rate(results("erfuellt", "vage", "erfuellt", "erfuellt"), CONFIG)[0] == "gelb"
    )  # critical only vague
    rating, reason, share = rate(results("erfuellt", "fehlt", "erfuellt", "erfuellt"), CONFIG)
    assert (rating, share) == ("rot", 0.75) and "kritisches Kriterium fehlt" in reason
    rating, reason, share = rate(results("fehlt", "vage", "vage", "fehlt"), CONFIG)
    assert (rating, share) == ("rot", 0.25) and "Anteil unter 50 %" in reason


def test_found_sentences_are_quotes_from_the_plan() -> None:
    plan = read_plan_file(PLANS / "plan-mittel.md")
    analysed = analyse_sentences(plan, CONFIG)
    for fc in CONFIG.factors.values():
        for r in detect(analysed, fc, CONFIG):
            for m in r.matches:
                assert m.sentence.text in plan.text


def test_broken_criteria_file_gives_a_german_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "kriterien.yaml"
    bad.write_text(
        DEFAULT_CRITERIA.read_text(encoding="utf-8").replace("evidence: [amount]", "evidence: [geld]"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="evidence erlaubt nur"):
        load_config(bad)
    bad.write_text("factors: {kommunikation: {}}", encoding="utf-8")
    with pytest.raises(ConfigError, match="genau die Faktoren"):
        load_config(bad)
    bad.write_text(
        DEFAULT_CRITERIA.read_text(encoding="utf-8").replace("'re:\\brat(es|s)?\\b'", "'re:(['"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="regulärer Ausdruck"):
        load_config(bad)


def test_titles_lead_ins_and_self_references_are_not_statements() -> None:
    assert is_statement("Förderprogramme, Entgelte und Partnerschaften können den Haushalt entlasten.")
    assert is_statement("[ ] Die jährlichen Folgekosten wurden dem Rat offen genannt.")
    for text in (
        "Leitfaden zur Anschlussfinanzierung digitaler Lösungen: Haushalt, Förderprogramme, Entgelte und Partner",
        "Für die Entscheidungsvorlage empfiehlt sich folgende Reihenfolge:",
        "Dieser Leitfaden zeigt Projektleitungen und Kämmereien, wie sie die Anschlussfinanzierung aufbauen.",
        "Die vorliegende Studie fasst die Erfahrungen von zwölf Kommunen zusammen.",
        "Wie finanzieren Kommunen den Betrieb nach dem Ende der Förderung?",
    ):
        assert not is_statement(text), text
