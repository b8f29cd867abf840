"""German text analysis for lexical retrieval: one analyzer for documents and queries alike.

Pipeline per text: Unicode NFC → lower case → tokens (numbers kept, hyphenated compounds give their parts and
the joined whole) → umlaut/ß folding → stopwords dropped → Snowball German stem, plus the stems of the parts of
compound words.

Umlaut folding maps ä/ö/ü to a/o/u (and ß to ss), not to ae/oe/ue. Three spellings reach the index: "Zuständigkeit",
"Zustaendigkeit" (no umlaut keys) and "Zustandigkeit" (umlauts dropped, as in many URLs and old systems). Folding
to the base vowel lets all three meet: the transliterations ae/oe/ue are first read as umlauts (the rule of
Snowball's "german2" variant: not after a vowel, so "Feuer", "Dauer" and "neue" stay intact, and "ue" not after q,
so "Frequenz" stays intact), then every umlaut loses its dots. Folding to "ae" instead could never match the third
spelling. It also agrees with the Snowball German stemmer, which ends by mapping ä→a itself, and merges umlaut
plurals with their singular ("Städte" → "stadt").

Compound splitting is vocabulary-driven, after Koehn & Knight (2003, "Empirical Methods for Compound Splitting"):
a word is split into parts that are each a known word (or the stem of one), optionally joined by a German linking
element (Fugenelement: -s-, -es-, -n-, -en-, -er-, -e-, -ens-, -ns-); the last part may carry an inflection ending.
Known words are a small built-in base list plus the vocabulary of the indexed corpus (`learn_vocabulary`). Among
all splits the one with the fewest parts wins, then the one whose parts are most frequent (their geometric mean).
The analyzer emits the stem of the whole word *and* the stems of its parts, so "Verstetigungsstrategie" matches
"Strategie zur Verstetigung" while an exact compound match still scores higher (it matches more terms).
Libraries were considered and rejected: CharSplit / `compound-split` is GPL-3.0, 59 MB, takes ~35 s to import
and always proposes a split into exactly two parts; `german-nouns` is CC BY-SA data of 25 MB with no splitter
for words outside Wiktionary. A corpus-driven splitter knows the domain words ("Verstetigung", "Datenplattform")
that general dictionaries lack.

Speed: every step after tokenisation is cached per distinct token (``functools.lru_cache``), so each distinct
word is stemmed and split once. The pure-Python Snowball stemmer costs ~0.15-0.25 ms a word and dominates the
build of large indexes; when PyStemmer (the C Snowball, same stems) is installed, `snowballstemmer` uses it
automatically and that cost all but vanishes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

import snowballstemmer

_CACHE_SIZE = 1 << 20

# A number with separators ("1.500.000", "2,5", "31.12.2025") or a run of letters/digits with inner hyphens.
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:-[^\W_]+)*")
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
# Unicode hyphens become "-"; the soft hyphen vanishes (dashes and slashes stay separators).
_HYPHEN_FIXES = (("\u2010", "-"), ("\u2011", "-"), ("\u00ad", ""))
# ae/oe/ue read as umlaut unless after a vowel (Feuer, Dauer, neue) or, for ue, after q (Frequenz).
_TRANSLIT_RE = re.compile(r"(?<![aeiouyq])([aou])e")


def _wordlist(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: German function words in ordinary spelling (they are folded like every token before comparison).
GERMAN_STOPWORDS: frozenset[str] = frozenset(
    _wordlist(
        """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes auch auf aus
    bei beim bin bis bist bzw da dabei dadurch dafür dagegen daher damit dann dar daran darauf daraus darin
    darüber darum das dass dazu dein deine dem den denn der deren derer des dessen dich die dies diese diesem
    diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines einige einigen einiger er es
    etwa etwas euch euer eure für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen
    ihr ihre ihrem ihren ihrer ihres im in indem innen ins ist ja je jede jedem jeden jeder jedes jedoch jene
    jenem jenen jener jenes kann kein keine keinem keinen keiner kannst können könnte man manche manchem manchen
    mancher mich mir mit muss musste müssen nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem
    seinen seiner seines seit selbst sich sie sind so solche solchem solchen solcher soll sollen sollte sondern
    sowie sowohl über um und uns unser unsere unter usw vom von vor wann war waren warum was weil welche welchem
    welchen welcher welches wenn wer werde werden wie wieder will wir wird wo wobei wurde wurden würde würden
    zu zum zur zwar zwischen ggf etc daß ca inkl
    gibt gab worden mehr viel viele vielen bitte eigentlich ganz immer schon bereits mal zudem jeweils sodass
    wäre hätte sei seid
    """
    )
)

#: Domain words known before any corpus is indexed, so query-side splitting works on a fresh analyzer and
#: common short heads (Rat, Amt, Bau) are known. Corpus words are added by `learn_vocabulary`.
BASE_VOCABULARY: tuple[str, ...] = _wordlist(
    """
    abfall abwasser akzeptanz amt analyse anbieter anforderung angebot anlage anschluss anwendung app arbeit art
    aufgabe ausschreibung bau bauen bedarf begleitforschung beratung bereich bericht beteiligung betreiber betrieb
    bevölkerung bildung bund bürger city cloud daten dauer dienst dienstleistung digital digitalisierung dorf
    einnahme energie ende entwicklung ergebnis erfolg evaluation fach faktor finanzierung fläche folge förderung
    frist gebühr gebäude gemeinde gesamt gesellschaft gesetz gesundheit gruppe haushalt hilfe infrastruktur
    kennzahl klima kommune kommunikation kompetenz konzept kooperation koordinierung kosten kreis kultur land
    leistung leitfaden licht lösung management maßnahme messung miete mittel mobilität modell netz netzwerk
    nutzer nutzung offen open ort partner partnerschaft personal phase plan planung plattform politik programm
    projekt prozess qualität quartier rat raum recht region regel sensor sicherheit smart software source stadt
    standard stelle steuer steuerung strategie struktur system team technik transfer umsetzung umwelt vergabe
    verkehr verstetigung vertrag verwaltung wasser weg wirkung wirtschaft wissen zeit ziel zuständigkeit
    """
)

# German linking elements between compound parts, grouped by their first letter (the splitter looks only at the
# group of the letter that follows a known part).
_LINKERS: tuple[str, ...] = ("", "s", "es", "n", "en", "er", "e", "ens", "ns")
_LINKERS_BY_LETTER: dict[str, tuple[str, ...]] = {
    letter: ("", *(lk for lk in _LINKERS if lk.startswith(letter)))
    for letter in {lk[0] for lk in _LINKERS if lk}
}
# Inflection endings a compound's last part may carry ("...strategien", "...modells").
_HEAD_ENDINGS: tuple[str, ...] = ("", "s", "es", "n", "en", "e", "er", "ern", "em", "innen", "in")
_MIN_PART = 4  # shortest first/middle part; the head may be 3 letters (Stadtrat, Bauamt)
_MIN_HEAD = 3
_MIN_SPLIT_LEN = 7  # shorter words are not compounds worth splitting
_MAX_SPLIT_LEN = 40  # longer "words" are URLs or garbage
_MAX_PARTS = 4


def fold(word: str) -> str:
    """Fold a lower-case word: ß→ss, ae/oe/ue→a/o/u (see module docstring), umlauts and accents→base letter."""
    word = word.replace("ß", "ss")
    if "e" in word:
        word = _TRANSLIT_RE.sub(r"\1", word)
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
        word = unicodedata.normalize("NFC", word)
    return word


_FOLDED_STOPWORDS = frozenset(fold(w) for w in GERMAN_STOPWORDS)


class GermanAnalyzer:
    """Turns German text into index terms; the same instance must analyse the documents and the queries.

    Args:
        stopwords: Words to drop (any spelling; they are folded). Defaults to `GERMAN_STOPWORDS`.
        base_vocabulary: Words known to the compound splitter before `learn_vocabulary`.
        split_compounds: Turn compound splitting off (e.g. to compare against plain stemming).
    """

    def __init__(
        self,
        stopwords: Iterable[str] | None = None,
        base_vocabulary: Iterable[str] | None = None,
        split_compounds: bool = True,
    ) -> None:
        self._stopwords = (
            _FOLDED_STOPWORDS if stopwords is None else frozenset(fold(w.lower()) for w in stopwords)
        )
        self._split_enabled = split_compounds
        self._stemmer = snowballstemmer.stemmer("german")
        # Known compound parts (folded words and their stems) with their corpus frequency.
        self._forms: Counter[str] = Counter()
        # Forms seen as words; the others are stems and must not be stemmed again.
        self._words: set[str] = set()
        # First four letters of a form -> the lengths of forms starting so: the splitter tests only those slices.
        self._length_sets: dict[str, set[int]] = {}
        self._lengths: dict[str, tuple[int, ...]] = {}
        self._stem = lru_cache(maxsize=_CACHE_SIZE)(self._stem_uncached)
        self._surface = lru_cache(maxsize=_CACHE_SIZE)(self._surface_uncached)
        self._word_terms = lru_cache(maxsize=_CACHE_SIZE)(self._word_terms_uncached)
        self._token_terms = lru_cache(maxsize=_CACHE_SIZE)(self._token_terms_uncached)
        self._base_counts = Counter(BASE_VOCABULARY if base_vocabulary is None else base_vocabulary)
        self._add_forms(self._base_counts)

    # -- public API -------------------------------------------------------------------------------------------

    def analyze(self, text: str) -> list[str]:
        """Index terms of `text` in order; a compound contributes its own stem followed by its parts' stems."""
        out: list[str] = []
        for raw in self._raw_tokens(text):
            out.extend(self._token_terms(raw))
        return out

    def tokens(self, text: str) -> list[str]:
        """Raw tokens of `text` (NFC, lower case, hyphens unified); `token_terms` turns each into index terms."""
        return self._raw_tokens(text)

    def token_words(self, token: str) -> tuple[str, ...]:
        """Folded content words of one raw token (hyphen parts and whole; empty for a stopword)."""
        return self._surface(token)

    def token_terms(self, token: str) -> tuple[str, ...]:
        """Index terms of one raw token; ``analyze(t) == [x for tok in tokens(t) for x in token_terms(tok)]``."""
        return self._token_terms(token)

    def word_stems(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """Per content word of `text`: (its stem, the stems of its smallest known parts, empty if not a compound).

        "Anschlussfinanzierungsmodell" → ("anschlussfinanzierungsmodell", ("anschluss", "finanzier", "modell")).
        """
        out = []
        for raw in self._raw_tokens(text):
            for word in self._surface(raw):
                leaves = self._leaves(word)
                out.append((self._stem(word), leaves if len(leaves) > 1 else ()))
        return out

    def words(self, text: str) -> list[str]:
        """Folded content words of `text` (no stems), including the parts and the whole of hyphenated words."""
        out: list[str] = []
        for raw in self._raw_tokens(text):
            out.extend(self._surface(raw))
        return out

    def learn_vocabulary(self, word_counts: Mapping[str, int], *, replace: bool = False) -> None:
        """Teach the compound splitter the words of a corpus (counts as returned by `words`).

        This changes how later texts are analysed, so learn first, then analyse documents and queries.
        With ``replace=True`` the words learned before are forgotten (the base list stays), as when a corpus
        is indexed anew; the new vocabulary replaces the old one in one step, so concurrent readers never see
        half of it.
        """
        self._add_forms(word_counts, replace=replace)

    def fit(self, texts: Iterable[str]) -> None:
        """Learn the vocabulary of `texts` (convenience for `learn_vocabulary`)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(self.words(text))
        self.learn_vocabulary(counts)

    def split(self, word: str) -> tuple[str, ...]:
        """The parts a single word splits into (folded, unstemmed); empty when it is no known compound."""
        return self._split(fold(unicodedata.normalize("NFC", word).lower()))

    def clear_caches(self) -> None:
        """Free the per-token caches (e.g. after indexing a large corpus); results stay the same."""
        for cache in (self._stem, self._surface, self._word_terms, self._token_terms):
            cache.cache_clear()

    @property
    def vocabulary_size(self) -> int:
        return len(self._forms)

    # -- tokenisation -----------------------------------------------------------------------------------------

    @staticmethod
    def _raw_tokens(text: str) -> list[str]:
        text = unicodedata.normalize("NFC", text).lower()
        for old, new in _HYPHEN_FIXES:  # str.replace is much faster than str.translate with a dict
            if old in text:
                text = text.replace(old, new)
        return _TOKEN_RE.findall(text)

    def _surface_uncached(self, raw: str) -> tuple[str, ...]:
        """Folded content words of one raw token; a hyphenated token gives its parts and, if all are
        alphabetic, the joined whole ("smart-city-projekt" → smart, city, projekt, smartcityprojekt)."""
        if raw[0].isdigit() and ("." in raw or "," in raw):
            return (raw.replace(".", ""),) if _THOUSANDS_RE.fullmatch(raw) else (raw,)
        if "-" not in raw:
            word = fold(raw)
            return (word,) if self._is_content(word) else ()
        parts = [fold(p) for p in raw.split("-")]
        out = [p for p in parts if self._is_content(p)]
        if len(parts) > 1 and all(p.isalpha() for p in parts):
            whole = "".join(parts)
            if whole not in out:
                out.append(whole)
        return tuple(dict.fromkeys(out))

    def _is_content(self, word: str) -> bool:
        if word in self._stopwords:
            return False
        return len(word) > 1 or word.isdigit()

    def _token_terms_uncached(self, raw: str) -> tuple[str, ...]:
        terms: list[str] = []
        for word in self._surface(raw):
            terms.extend(self._word_terms(word))
        return tuple(dict.fromkeys(terms))

    # -- stemming and splitting -------------------------------------------------------------------------------

    def _stem_uncached(self, word: str) -> str:
        if not word.isalpha():
            return word
        return self._stemmer.stemWord(word)

    def _word_terms_uncached(self, word: str) -> tuple[str, ...]:
        terms = [self._stem(word)]
        for part in self._split(word):
            if part in self._words:
                terms.extend(self._word_terms(part))  # parts may be compounds themselves
            else:
                terms.append(part)  # already a stem ("betreib", "forder"); Snowball is not idempotent
        return tuple(dict.fromkeys(t for t in terms if t))

    def _leaves(self, word: str) -> tuple[str, ...]:
        parts = self._split(word)
        if not parts:
            return (self._stem(word),)
        out: list[str] = []
        for part in parts:
            out.extend(self._leaves(part) if part in self._words else (part,))
        return tuple(out)

    def _add_forms(self, word_counts: Mapping[str, int], replace: bool = False) -> None:
        if replace:
            forms: Counter[str] = Counter()
            words: set[str] = set()
            length_sets: dict[str, set[int]] = {}
            sources: tuple[Mapping[str, int], ...] = (self._base_counts, word_counts)
        else:
            forms, words, length_sets = self._forms, self._words, self._length_sets
            sources = (word_counts,)
        for counts in sources:
            for raw_word, count in counts.items():
                word = fold(raw_word.lower())
                if len(word) < _MIN_HEAD or not word.isalpha() or word in self._stopwords:
                    continue
                forms[word] += count
                words.add(word)
                length_sets.setdefault(word[:_MIN_PART], set()).add(len(word))
                stem = self._stem(word)
                if len(stem) >= _MIN_HEAD and stem != word:
                    forms[stem] += count
                    length_sets.setdefault(stem[:_MIN_PART], set()).add(len(stem))
        lengths = {prefix: tuple(sorted(sizes)) for prefix, sizes in length_sets.items()}
        self._forms, self._words, self._length_sets, self._lengths = forms, words, length_sets, lengths
        # Splits depend on the vocabulary: forget every cached analysis that used it.
        self._word_terms.cache_clear()
        self._token_terms.cache_clear()

    def _split(self, word: str) -> tuple[str, ...]:
        if (
            not self._split_enabled
            or not (_MIN_SPLIT_LEN <= len(word) <= _MAX_SPLIT_LEN)
            or not word.isalpha()
        ):
            return ()
        endings = tuple(e for e in _HEAD_ENDINGS if word.endswith(e))
        best = self._best_split(word, 0, endings, {})
        if best is None or not 2 <= len(best[1]) <= _MAX_PARTS:
            return ()
        return best[1]

    def _best_split(
        self,
        word: str,
        start: int,
        endings: tuple[str, ...],
        memo: dict[int, tuple[tuple[int, float], tuple[str, ...]] | None],
    ) -> tuple[tuple[int, float], tuple[str, ...]] | None:
        """Best split of word[start:] as ((number of parts, -sum of log frequencies), parts), or None.

        Fewest parts first (a known compound beats three pieces of it), then the most frequent parts (for a
        fixed number of parts the largest sum of logs is the largest geometric mean, as in Koehn & Knight).
        Memoised per start position, so a word costs O(length² × linkers) set look-ups at worst.
        """
        if start in memo:
            return memo[start]
        forms = self._forms
        length = len(word)
        best: tuple[tuple[int, float], tuple[str, ...]] | None = None
        # Head: the remainder is one known part, possibly with an inflection ending. (At the start of the word
        # this would be the whole word, which is no split.)
        for ending in endings if start > 0 else ():
            head = word[start : length - len(ending)]
            if len(head) >= _MIN_HEAD and head in forms:
                best = ((1, -math.log(forms[head] + 1)), (head,))
                break
        # Modifier: a known part, a linking element, then a split of the rest.
        for size in self._lengths.get(word[start : start + _MIN_PART], ()):  # ascending
            end = start + size
            if end > length - _MIN_HEAD:
                break
            part = word[start:end]
            if part not in forms:
                continue
            part_cost = -math.log(forms[part] + 1)
            for linker in _LINKERS_BY_LETTER.get(word[end], ("",)):
                if len(linker) > 1 and not word.startswith(linker, end):
                    continue
                nxt = end + len(linker)
                if length - nxt < _MIN_HEAD:
                    continue
                sub = self._best_split(word, nxt, endings, memo)
                if sub is None:
                    continue
                (n_sub, cost_sub), parts = sub
                score = (n_sub + 1, cost_sub + part_cost)
                if best is None or score < best[0]:
                    best = (score, (part, *parts))
        memo[start] = best
        return best
