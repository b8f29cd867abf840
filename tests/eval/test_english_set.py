"""The English question set stays a faithful translation of a fixed part of the German sets.

Each English question names its German original (``de_id``) and must expect exactly what the original expects,
so English and German hit@5 compare like for like (``python -m benchmarks english``). The German phrases are
checked against the documents by test_eval_set.py and test_realdocs_dev_set.py.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import EVAL_DIR


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL_DIR / name).read_text(encoding="utf-8").splitlines() if line]


ENGLISH = _read("english.jsonl")
SAMPLE = _read("questions.jsonl")
REAL = _read("realdocs_dev_pdf.jsonl") + _read("realdocs_dev_pages.jsonl")
GERMAN = {"sample": {q["id"]: q for q in SAMPLE}, "real": {q["id"]: q for q in REAL}}
KEYS = {"id", "de_id", "set", "question", "source", "page", "phrase", "split"}
#: Words that give away an untranslated German question (kept names like "Politik Bei Uns" are capitalised).
GERMAN_WORDS = {
    "und",
    "der",
    "die",
    "das",
    "ist",
    "wie",
    "wir",
    "ich",
    "welche",
    "wann",
    "muss",
    "sollte",
    "nicht",
}


def test_every_line_has_the_promised_shape() -> None:
    assert [q["id"] for q in ENGLISH] == [f"en-{i:03d}" for i in range(1, len(ENGLISH) + 1)]
    for q in ENGLISH:
        assert set(q) == KEYS, q["id"]
        assert q["set"] in GERMAN, q["id"]
        assert q["question"].strip().endswith("?"), q["id"]
    assert len({q["de_id"] for q in ENGLISH}) == len(ENGLISH), "one translation per German question"


def test_the_selection_follows_its_rule() -> None:
    """Every 3rd answerable non-follow-up sample question and every 4th answerable German real question, in
    file order: a fixed rule, so nobody can pick the questions English happens to retrieve well."""
    sample = [q["id"] for q in SAMPLE if q.get("kind") not in ("out_of_scope", "followup")][2::3]
    real = [q["id"] for q in REAL if q["lang"] == "de" and q["kind"] != "out_of_scope"][3::4]
    assert [q["de_id"] for q in ENGLISH if q["set"] == "sample"] == sample
    assert [q["de_id"] for q in ENGLISH if q["set"] == "real"] == real
    assert len(sample) >= 55 and len(real) >= 55


@pytest.mark.parametrize("item", ENGLISH, ids=[q["id"] for q in ENGLISH])
def test_translation_expects_what_its_original_expects(item: dict) -> None:
    original = GERMAN[item["set"]].get(item["de_id"])
    assert original is not None, f"{item['id']}: no German question {item['de_id']} in the {item['set']} set"
    for key in ("source", "page", "phrase"):
        assert item[key] == original[key], f"{item['id']}: {key} differs from {item['de_id']}"
    if item["set"] == "real":
        assert item["split"] == original.get("split"), item["id"]
    assert item["question"] != original["question"]
    words = set(re.findall(r"\b[a-zäöüß]+\b", item["question"]))
    assert not words & GERMAN_WORDS, f"{item['id']} reads German: {sorted(words & GERMAN_WORDS)}"


def test_sample_pairs_split_every_fifth_into_test() -> None:
    """The sample set's German questions have no split; its English pairs get one by a fixed rule (every 5th in
    file order is test), so cross-language settings are chosen on the dev pairs only."""
    pairs = [q for q in ENGLISH if q["set"] == "sample"]
    assert [q["split"] for q in pairs] == ["test" if i % 5 == 4 else "dev" for i in range(len(pairs))]
