"""GermanAnalyzer: normalisation, stopwords, numbers, stemming, umlaut folding and compound splitting."""

from __future__ import annotations

import pytest

from assistant.retrieval.analyzer import GermanAnalyzer, fold

CORPUS = [
    "Die Strategie zur Verstetigung wurde im Stadtrat beschlossen.",
    "Das Modell des Betreibers sieht eine Anstalt vor.",
    "Eine Plattform für Daten aus der ganzen Stadt.",
    "Die Finanzierung im Anschluss an die Förderphase ist offen.",
]


@pytest.fixture()
def analyzer() -> GermanAnalyzer:
    a = GermanAnalyzer()
    a.fit(CORPUS)
    return a


def test_inflected_forms_share_a_term(analyzer: GermanAnalyzer) -> None:
    assert analyzer.analyze("Strategien") == analyzer.analyze("Strategie")
    assert analyzer.analyze("des Betreibers") == analyzer.analyze("der Betreiber")
    assert analyzer.analyze("Finanzierungen") == analyzer.analyze("Finanzierung")


@pytest.mark.parametrize(
    "variant", ["Zustaendigkeit", "Zustandigkeit", "ZUSTÄNDIGKEIT", "Zusta\u0308ndigkeit"]
)
def test_umlaut_spellings_and_decomposed_unicode_match(analyzer: GermanAnalyzer, variant: str) -> None:
    assert analyzer.analyze(variant) == analyzer.analyze("Zuständigkeit")


def test_sharp_s_folds_to_ss(analyzer: GermanAnalyzer) -> None:
    assert analyzer.analyze("Maßnahme") == analyzer.analyze("Massnahme")


@pytest.mark.parametrize("word", ["feuer", "dauer", "neue", "frequenz", "quelle"])
def test_ue_after_vowel_or_q_is_not_an_umlaut(word: str) -> None:
    assert fold(word) == word


def test_transliterated_umlauts_fold(analyzer: GermanAnalyzer) -> None:
    assert fold("foerderung") == fold("förderung") == "forderung"
    assert fold("ueberblick") == "uberblick"


def test_stopwords_are_dropped(analyzer: GermanAnalyzer) -> None:
    assert analyzer.analyze("und der die das für über mit dem zur") == []
    assert analyzer.analyze("Die Strategie und der Plan") == analyzer.analyze("Strategie Plan")


def test_custom_stopwords() -> None:
    a = GermanAnalyzer(stopwords=["Strategie"])
    assert a.analyze("die Strategie") == a.analyze("die")
    assert a.analyze("die") != []


def test_numbers_are_kept_and_thousands_separators_normalised(analyzer: GermanAnalyzer) -> None:
    terms = analyzer.analyze("Im Jahr 2025 flossen 1.500.000 Euro, davon 2,5 % für 5G am 31.12.2025.")
    assert {"2025", "1500000", "2,5", "5g", "31.12.2025"} <= set(terms)
    assert analyzer.analyze("1500000") == ["1500000"]


def test_hyphenated_compound_gives_parts_and_whole(analyzer: GermanAnalyzer) -> None:
    terms = analyzer.analyze("Smart-City-Projekt")
    assert {"smart", "city", "projekt", "smartcityprojekt"} <= set(terms)
    # The same word written solid splits into the same parts (all three are known words).
    assert set(analyzer.analyze("Smartcityprojekt")) == set(terms)
    # Unicode hyphens count as hyphens, a soft hyphen is removed.
    assert analyzer.analyze("Smart\u2011City") == analyzer.analyze("Smart-City")
    assert analyzer.analyze("Verstetigungs\u00adstrategie") == analyzer.analyze("Verstetigungsstrategie")


@pytest.mark.parametrize(
    ("compound", "spelled_out"),
    [
        ("Verstetigungsstrategie", "Strategie zur Verstetigung"),
        ("Betreibermodell", "Modell des Betreibers"),
        ("Datenplattform", "Plattform für Daten"),
        ("Anschlussfinanzierung", "Finanzierung im Anschluss"),
        ("Verstetigungsstrategien", "Strategien zur Verstetigung"),  # inflected head
    ],
)
def test_compound_contains_the_terms_of_its_parts(
    analyzer: GermanAnalyzer, compound: str, spelled_out: str
) -> None:
    compound_terms = analyzer.analyze(compound)
    assert set(analyzer.analyze(spelled_out)) <= set(compound_terms)
    # The whole word's own stem comes first, so an exact compound match outscores the parts alone.
    assert compound_terms[0] not in analyzer.analyze(spelled_out)


def test_split_parts_and_linking_elements(analyzer: GermanAnalyzer) -> None:
    assert analyzer.split("Verstetigungsstrategie") == ("verstetigung", "strategie")
    assert analyzer.split("Datenplattform") == ("daten", "plattform")
    assert analyzer.split("Gemeinderat") in {("gemeinde", "rat"), ("gemeind", "rat")}


def test_non_compounds_are_not_split(analyzer: GermanAnalyzer) -> None:
    for word in ["Unterstützung", "Verwaltung", "Kommunikation", "Strategie", "Stadt"]:
        assert analyzer.split(word) == (), word
        assert len(analyzer.analyze(word)) == 1


def test_splitting_learns_the_corpus_vocabulary() -> None:
    a = GermanAnalyzer()
    assert a.split("Klärschlammverwertung") == ()
    a.fit(["Der Klärschlamm geht in die Verwertung."])
    assert a.split("Klärschlammverwertung") == ("klarschlamm", "verwertung")
    assert a.split("Klaerschlammverwertung") == ("klarschlamm", "verwertung")


def test_splitting_can_be_turned_off() -> None:
    a = GermanAnalyzer(split_compounds=False)
    a.fit(CORPUS)
    assert a.analyze("Verstetigungsstrategie") == ["verstetigungsstrategi"]


def test_word_stems_give_leaf_parts(analyzer: GermanAnalyzer) -> None:
    analyzer.fit(["Anschlussfinanzierung und Modell"])
    [(stem, parts)] = analyzer.word_stems("Anschlussfinanzierungsmodell")
    assert stem == "anschlussfinanzierungsmodell"
    assert parts == ("anschluss", "finanzier", "modell")
    assert analyzer.word_stems("Plan") == [("plan", ())]
