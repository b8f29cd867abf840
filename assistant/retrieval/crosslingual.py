"""German search words for an English question, from a bundled word lexicon (no language model needed).

The documents are German; BM25 finds their words only when the question uses them. An English question reaches
them through the dense side alone (e5 is multilingual, but its cross-lingual similarities are weaker), and its
BM25 side matches only the few English documents. Dictionary-based query translation, the classic baseline of
cross-language retrieval, closes part of that gap: each English word or phrase of the question is looked up in
`assistant/data/lexicon_de_en.tsv` (German word, tab, English translations separated by ``|``; written by the
team from the documents' vocabulary, editable) and the German words it translates are searched as well.

With a language model configured, the chat service translates the question itself (`llm.translate_query`);
the lexicon is the offline path, used on the lexical side only (the dense side embeds the question as asked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from assistant.errors import ConfigError
from assistant.retrieval.analyzer import fold

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parent.parent / "data" / "lexicon_de_en.tsv"

#: Longest English phrase looked up (words).
MAX_PHRASE = 3
#: Most German words one English word or phrase adds (the lexicon lists inflected forms separately; the most
#: frequent forms come first in the file). English dev questions, hit@5 at 3 / 6 / 10: sample set 0.833 /
#: 0.812 / 0.833, real 0.900 / 0.900 / 0.900 (MRR@10 0.665 / 0.645 / 0.663 and 0.734 / 0.751 / 0.737).
MAX_PER_TERM = 3

_WORD = re.compile(r"[a-z][a-z'-]*")

# Function words that carry no topic; lexicon entries for them would only add noise.
_EN_STOPWORDS = frozenset(
    """a an the and or but if then than so as at by for from in into of on onto to with without about after
    before during until since over under between through per via is are was were be been being am do does did
    done doing have has had having can could may might must shall should will would i we you he she it they me us
    him her them my our your his its their this that these those there here what which who whom whose when where
    why how whether not no nor any some all each every both either neither other such same own more most much
    many few less least very too also just only even still yet already again ever never always often
    get got getting make made let lets please tell give need needs needed want wants""".split()  # noqa: SIM905 - readable as prose
)


def _singular(word: str) -> str:
    """A rough English singular, enough to match lexicon entries (municipalities -> municipality)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _key(words: Sequence[str]) -> str:
    return " ".join(_singular(w) for w in words)


class Lexicon:
    """English words and phrases -> the German words they translate.

    Args:
        entries: German word -> its English translations (single words or short phrases).
    """

    def __init__(self, entries: Mapping[str, Sequence[str]]) -> None:
        table: dict[str, list[str]] = {}
        for german, translations in entries.items():
            for english in translations:
                words = _WORD.findall(english.lower())
                if not words or len(words) > MAX_PHRASE or all(w in _EN_STOPWORDS for w in words):
                    continue
                targets = table.setdefault(_key(words), [])
                if german not in targets and len(targets) < MAX_PER_TERM:
                    targets.append(german)
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    @classmethod
    def load(cls, path: Path = DEFAULT_LEXICON_PATH) -> Lexicon:
        """Read the tab-separated lexicon; ``#`` lines and malformed lines are skipped (editors' file)."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise ConfigError(
                f"Wörterliste nicht gefunden: {path}. Bitte den Pfad prüfen (LOTSE_LEXICON_PATH) oder leer lassen.",
                f"Lexicon not found: {path}. Check the path (LOTSE_LEXICON_PATH) or leave it empty.",
            ) from e
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(
                f"Die Wörterliste {path} ist nicht lesbar ({e.__class__.__name__}): bitte als UTF-8-Textdatei "
                "speichern (Zeilen 'deutsches Wort<Tab>englisch|englisch').",
                f"The lexicon {path} cannot be read ({e.__class__.__name__}): save it as UTF-8 text (lines "
                "'German word<tab>english|english').",
            ) from e
        entries: dict[str, list[str]] = {}
        for line in text.splitlines():
            if not line.strip() or line.lstrip().startswith("#") or "\t" not in line:
                continue
            german, _, english = line.partition("\t")
            translations = [t.strip() for t in english.split("|") if t.strip()]
            if german.strip() and translations:
                entries.setdefault(german.strip(), []).extend(translations)
        return cls(entries)

    def translate(self, text: str) -> list[str]:
        """The German words for the English words and phrases of ``text``, longest phrase first, in order."""
        words = _WORD.findall(text.lower())
        out: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
                span = words[i : i + n]
                if n == 1 and span[0] in _EN_STOPWORDS:
                    continue
                german = self._table.get(_key(span))
                if german:
                    out.extend(g for g in german if g not in out)
                    i += n
                    break
            else:
                i += 1
        return out


def german_terms(lexicon: Lexicon | None, text: str) -> str:
    """The lexicon's German words for ``text`` as one search string ("" without a lexicon)."""
    return " ".join(lexicon.translate(text)) if lexicon is not None else ""


#: Places with an English name of their own (exonyms), for `unknown_in_german` only: searching "München" for an
#: English question about "Munich" as well made the answer layer prefer any sentence naming the city (measured:
#: one real dev answer lost its expected phrase), so they are no search words.
PLACE_NAMES = {
    "munich": "München", "cologne": "Köln", "nuremberg": "Nürnberg", "hanover": "Hannover",
    "brunswick": "Braunschweig", "bavaria": "Bayern", "hesse": "Hessen", "saxony": "Sachsen",
    "thuringia": "Thüringen", "europe": "Europa", "zurich": "Zürich", "vienna": "Wien", "brussels": "Brüssel",
    "copenhagen": "Kopenhagen", "austria": "Österreich", "switzerland": "Schweiz", "netherlands": "Niederlande",
    "denmark": "Dänemark", "france": "Frankreich", "finland": "Finnland", "spain": "Spanien", "italy": "Italien",
    "britain": "Großbritannien", "milan": "Mailand", "lisbon": "Lissabon", "warsaw": "Warschau", "prague": "Prag",
}


def unknown_in_german(
    unknown: frozenset[str], question: str, lexicon: Lexicon, unknown_words: Callable[[str], list[str]]
) -> frozenset[str]:
    """The words of a question in another language that the corpus knows neither as such nor through their
    German translation (``unknown_words``: the corpus's unknown words of a text): "Munich" is no unknown place
    when the documents say "München" (the answer layer refuses questions about places no document mentions).
    ``unknown`` holds folded words ("prague" folds to "pragu"); they are looked up as the question spells them."""
    spelled: dict[str, str] = {}
    for word in re.findall(r"[a-z]+", question.lower()):
        spelled.setdefault(fold(word), word)

    def known(folded: str) -> bool:
        word = spelled.get(folded, folded)
        german = [*lexicon.translate(word), *([PLACE_NAMES[word]] if word in PLACE_NAMES else [])]
        return any(not unknown_words(g) for g in german)

    return frozenset(w for w in unknown if not known(w))
