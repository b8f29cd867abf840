"""The check report's words in German (default) and English, in one table.

The report's content (plan sentences, quotes from the knowledge base, building-block topics) stays in the words
it was written in; only the report's own words change with the language: headings, statuses, traffic lights,
reasons, gaps, next steps, notices. Codes in the JSON (``rating``, ``status``, ``factor``) never change.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["de", "en"]

FACTOR_LABELS_EN: dict[str, str] = {
    "kommunikation": "Clear communication",
    "wirkung": "Evidence of impact",
    "anschlussfaehigkeit": "Technical connectivity",
    "zustaendigkeiten": "Fixed responsibilities",
    "finanzierung": "Secured funding",
}

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "erfuellt": ("erfüllt", "met"),
    "vage": ("vage", "vague"),
    "fehlt": ("fehlt", "missing"),
}
RATING_LABELS: dict[str, tuple[str, str]] = {
    "gruen": ("grün", "green"),
    "gelb": ("gelb", "yellow"),
    "rot": ("rot", "red"),
}
EVIDENCE_MISSING: dict[str, tuple[str, str]] = {
    "amount": ("Betrag", "an amount"),
    "date": ("Termin", "a date"),
    "number": ("Zahl", "a number"),
    "actor": ("benannte Stelle", "a named unit"),
}

#: key → (German, English); ``{name}`` placeholders are filled by :func:`tr`.
TEXTS: dict[str, tuple[str, str]] = {
    # rating reasons
    "counts": (
        "{met} von {n} Kriterien erfüllt, {vague} vage, {missing} fehlen (Anteil {share}; vage zählt halb)",
        "{met} of {n} criteria met, {vague} vague, {missing} missing (share {share}; vague counts half)",
    ),
    "red_critical": ("Rot, weil ein kritisches Kriterium fehlt: {names}. {counts}.",
                     "Red because a critical criterion is missing: {names}. {counts}."),
    "red_share": ("Rot, weil der Anteil unter {limit} liegt: {counts}.", "Red because the share is below {limit}: {counts}."),
    "green": ("Grün: {counts}; alle kritischen Kriterien sind konkret belegt.",
              "Green: {counts}; every critical criterion is backed concretely."),
    "yellow": ("Gelb: {counts}; {why}.", "Yellow: {counts}; {why}."),
    "green_from": ("Grün erst ab {limit}", "green only from {limit}"),
    "critical_vague": ("kritisch, aber nur vage: {names}", "critical, but only vague: {names}"),
    # gaps
    "critical": (" (kritisch)", " (critical)"),
    "gap_missing": ("Fehlt: {label}{critical}.", "Missing: {label}{critical}."),
    "gap_vague": ("Nur vage: {label}{critical} – {why}.", "Only vague: {label}{critical} – {why}."),
    "without": ("ohne {what}", "without {what}"),
    "or": (" oder ", " or "),
    "llm_vague": ("unverbindlich laut Sprachmodell", "non-committal according to the language model"),
    # report
    "title": ("Verstetigungs-Check: {name}", "Plan check: {name}"),
    "created": ("Erstellt am {when} · Modus: {mode}", "Created {when} · mode: {mode}"),
    "sentences_checked": ("{n} Sätze geprüft", "{n} sentences checked"),
    "mode_llm": ("mit Sprachmodell-Zusammenfassungen", "with language-model summaries"),
    "mode_extractive": ("extraktiv, ohne Sprachmodell", "extractive, without a language model"),
    "disclaimer": (
        "Automatische Prüfung anhand von Stichwörtern und der Wissensbasis des Verstetigungslotsen. Sie ersetzt "
        "keine fachliche Bewertung; bitte die zitierten Quellen selbst lesen.",
        "Automatic check based on keywords and the Verstetigungslotse's knowledge base. It does not replace an "
        "expert assessment; please read the cited sources yourself.",
    ),
    "lights": ("Ampel je Erfolgsfaktor:", "Traffic light per success factor:"),
    "overview": ("Übersicht", "Overview"),
    "col_factor": ("Erfolgsfaktor", "Success factor"),
    "col_light": ("Ampel", "Traffic light"),
    "col_reason": ("Begründung", "Reason"),
    "summary": ("Zusammenfassung (Sprachmodell, belegt)", "Summary (language model, with sources)"),
    "found": ("Was der Plan schon sagt", "What the plan already says"),
    "found_none": ("Der Plan enthält dazu keine Aussage.", "The plan says nothing about this."),
    "criteria": ("Kriterien", "Criteria"),
    "evidence": ("belegt durch", "backed by"),
    "gaps": ("Lücken", "Gaps"),
    "steps": ("Nächste Schritte", "Next steps"),
    "guidance": ("Aus den Leitfäden", "From the guides"),
    "sources": ("Quellen", "Sources"),
    "open_doc": ("Dokument öffnen", "Open document"),
    "blocks": ("Bausteine für den Antrag", "Building blocks for the application"),
    "blocks_note": (
        "Wörtliche Aussagen aus der Wissensbasis, mit Quelle zum Übernehmen.",
        "Verbatim statements from the knowledge base (in the documents' language), with sources to copy.",
    ),
    "bibliography": ("Literaturverzeichnis", "Bibliography"),
    "notice": ("Hinweis", "Note"),
    "section": ("Abschnitt „{name}“", "section “{name}”"),
    "page": ("S. {page}", "p. {page}"),
    "no_publisher": ("o. V.", "n.p."),
    "no_year": ("o. J.", "n.d."),
    "saved": ("Bericht gespeichert: {path}", "Report saved: {path}"),
    # notices
    "llm_judged": (
        "Das Sprachmodell hat {n} {what} beurteilt, jeweils mit einem wörtlich im Plan gefundenen Beleg; alle "
        "übrigen Kriterien sind extraktiv beurteilt.",
        "The language model judged {n} {what}, each with evidence found verbatim in the plan; all other "
        "criteria were judged extractively.",
    ),
    "criterion_one": ("Kriterium", "criterion"),
    "criterion_many": ("Kriterien", "criteria"),
    "no_summary": (
        "Das Sprachmodell hat keine belegbare Zusammenfassung geliefert; der Bericht ist extraktiv.",
        "The language model gave no summary that its sources back; the report is extractive.",
    ),
    "no_sources": (
        "Die Wissensbasis enthält keine passenden Quellen (leerer Index?). Lücken und Schritte stehen ohne Beleg.",
        "The knowledge base holds no matching sources (empty index?). Gaps and steps are shown without sources.",
    ),
    "file_and_text": (
        "Datei und eingefügter Text angegeben: geprüft wurde die Datei.",
        "A file and pasted text were given: the file was checked.",
    ),
}


def tr(lang: str, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (German for anything but "en"), with ``values`` filled in."""
    de, en = TEXTS[key]
    text = en if lang == "en" else de
    return text.format(**values) if values else text


def status_label(status: str, lang: str) -> str:
    return STATUS_LABELS[status][1 if lang == "en" else 0]


def rating_label(rating: str, lang: str) -> str:
    return RATING_LABELS[rating][1 if lang == "en" else 0]


def factor_label(factor: str, german: str, lang: str) -> str:
    """The factor's name in ``lang`` (``german`` is the configured German name)."""
    return FACTOR_LABELS_EN.get(factor, german) if lang == "en" else german

