"""Sentence selection for extractive answers (no index needed)."""

from __future__ import annotations

from assistant.extractive import select_sentences
from assistant.retrieval.analyzer import GermanAnalyzer
from assistant.types import Chunk, ScoredChunk

TEXT = (
    "Der Rat entscheidet am Ende über die Mittel für den Betrieb im nächsten Haushaltsjahr. "
    "Sie sollte kurz sein; bewährt hat sich ein Umfang von vier Seiten zuzüglich Anlagen. "
    "Ein Termin im Ausschuss vor der Sitzung hilft, offene Fragen zu klären."
)


def _hit(section: str, text: str = TEXT, rank: int = 1) -> ScoredChunk:
    chunk = Chunk(id=f"d:v:{rank:05d}", doc_id="d", version="v", text=text, source="leitfaden.md", title="Leitfaden",
                  page=None, section=section, chunk_index=rank, char_start=0, char_end=len(text))
    return ScoredChunk(chunk, 1.0 / rank, rank)


def test_section_heading_gives_a_sentence_its_subject() -> None:
    """"Sie sollte kurz sein" is about the Beschlussvorlage only through its heading."""
    analyzer = GermanAnalyzer()
    question = "Wie viele Seiten Umfang sollte eine Beschlussvorlage haben?"
    picks = select_sentences(question, [_hit("2. Rat › 2.1 Die Beschlussvorlage")], analyzer)
    assert "vier Seiten" in max(picks, key=lambda p: p.score).sentence.text
    plain = select_sentences(question, [_hit("2. Rat › 2.1 Ablauf")], analyzer)
    assert max(p.score for p in picks) > max(p.score for p in plain)


def test_a_sentence_about_the_subject_beats_one_that_only_inherits_it() -> None:
    analyzer = GermanAnalyzer()
    own = "Eine Beschlussvorlage mit Umfang von vier Seiten ist die Regel in Musterstadt."
    picks = select_sentences(
        "Welchen Umfang hat eine Beschlussvorlage?",
        [_hit("Die Beschlussvorlage", TEXT, 1), _hit("Anderes", own, 2)],
        analyzer,
        max_sentences=1,
    )
    assert picks[0].sentence.text == own


def test_a_line_fragment_passes_nothing_on() -> None:
    """In messy PDF text a line may be a fragment, not a sentence; only a whole sentence passes its words on."""
    analyzer = GermanAnalyzer()
    question = "Welchen Umfang hat die Beschlussvorlage?"

    def second_score(first_line: str) -> float:
        text = f"{first_line}\nMit einem Umfang von vier Seiten wurde sie angenommen und umgesetzt."
        picks = select_sentences(question, [_hit("", text)], analyzer)
        return next(p.score for p in picks if p.sentence.text.startswith("Mit einem Umfang"))

    assert second_score("Die Beschlussvorlage der Stadt zum Betrieb kam im Mai.") > second_score(
        "Die Beschlussvorlage der Stadt zum Betrieb"
    )
