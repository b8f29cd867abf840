"""Check the sample PDFs and their evaluation questions.

Run from the repository root:

    /tmp/venv/bin/python corpus/_build/check_questions.py [--manifest /tmp/manifest_parts/pdf.yaml] [--fix-pages]

Checks, for every PDF built from corpus/_build/src/*.md:
- the PDF exists, has 5-10 pages, metadata (title, author, subject with "Beispielkorpus"), the sample notice on
  page 1, the running header from page 2 and a "Seite N von M" footer on every page, some hyphenated line breaks;
- every question in tests/eval/parts/pdf.jsonl: required fields, kind, unique id, a 3-8 word phrase that occurs
  exactly once in the document and on the named page (pypdf text, "-\\n" joined, whitespace collapsed);
- the minimum numbers of questions per kind;
- optionally the metadata YAML (all documents, required keys, factor ids in topics).
Prints the word counts of the Markdown sources. Exit code 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import yaml
from pypdf import PdfReader

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent
REPO = CORPUS.parent
QUESTIONS = REPO / "tests" / "eval" / "parts" / "pdf.jsonl"

KINDS = {"factual", "paraphrase", "compound", "abbreviation", "followup"}
MIN_KINDS = {"paraphrase": 10, "compound": 6, "abbreviation": 4, "followup": 4}
MIN_ANSWERABLE = 45
FACTORS = {"kommunikation", "wirkung", "anschlussfaehigkeit", "zustaendigkeiten", "finanzierung"}
MANIFEST_KEYS = [
    "title",
    "publisher",
    "year",
    "doc_type",
    "topics",
    "language",
    "licence",
    "sample",
    "references",
]
NOTICE = (
    "Beispielkorpus – fiktives Beispielmaterial des Verstetigungslotsen, keine amtliche Veröffentlichung."
)


def normalize(text: str) -> str:
    """Join hyphenated line breaks and collapse whitespace, as the evaluation does."""
    return re.sub(r"\s+", " ", text.replace("-\n", "")).strip()


def source_words(path: Path) -> int:
    body = path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    body = re.sub(r"<!--.*?-->", "", body)
    return sum(1 for tok in body.split() if re.search(r"\w", tok))


def check_pdfs(names: list[str], errors: list[str]) -> dict[str, list[str]]:
    pages_by_doc: dict[str, list[str]] = {}
    for name in names:
        path = CORPUS / name
        if not path.exists():
            errors.append(f"{name}: PDF fehlt (make_pdfs.py ausführen)")
            continue
        reader = PdfReader(path)
        raw = [p.extract_text() for p in reader.pages]
        pages_by_doc[name] = [normalize(t) for t in raw]
        n = len(raw)
        if not 5 <= n <= 10:
            errors.append(f"{name}: {n} Seiten (erwartet 5-10)")
        meta = reader.metadata or {}
        if (
            not meta.get("/Title")
            or not meta.get("/Author")
            or "Beispielkorpus" not in (meta.get("/Subject") or "")
        ):
            errors.append(f"{name}: Metadaten unvollständig: {dict(meta)}")
        if not raw[0].lstrip().startswith(NOTICE):
            errors.append(f"{name}: Hinweis auf Beispielmaterial fehlt am Anfang von Seite 1")
        for i, text in enumerate(raw, 1):
            if f"Seite {i} von {n}" not in text:
                errors.append(f"{name}: Fußzeile 'Seite {i} von {n}' fehlt")
            if i > 1 and "Beispielkorpus" not in text.splitlines()[0]:
                errors.append(f"{name}: Kopfzeile fehlt auf Seite {i}")
        hyphens = sum(len(re.findall(r"[a-zäöüß]-\n[a-zäöüß]", t)) for t in raw)
        if hyphens == 0:
            errors.append(f"{name}: keine Silbentrennung am Zeilenende gefunden")
        print(f"{name}: {n} Seiten, {hyphens} Silbentrennungen am Zeilenende")
    return pages_by_doc


def fix_pages(pages_by_doc: dict[str, list[str]]) -> None:
    """Rewrite each question's page to the one page holding its phrase (after the PDFs were rebuilt)."""
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    changed = 0
    for r in rows:
        found = [
            i + 1 for i, t in enumerate(pages_by_doc.get(r.get("source"), [])) if r.get("phrase", "") in t
        ]
        if len(found) == 1 and r.get("page") != found[0]:
            r["page"] = found[0]
            changed += 1
    QUESTIONS.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{changed} Seitenangaben aktualisiert")


def check_questions(pages_by_doc: dict[str, list[str]], errors: list[str]) -> None:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = Counter(r.get("id") for r in rows)
    for dup in [i for i, c in ids.items() if c > 1]:
        errors.append(f"doppelte id {dup}")
    for r in rows:
        rid = r.get("id", "?")
        kind = r.get("kind")
        required = ["id", "kind", "question", "source", "page", "phrase"]
        if kind == "followup":
            required += ["history", "standalone"]
            if not (isinstance(r.get("history"), list) and r["history"]):
                errors.append(f"{rid}: history muss eine nicht leere Liste sein")
        missing = [k for k in required if k not in r]
        if missing:
            errors.append(f"{rid}: Felder fehlen: {missing}")
            continue
        if kind not in KINDS:
            errors.append(f"{rid}: unbekannte kind {kind!r}")
        if not rid.startswith("pdf-"):
            errors.append(f"{rid}: id muss mit 'pdf-' beginnen")
        phrase = r["phrase"]
        if not 3 <= len(phrase.split()) <= 8:
            errors.append(f"{rid}: phrase hat {len(phrase.split())} Wörter (erwartet 3-8)")
        pages = pages_by_doc.get(r["source"])
        if pages is None:
            errors.append(f"{rid}: unbekannte Quelle {r['source']}")
            continue
        page = r["page"]
        if not isinstance(page, int) or not 1 <= page <= len(pages):
            errors.append(f"{rid}: ungültige Seite {page}")
            continue
        if phrase not in pages[page - 1]:
            found = [i + 1 for i, t in enumerate(pages) if phrase in t]
            errors.append(f"{rid}: phrase nicht auf Seite {page} (gefunden auf {found}): {phrase!r}")
        total = sum(t.count(phrase) for t in pages)
        if total > 1:
            errors.append(f"{rid}: phrase kommt {total}-mal im Dokument vor: {phrase!r}")
        if phrase.lower() in r["question"].lower():
            errors.append(f"{rid}: phrase steht wörtlich in der Frage")
    kinds = Counter(r.get("kind") for r in rows)
    answerable = sum(c for k, c in kinds.items() if k != "followup")
    if answerable < MIN_ANSWERABLE:
        errors.append(f"nur {answerable} beantwortbare Fragen (mindestens {MIN_ANSWERABLE})")
    for kind, minimum in MIN_KINDS.items():
        if kinds[kind] < minimum:
            errors.append(f"nur {kinds[kind]} Fragen der Art {kind} (mindestens {minimum})")
    per_doc = Counter(r["source"] for r in rows)
    for name in pages_by_doc:
        if per_doc[name] < 6:
            errors.append(f"{name}: nur {per_doc[name]} Fragen")
    print(f"{len(rows)} Fragen: {dict(sorted(kinds.items()))}")


def check_manifest(path: Path, names: list[str], errors: list[str]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name in names:
        entry = data.get(name)
        if entry is None:
            errors.append(f"Manifest: Eintrag für {name} fehlt")
            continue
        if list(entry) != MANIFEST_KEYS:
            errors.append(f"Manifest {name}: Schlüssel {list(entry)} != {MANIFEST_KEYS}")
        if not FACTORS & set(entry.get("topics", [])):
            errors.append(f"Manifest {name}: keine Faktor-ID in topics")
        if entry.get("sample") is not True or entry.get("language") != "de":
            errors.append(f"Manifest {name}: sample/language falsch")
    print(f"Manifest {path}: {len(data)} Einträge")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, help="Metadaten-YAML, die mitgeprüft wird")
    parser.add_argument(
        "--fix-pages", action="store_true", help="Seitenangaben nach einem Neubau der PDFs aktualisieren"
    )
    args = parser.parse_args()
    sources = sorted((HERE / "src").glob("*.md"))
    names = [f"{s.stem}.pdf" for s in sources]
    errors: list[str] = []
    total = 0
    for src in sources:
        words = source_words(src)
        total += words
        if words < 1800:
            errors.append(f"{src.name}: nur {words} Wörter")
        print(f"{src.name}: {words} Wörter")
    print(f"Wörter gesamt: {total}")
    pages_by_doc = check_pdfs(names, errors)
    if args.fix_pages:
        fix_pages(pages_by_doc)
    check_questions(pages_by_doc, errors)
    if args.manifest:
        check_manifest(args.manifest, names, errors)
    for e in errors:
        print("FEHLER:", e)
    print("OK" if not errors else f"{len(errors)} Fehler")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
