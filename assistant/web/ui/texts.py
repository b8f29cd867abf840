"""Everything the web UI says, in German (default) and English, plus the example questions and filter choices."""

from __future__ import annotations

from typing import Any

from assistant.types import FACTOR_LABELS, FACTORS

Lang = str  # "de" | "en"

#: Example questions on the first screen; each is answered well by the sample corpus (checked in the browser test).
EXAMPLES: tuple[str, ...] = (
    "Wie finanzieren Kommunen den Betrieb nach dem Ende der Förderung?",
    "Welche Betreibermodelle gibt es für den Regelbetrieb einer Smart-City-Lösung?",
    "Was regelt die DIN SPEC 91357?",
    "Welche Anforderungen muss ein guter Wirkungsindikator erfüllen?",
    "Wie übergibt man ein Projekt an die Linienorganisation?",
)
EXAMPLES_EN: tuple[str, ...] = (
    "How do municipalities finance operation after the funding ends?",
    "Which operating models exist for running a smart-city solution permanently?",
    "What does DIN SPEC 91357 cover?",
    "What makes a good impact indicator?",
    "How is a project handed over to the line organisation?",
)


def examples(lang: str) -> list[Any]:
    """The example questions of the first screen, as the chat component takes them (``ExampleMessage``)."""
    return [{"text": q} for q in (EXAMPLES_EN if lang == "en" else EXAMPLES)]

DOC_TYPES: dict[str, tuple[str, str]] = {
    "leitfaden": ("Leitfaden", "Guide"),
    "studie": ("Studie", "Study"),
    "praxisbeispiel": ("Praxisbeispiel", "Case study"),
    "checkliste": ("Checkliste", "Checklist"),
    "faq": ("FAQ", "FAQ"),
    "glossar": ("Glossar", "Glossary"),
    "artikel": ("Artikel", "Article"),
    "handreichung": ("Handreichung", "Handout"),
}

FACTOR_LABELS_EN: dict[str, str] = {
    "kommunikation": "Clear communication",
    "wirkung": "Evidence of impact",
    "anschlussfaehigkeit": "Technical connectivity",
    "zustaendigkeiten": "Fixed responsibilities",
    "finanzierung": "Secured financing",
}

_TEXTS: dict[str, tuple[str, str]] = {
    # header and state
    "title": ("Verstetigungslotse", "Verstetigungslotse"),
    "tagline": (
        "Fragen zur Verstetigung kommunaler Smart-City-Projekte – beantwortet aus den Dokumenten der Wissensbasis, "
        "jede Aussage mit Quelle und Seite.",
        "Questions on carrying municipal smart-city projects into regular operation – answered from the documents "
        "of the knowledge base, every statement with its source and page.",
    ),
    "mode_llm": ("mit Sprachmodell", "with language model"),
    "mode_extractive": ("extraktiv, ohne Sprachmodell", "extractive, without language model"),
    "mode_lead": ("Antwortmodus", "Answer mode"),
    "index_docs": ("{n} Dokumente indexiert", "{n} documents indexed"),
    "index_doc_one": ("1 Dokument indexiert", "1 document indexed"),
    "index_updated": ("zuletzt aktualisiert {when}", "last updated {when}"),
    "index_empty": (
        "Der Index ist leer: Bitte zuerst Dokumente einlesen (lotse ingest corpus).",
        "The index is empty: please ingest documents first (lotse ingest corpus).",
    ),
    "language": ("Sprache / Language", "Sprache / Language"),
    # tabs
    "tab_chat": ("Fragen", "Ask"),
    "tab_check": ("Verstetigungs-Check", "Plan check (Verstetigungs-Check)"),
    "tab_feedback": ("Rückmeldungen", "Feedback"),
    # chat
    "chat_label": ("Gespräch", "Conversation"),
    "placeholder": (
        "**Willkommen beim Verstetigungslotsen.** Stellen Sie eine Frage oder wählen Sie ein Beispiel.",
        "**Welcome to the Verstetigungslotse.** Ask a question or pick an example.",
    ),
    "question": ("Ihre Frage", "Your question"),
    "question_ph": (
        "z. B. Wie finanzieren andere Kommunen eine Datenplattform nach Förderende?",
        "e.g. How do other municipalities finance a data platform after funding ends?",
    ),
    "ask": ("Fragen", "Ask"),
    "new_chat": ("Neues Gespräch", "New conversation"),
    "export": ("Gespräch als Markdown herunterladen", "Download conversation as Markdown"),
    "searching": ("Suche in den Dokumenten …", "Searching the documents …"),
    "writing": ("Antwort wird formuliert …", "Writing the answer …"),
    # filters
    "filters": ("Filter: Erfolgsfaktor und Dokumenttyp", "Filters: success factor and document type"),
    "factors": ("Erfolgsfaktoren", "Success factors"),
    "doc_types": ("Dokumenttyp", "Document type"),
    "filters_active": ("Aktive Filter", "Active filters"),
    # sources
    "sources": ("Quellen", "Sources"),
    "sources_empty": (
        "Hier erscheinen die Quellen der Antwort: Dokument, Herausgeber, Jahr, Seite, Abschnitt und das wörtliche Zitat.",
        "The answer's sources appear here: document, publisher, year, page, section and the verbatim quote.",
    ),
    "sources_none": ("Diese Antwort hat keine Quellen.", "This answer has no sources."),
    "page": ("Seite", "page"),
    "section": ("Abschnitt", "section"),
    "open_doc": ("„{title}“ öffnen", "Open “{title}”"),
    "open_doc_page": ("„{title}“ auf Seite {page} öffnen", "Open “{title}” at page {page}"),
    "new_tab": ("(neuer Tab)", "(new tab)"),
    "fallback": (
        "Das Sprachmodell ist ausgefallen; die Antwort besteht aus wörtlichen Auszügen.",
        "The language model failed; the answer consists of verbatim excerpts.",
    ),
    "abstained": ("keine belegbare Antwort gefunden", "no answer backed by sources"),
    "answer_n": ("Antwort {n}", "Answer {n}"),
    # feedback
    "fb_heading": ("Rückmeldung zu einer Antwort", "Feedback on an answer"),
    "fb_target": ("Welche Antwort?", "Which answer?"),
    "fb_comment": ("Kommentar (optional)", "Comment (optional)"),
    "fb_comment_ph": (
        "Was fehlt oder stimmt nicht? Bitte keine Namen oder anderen persönlichen Daten.",
        "What is missing or wrong? Please no names or other personal data.",
    ),
    "fb_helpful": ("Hilfreich", "Helpful"),
    "fb_not_helpful": ("Nicht hilfreich", "Not helpful"),
    "fb_wrong_source": ("Quelle ist falsch", "Source is wrong"),
    "fb_thanks": ("Danke, Ihre Rückmeldung wurde gespeichert.", "Thank you, your feedback has been saved."),
    "fb_no_answer": (
        "Es gibt noch keine Antwort, die Sie bewerten könnten.",
        "There is no answer to rate yet.",
    ),
    # editors' view
    "ed_title": ("Verstetigungslotse – Redaktion", "Verstetigungslotse – editors"),
    "ed_intro": (
        "Nur für die Redaktion: Hier sehen Sie, was Nutzerinnen und Nutzer gefragt und wie sie die Antworten "
        "bewertet haben.",
        "Editors only: what users asked and how they rated the answers.",
    ),
    "ed_logout": ("Abmelden", "Log out"),
    "ed_login": (
        "Redaktionszugang des Verstetigungslotsen. Benutzername: redaktion, Passwort: der Wert von "
        "LOTSE_EDITOR_TOKEN (bei der IT erfragen).",
        "Editors' access to the Verstetigungslotse. User name: redaktion, password: the value of "
        "LOTSE_EDITOR_TOKEN (ask your IT).",
    ),
    "ed_heading": ("Rückmeldungen der Nutzerinnen und Nutzer", "User feedback"),
    "ed_refresh": ("Aktualisieren", "Refresh"),
    "ed_counts": ("Übersicht", "Summary"),
    "ed_recent": ("Neueste Rückmeldungen", "Recent feedback"),
    "ed_none": ("Noch keine Rückmeldungen.", "No feedback yet."),
    "ed_when": ("Zeit", "Time"),
    "ed_rating": ("Bewertung", "Rating"),
    "ed_question": ("Frage", "Question"),
    "ed_comment": ("Kommentar", "Comment"),
    "ed_sources": ("Quellen", "Sources"),
    "ed_mode": ("Modus", "Mode"),
    "ed_privacy": (
        "Gespeichert werden nur Frage, Antwort, Bewertung, Kommentar, Quellen und Zeitpunkt – keine Daten zur Person. "
        "Einträge werden nach {days} Tagen gelöscht.",
        "Only question, answer, rating, comment, sources and time are stored – no personal data. "
        "Entries are deleted after {days} days.",
    ),
    # errors (a failure while answering reads as assistant.errors.public_error says, as on every channel)
    "err_empty": ("Bitte eine Frage eingeben.", "Please enter a question."),
    "err_rate": (
        "Zu viele Anfragen. Bitte in {seconds} Sekunden erneut versuchen.",
        "Too many requests. Please try again in {seconds} seconds.",
    ),
    "err_index": ("Indexstatus nicht verfügbar: {msg}", "Index status unavailable: {msg}"),
    "notice": ("Hinweis", "Note"),
    # export
    "ex_title": ("Verstetigungslotse – Gespräch vom {when}", "Verstetigungslotse – conversation of {when}"),
    "ex_question": ("Frage", "Question"),
    "ex_answer": ("Antwort", "Answer"),
    "ex_filters": ("Filter", "Filters"),
    "ex_note": (
        "Antworten des Verstetigungslotsen stützen sich ausschließlich auf die angegebenen Quellen. Bitte prüfen Sie "
        "Zitate vor der Übernahme in Anträge im Originaldokument.",
        "Answers of the Verstetigungslotse rely only on the sources given. Please check quotes in the original "
        "document before using them in applications.",
    ),
}

RATING_LABELS = {"helpful": "fb_helpful", "not_helpful": "fb_not_helpful", "wrong_source": "fb_wrong_source"}


def t(lang: Lang, key: str, **kwargs: object) -> str:
    """The UI text ``key`` in ``lang`` ("de" or "en"), formatted with ``kwargs``."""
    de, en = _TEXTS[key]
    text = en if lang == "en" else de
    return text.format(**kwargs) if kwargs else text


def factor_choices(lang: Lang) -> list[tuple[str, str]]:
    labels = FACTOR_LABELS_EN if lang == "en" else FACTOR_LABELS
    return [(labels[f], f) for f in FACTORS]


def doc_type_choices(lang: Lang) -> list[tuple[str, str]]:
    return [(en if lang == "en" else de, key) for key, (de, en) in DOC_TYPES.items()]


def mode_label(mode: str, lang: Lang) -> str:
    return t(lang, "mode_llm" if mode == "llm" else "mode_extractive")
