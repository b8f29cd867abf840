"""Query expansion from an editable glossary of abbreviations and synonyms (assistant/data/glossary.yaml).

Municipal staff write "OZG", "UDP" or "Regelbetrieb" where the documents say "Onlinezugangsgesetz", "urbane
Datenplattform" or "Verstetigung". `Glossary.expand` appends the expansions of what it finds, so the lexical
retriever sees both spellings. File layout (editors maintain it; see the comment at its top):

    abkuerzungen:            # abbreviation -> expansion(s); matched case-sensitively, as a whole word
      OZG: Onlinezugangsgesetz
      TCO: [Total Cost of Ownership, Folgekosten, Gesamtkosten]
    synonyme:                # groups of equivalent terms; matched case-insensitively, as whole words
      - [Regelbetrieb, Verstetigung, Dauerbetrieb]

Abbreviations also work backwards: a query that spells out "Onlinezugangsgesetz" gets "OZG" appended, because
many documents use only the short form. Word matching ignores case and umlaut spelling (Förderende, Foerderende)
and accepts common inflection endings on single words of five letters or more (Regelbetriebs, Stadtrates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import ConfigError
from assistant.retrieval.analyzer import fold

DEFAULT_GLOSSARY_PATH = Path(__file__).resolve().parent.parent / "data" / "glossary.yaml"

_ENDINGS = r"(?:s|es|e|en|n|er|ern)?"
_MIN_LEN_FOR_ENDINGS = 5
_SECTIONS = ("abkuerzungen", "synonyme")


def _word_pattern(term: str, *, ignore_case: bool) -> re.Pattern[str]:
    """Whole-word pattern for `term`; whitespace inside a phrase matches any whitespace."""
    body = r"\s+".join(re.escape(part) for part in term.split())
    if ignore_case and " " not in term.strip() and len(term) >= _MIN_LEN_FOR_ENDINGS:
        body += _ENDINGS
    return re.compile(rf"(?<!\w){body}(?!\w)")


def _norm(text: str) -> str:
    return fold(text.lower())


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern[str]  # matched against the raw query (abbreviations) or the folded one (words)
    folded: bool
    additions: tuple[str, ...]


class Glossary:
    """Abbreviations and synonym groups used to expand queries.

    Args:
        abbreviations: Abbreviation -> its expansions.
        synonyms: Groups of equivalent terms.
    """

    def __init__(self, abbreviations: dict[str, list[str]], synonyms: list[list[str]]) -> None:
        self.abbreviations = abbreviations
        self.synonyms = synonyms
        entries: list[_Entry] = []
        for abbr, expansions in abbreviations.items():
            entries.append(_Entry(_word_pattern(abbr, ignore_case=False), False, tuple(expansions)))
            for long_form in expansions:
                entries.append(_Entry(_word_pattern(_norm(long_form), ignore_case=True), True, (abbr,)))
        for group in synonyms:
            for term in group:
                others = tuple(t for t in group if t != term)
                entries.append(_Entry(_word_pattern(_norm(term), ignore_case=True), True, others))
        self._entries = entries

    @classmethod
    def load(cls, path: str | Path = DEFAULT_GLOSSARY_PATH) -> Glossary:
        """Read and validate a glossary file.

        Raises:
            ConfigError: The file is missing, is not valid YAML or does not have the layout described above.
        """
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ConfigError(
                f"Glossar nicht gefunden: {path}. Bitte den Pfad prüfen oder die Datei anlegen.",
                f"Glossary not found: {path}. Check the path or create the file.",
            ) from e
        except (OSError, UnicodeDecodeError) as e:
            raise _malformed(path, f"Datei nicht lesbar ({e})", f"file not readable ({e})") from e
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" in Zeile {mark.line + 1}" if mark is not None else ""
            where_en = f" at line {mark.line + 1}" if mark is not None else ""
            raise _malformed(path, f"kein gültiges YAML{where}", f"not valid YAML{where_en}") from e
        return cls(*_validate(raw, path))

    def expansions(self, query: str) -> list[str]:
        """Terms to add to `query`: expansions of what it contains, without what it already says."""
        folded = _norm(query)
        found: list[str] = []
        for entry in self._entries:
            if entry.pattern.search(folded if entry.folded else query):
                found.extend(entry.additions)
        out: list[str] = []
        for term in dict.fromkeys(found):
            already = _word_pattern(_norm(term), ignore_case=True).search(folded)
            if not already:
                out.append(term)
        return out

    def expand(self, query: str) -> str:
        """`query` followed by the expansions of the abbreviations and synonyms found in it."""
        extra = self.expansions(query)
        return f"{query} {' '.join(extra)}" if extra else query

    def __len__(self) -> int:
        return len(self.abbreviations) + len(self.synonyms)


def _malformed(path: Path, detail: str, detail_en: str) -> ConfigError:
    return ConfigError(
        f"Das Glossar {path} ist fehlerhaft: {detail}. Bitte die Datei korrigieren "
        "(Aufbau: 'abkuerzungen' als Zuordnung Kürzel → Langform(en), 'synonyme' als Liste von Begriffsgruppen).",
        f"The glossary {path} is malformed: {detail_en}. Please fix the file "
        "('abkuerzungen': mapping abbreviation -> expansion(s); 'synonyme': list of term groups).",
    )


def _terms(value: Any) -> list[str] | None:
    """A non-empty string or list of non-empty strings as a list; None when it is anything else."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(t, str) and t.strip() for t in items):
        return None
    return [t.strip() for t in items]


def _validate(raw: Any, path: Path) -> tuple[dict[str, list[str]], list[list[str]]]:
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        raise _malformed(path, "oberste Ebene muss eine Zuordnung sein", "top level must be a mapping")
    unknown = [str(k) for k in raw if k not in _SECTIONS]
    if unknown:
        raise _malformed(
            path,
            f"unbekannte Abschnitte {', '.join(unknown)} (erlaubt: {', '.join(_SECTIONS)})",
            f"unknown sections {', '.join(unknown)} (allowed: {', '.join(_SECTIONS)})",
        )
    abbr_raw = raw.get("abkuerzungen") or {}
    if not isinstance(abbr_raw, dict):
        raise _malformed(path, "'abkuerzungen' muss eine Zuordnung sein", "'abkuerzungen' must be a mapping")
    abbreviations: dict[str, list[str]] = {}
    for key, value in abbr_raw.items():
        if not isinstance(key, str) or not key.strip():
            # YAML 1.1 reads unquoted ON, NO, YES as booleans and digits as numbers.
            raise _malformed(
                path,
                f'Kürzel {key!r} ist kein Text (in Anführungszeichen setzen, z. B. "NO")',
                f'abbreviation {key!r} is not text (quote it, e.g. "NO")',
            )
        terms = _terms(value)
        if terms is None:
            raise _malformed(
                path,
                f"Kürzel {key!r} braucht eine Langform oder eine Liste von Langformen",
                f"abbreviation {key!r} needs an expansion or a list of expansions",
            )
        abbreviations[key.strip()] = terms
    syn_raw = raw.get("synonyme") or []
    if not isinstance(syn_raw, list):
        raise _malformed(
            path, "'synonyme' muss eine Liste von Gruppen sein", "'synonyme' must be a list of groups"
        )
    synonyms: list[list[str]] = []
    for i, group in enumerate(syn_raw, start=1):
        terms = _terms(group)
        if terms is None or isinstance(group, str) or len(terms) < 2:
            raise _malformed(
                path,
                f"Synonymgruppe Nr. {i} muss eine Liste mit mindestens zwei Begriffen sein",
                f"synonym group no. {i} must be a list of at least two terms",
            )
        synonyms.append(terms)
    return abbreviations, synonyms
