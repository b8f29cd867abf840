"""BM25Retriever: compound-aware retrieval, filters, edge cases and term coverage."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.retrieval.analyzer import GermanAnalyzer
from assistant.retrieval.lexical import BM25Retriever
from assistant.types import Chunk


def make_chunk(chunk_id: str, text: str, section: str = "", **metadata: object) -> Chunk:
    return Chunk(
        id=chunk_id,
        doc_id=chunk_id.split(":")[0],
        version="v1",
        text=text,
        source=f"{chunk_id.split(':')[0]}.pdf",
        title="",
        page=1,
        section=section,
        chunk_index=0,
        char_start=0,
        char_end=len(text),
        metadata=dict(metadata),
    )


# Each target spells a compound out; distractors share some words but not the pair.
CHUNKS = [
    make_chunk(
        "strat:1", "Die Stadt braucht eine Strategie zur Verstetigung der Pilotprojekte.", factor="wirkung"
    ),
    make_chunk(
        "betr:1", "Das Modell des Betreibers legt fest, wer die Sensoren wartet.", factor="zustaendigkeiten"
    ),
    make_chunk(
        "daten:1", "Eine gemeinsame Plattform für Daten aus Verkehr und Umwelt.", factor="anschlussfaehigkeit"
    ),
    make_chunk(
        "anschl:1",
        "Die Finanzierung im Anschluss an die Förderphase trägt der Haushalt.",
        factor="finanzierung",
    ),
    make_chunk("dist:1", "Die Kommunikation mit dem Stadtrat verlief gut.", factor="kommunikation"),
    make_chunk("dist:2", "Ein Anschluss an das Glasfasernetz ist geplant.", factor="anschlussfaehigkeit"),
    make_chunk("dist:3", "Die Pilotprojekte laufen bis 2026 weiter.", factor="wirkung"),
]


@pytest.fixture()
def retriever() -> BM25Retriever:
    return BM25Retriever.from_chunks(CHUNKS, GermanAnalyzer())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Verstetigungsstrategie", "strat:1"),
        ("Betreibermodell", "betr:1"),
        ("Datenplattform", "daten:1"),
        ("Anschlussfinanzierung", "anschl:1"),
    ],
)
def test_compound_query_finds_spelled_out_passage(
    retriever: BM25Retriever, query: str, expected: str
) -> None:
    results = retriever.retrieve(query, k=3)
    assert results[0].chunk.id == expected
    # Plain stemmed tokens cannot bridge the compound: nothing (or something else) comes first.
    plain = BM25Retriever.from_chunks(CHUNKS, GermanAnalyzer(split_compounds=False)).retrieve(query, k=3)
    assert not plain or plain[0].chunk.id != expected


def test_spelled_out_query_finds_compound_passage() -> None:
    chunks = [
        make_chunk("a:1", "Unser Betreibermodell sieht eine kommunale Anstalt vor."),
        make_chunk("b:1", "Die Anstalt betreibt das Freibad."),
    ]
    results = BM25Retriever.from_chunks(chunks, GermanAnalyzer()).retrieve("Modell des Betreibers")
    assert results[0].chunk.id == "a:1"


def test_exact_compound_outranks_spelled_out_form() -> None:
    chunks = [
        make_chunk("split:1", "Die Strategie zur Verstetigung liegt vor."),
        make_chunk("exact:1", "Die Verstetigungsstrategie liegt vor."),
    ]
    results = BM25Retriever.from_chunks(chunks, GermanAnalyzer()).retrieve("Verstetigungsstrategie")
    assert [r.chunk.id for r in results] == ["exact:1", "split:1"]


def test_ranks_scores_and_k(retriever: BM25Retriever) -> None:
    results = retriever.retrieve("Pilotprojekte Verstetigung Anschluss Stadtrat", k=3)
    assert [r.rank for r in results] == [1, 2, 3]
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert len(retriever.retrieve("Pilotprojekte Verstetigung Anschluss Stadtrat", k=100)) == 5
    assert retriever.retrieve("Pilotprojekte", k=0) == []


def test_where_filters_and_still_fills_k(retriever: BM25Retriever) -> None:
    results = retriever.retrieve(
        "Anschluss", k=5, where=lambda c: c.metadata["factor"] == "anschlussfaehigkeit"
    )
    assert [r.chunk.id for r in results] == ["dist:2"]
    assert results[0].rank == 1
    results = retriever.retrieve("Pilotprojekte", k=1, where=lambda c: c.id == "dist:3")
    assert [r.chunk.id for r in results] == ["dist:3"]
    assert retriever.retrieve("Pilotprojekte", where=lambda c: False) == []


def test_umlaut_variants_in_query(retriever: BM25Retriever) -> None:
    for query in ["Förderphase", "Foerderphase", "Forderphase"]:
        assert retriever.retrieve(query)[0].chunk.id == "anschl:1"


def test_queries_without_known_terms_return_nothing(retriever: BM25Retriever) -> None:
    assert retriever.retrieve("") == []
    assert retriever.retrieve("und der die für") == []
    assert retriever.retrieve("Quantencomputer Blockchain") == []


def test_empty_index() -> None:
    empty = BM25Retriever.from_chunks([], GermanAnalyzer())
    assert len(empty) == 0
    assert empty.retrieve("Verstetigung") == []
    only_stopwords = BM25Retriever.from_chunks([make_chunk("x:1", "und der die")], GermanAnalyzer())
    assert only_stopwords.retrieve("und Verstetigung") == []


def test_section_heading_is_searchable() -> None:
    chunks = [
        make_chunk("h:1", "Hier steht nur Fließtext.", section="3 Betreibermodelle"),
        make_chunk("h:2", "Anderer Fließtext.", section="4 Kommunikation"),
    ]
    assert BM25Retriever.from_chunks(chunks).retrieve("Betreibermodell")[0].chunk.id == "h:1"


def test_term_coverage(retriever: BM25Retriever) -> None:
    strat, betr = CHUNKS[0], CHUNKS[1]
    assert retriever.term_coverage("Strategie zur Verstetigung", strat) == 1.0
    # A compound counts as present when all its parts are there.
    assert retriever.term_coverage("Verstetigungsstrategie", strat) == 1.0
    assert retriever.term_coverage("Wann endet das Betreibermodell?", betr) == 0.5  # endet, betreibermodell
    assert retriever.term_coverage("Strategie Haushalt Freibad Verstetigung", strat) == 0.5
    assert retriever.term_coverage("Betreibermodell", strat) == 0.0
    assert retriever.term_coverage("und der die", strat) == 0.0
    assert retriever.term_coverage("Pilotprojekte Pilotprojekt", strat) == 1.0


def test_scores_equal_plain_bm25s_over_the_same_terms() -> None:
    """The low-memory CSC builder must not change a single score."""
    import bm25s

    # Repeated texts under new ids exercise the column sort with many equal terms.
    chunks = [make_chunk(f"{c.id}#{n}", c.text) for n in range(3) for c in CHUNKS]
    retriever = BM25Retriever.from_chunks(chunks, GermanAnalyzer())
    reference = bm25s.BM25()
    reference.index([retriever.analyzer.analyze(c.text) for c in chunks], show_progress=False)
    for query in ["Verstetigungsstrategie Stadtrat", "Anschluss Finanzierung Haushalt", "Pilotprojekte 2026"]:
        terms = list(dict.fromkeys(t for t in retriever.analyzer.analyze(query) if t in reference.vocab_dict))
        expected = reference.get_scores(terms)
        got = {r.chunk.id: r.score for r in retriever.retrieve(query, k=len(chunks))}
        assert got, query
        for i, chunk in enumerate(chunks):
            assert got.get(chunk.id, 0.0) == pytest.approx(float(expected[i]), rel=1e-6)


def test_rebuilding_with_the_same_analyzer_replaces_its_vocabulary() -> None:
    analyzer = GermanAnalyzer()
    BM25Retriever.from_chunks([make_chunk("k:1", "Der Klärschlamm geht in die Verwertung.")], analyzer)
    assert analyzer.split("Klärschlammverwertung") == ("klarschlamm", "verwertung")
    size = analyzer.vocabulary_size
    BM25Retriever.from_chunks(CHUNKS, analyzer)
    assert analyzer.split("Klärschlammverwertung") == ()
    fresh = GermanAnalyzer()
    BM25Retriever.from_chunks(CHUNKS, fresh)
    assert analyzer.vocabulary_size == fresh.vocabulary_size != size


def test_expansion_terms_help_at_reduced_weight() -> None:
    chunks = [
        make_chunk("ozg:1", "Das Onlinezugangsgesetz verpflichtet zur digitalen Verwaltung."),
        make_chunk("plain:1", "Die digitale Verwaltung braucht Personal."),
    ]
    retriever = BM25Retriever.from_chunks(chunks, GermanAnalyzer())
    # The query alone does not find the long form ...
    assert [r.chunk.id for r in retriever.retrieve("OZG")] == []
    # ... the expansion does, and its score is scaled by the weight.
    full = retriever.retrieve("OZG", expansion="Onlinezugangsgesetz", expansion_weight=1.0)
    half = retriever.retrieve("OZG", expansion="Onlinezugangsgesetz", expansion_weight=0.5)
    assert [r.chunk.id for r in full] == ["ozg:1"]
    assert half[0].score == pytest.approx(full[0].score * 0.5)
    assert retriever.retrieve("OZG", expansion="Onlinezugangsgesetz", expansion_weight=0) == []
    # Expansion terms the query already has are not counted twice.
    plain = retriever.retrieve("digitale Verwaltung")
    both = retriever.retrieve("digitale Verwaltung", expansion="Verwaltung", expansion_weight=1.0)
    assert [(r.chunk.id, r.score) for r in both] == [(r.chunk.id, r.score) for r in plain]


def test_partial_sort_matches_a_full_stable_sort() -> None:
    """The top-k shortcut returns exactly what sorting every candidate would, ties included."""
    from assistant.retrieval.lexical import _best_first

    rng = np.random.default_rng(7)
    for _ in range(200):
        scores = rng.integers(0, 6, size=300).astype(np.float32)  # many ties on purpose
        candidates = np.flatnonzero(scores > 0)
        full = candidates[np.argsort(-scores[candidates], kind="stable")]
        for n in (1, 5, 50, candidates.size, candidates.size + 3):
            assert _best_first(candidates, scores, n).tolist() == full[:n].tolist()


# -- signals for the answer layer and field weights -------------------------------------------------------------
def test_unknown_words_name_what_the_corpus_never_uses() -> None:
    retriever = BM25Retriever.from_chunks(CHUNKS, GermanAnalyzer())
    # "Plattform" is known, "Bamberg" is not; "Datenstrategie" splits into known parts and counts as known.
    assert retriever.unknown_words("Welche Plattform hat Bamberg?") == ["bamberg"]
    assert retriever.unknown_words("Gibt es eine Datenstrategie?") == []
    assert retriever.known_fraction("Welche Plattform hat Bamberg?") == pytest.approx(1 / 2)


def test_result_knows_a_word_when_one_is_not_unknown() -> None:
    from assistant.retrieval.base import RetrievalResult

    result = RetrievalResult("q", "q", [], unknown_words=frozenset({"bamberg", "ulm"}))
    assert not result.knows(["bamberg"])
    assert result.knows(["bad", "bamberg"])  # one known part of the name is enough
    assert not result.knows([])  # a name without content words tells nothing about the corpus


def test_section_weight_lifts_a_heading_match() -> None:
    chunks = [
        make_chunk("a:1", "Die Kosten trägt der Landkreis über fünf Jahre.", section="Finanzierung"),
        make_chunk("b:1", "Finanzierung wird später geklärt, zuerst geht es um Ziele und Nutzen im Projekt."),
    ]
    unweighted = BM25Retriever.from_chunks(chunks, GermanAnalyzer(), section_weight=0)
    weighted = BM25Retriever.from_chunks(chunks, GermanAnalyzer(), section_weight=2)
    assert [h.chunk.id for h in unweighted.retrieve("Finanzierung")] == ["b:1"]
    assert [h.chunk.id for h in weighted.retrieve("Finanzierung")][0] == "a:1"
