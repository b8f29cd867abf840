"""Glossary: the shipped file, query expansion rules and clear errors for malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.retrieval.glossary import DEFAULT_GLOSSARY_PATH, Glossary


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "glossary.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_glossary_loads_with_the_required_entries(glossary: Glossary) -> None:
    assert DEFAULT_GLOSSARY_PATH.is_file()
    assert 30 <= len(glossary) <= 60
    for abbr in [
        "OZG",
        "EfA",
        "UDP",
        "MPSC",
        "ÖPNV",
        "KTS",
        "DSFA",
        "AöR",
        "TCO",
        "ISMS",
        "LoRaWAN",
        "IoT",
        "EFRE",
    ]:
        assert abbr in glossary.abbreviations
    assert glossary.abbreviations["TCO"] == ["Total Cost of Ownership", "Folgekosten", "Gesamtkosten"]


@pytest.mark.parametrize(
    ("query", "added"),
    [
        ("Was regelt das OZG?", "Onlinezugangsgesetz"),
        ("Wie funktioniert EfA?", "Einer für Alle"),
        ("Wer betreibt die UDP?", "urbane Datenplattform"),
        ("Was macht die KTS?", "Koordinierungs- und Transferstelle"),
        ("Taktung im ÖPNV", "öffentlicher Personennahverkehr"),
        ("Stand der OZG-Umsetzung", "Onlinezugangsgesetz"),  # hyphen is a word boundary
    ],
)
def test_abbreviations_expand(glossary: Glossary, query: str, added: str) -> None:
    expanded = glossary.expand(query)
    assert expanded.startswith(query + " ")
    assert added in expanded


def test_abbreviations_are_case_sensitive_and_whole_words(glossary: Glossary) -> None:
    for query in ["Was regelt das ozg?", "efa und Efa", "OZGX und XUDP"]:
        assert glossary.expand(query) == query


def test_several_expansions_are_appended_once(glossary: Glossary) -> None:
    extra = glossary.expansions("Wie hoch ist die TCO der UDP? Und die TCO im ÖPNV?")
    assert extra.count("Folgekosten") == 1
    assert {"Total Cost of Ownership", "Gesamtkosten", "urbane Datenplattform"} <= set(extra)


def test_synonyms_ignore_case_umlaut_spelling_and_inflection(glossary: Glossary) -> None:
    assert "Verstetigung" in glossary.expansions("Übergang in den regelbetrieb")
    assert "Verstetigung" in glossary.expansions("Kosten des Regelbetriebs")
    assert "Ende der Förderung" in glossary.expansions("Was passiert nach dem Foerderende?")
    assert "Gemeinderat" in glossary.expansions("Beschluss im Stadtrat")
    assert "Betriebsmodell" in glossary.expansions("Betreibermodelle im Vergleich")


def test_phrases_match_and_terms_already_present_are_not_repeated(glossary: Glossary) -> None:
    extra = glossary.expansions("Was tun nach dem Ende der Förderung, wenn das Förderende naht?")
    assert "Förderende" not in extra and "Ende der Förderung" not in extra
    assert "Auslaufen der Förderung" in extra


def test_long_form_adds_the_abbreviation(glossary: Glossary) -> None:
    assert glossary.expansions("Umsetzung des Onlinezugangsgesetzes") == ["OZG"]


def test_query_without_glossary_terms_is_unchanged(glossary: Glossary) -> None:
    assert glossary.expand("Wie messe ich Wirkung?") == "Wie messe ich Wirkung?"
    assert glossary.expand("") == ""


def test_custom_file(tmp_path: Path) -> None:
    path = write(tmp_path, "abkuerzungen:\n  XY: Beispielwort\nsynonyme:\n  - [Alpha, Beta]\n")
    g = Glossary.load(path)
    assert g.expand("XY und alpha") == "XY und alpha Beispielwort Beta"


def test_empty_file_is_an_empty_glossary(tmp_path: Path) -> None:
    g = Glossary.load(write(tmp_path, "# nur ein Kommentar\n"))
    assert len(g) == 0 and g.expand("OZG") == "OZG"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("abkuerzungen: [OZG: x\n", "YAML"),
        ("- OZG\n- EfA\n", "oberste Ebene"),
        ("abkürzungen:\n  OZG: Onlinezugangsgesetz\n", "unbekannte Abschnitte"),
        ("abkuerzungen:\n  - OZG\n", "'abkuerzungen'"),
        ("abkuerzungen:\n  OZG: 42\n", "'OZG'"),
        ("abkuerzungen:\n  OZG: []\n", "'OZG'"),
        ("abkuerzungen:\n  NO: Nordost\n", "Anführungszeichen"),
        ("synonyme:\n  - [Rat]\n", "Synonymgruppe Nr. 1"),
        ("synonyme:\n  - Rat\n", "Synonymgruppe Nr. 1"),
        ("synonyme:\n  Rat: Stadtrat\n", "'synonyme'"),
    ],
)
def test_malformed_file_raises_config_error(tmp_path: Path, text: str, hint: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        Glossary.load(path)
    message = str(info.value)
    assert hint in message
    assert str(path) in message and "korrigieren" in message
    assert info.value.message_en != message  # an English message exists too


def test_missing_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nicht gefunden"):
        Glossary.load(tmp_path / "fehlt.yaml")
