"""The per-document account and the work bounds: every word is indexed or removed with a reason."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from ingest.account import AccountStore, DocumentAccount, count_words
from ingest.loaders import ParseLimits, load_file
from tests.conftest import make_services

LINE = "Die Stadt betreibt die Plattform dauerhaft und finanziert sie aus dem eigenen Haushalt. " * 12


def test_count_words_ignores_punctuation_tokens():
    assert count_words("Fördervolumen: 8 Mio € – • …") == 3
    assert count_words("") == 0


def test_repetitive_text_file_is_bounded_collapsed_and_accounted(tmp_path: Path):
    path = tmp_path / "wiederholt.txt"
    path.write_text(
        "\n".join([LINE.strip()] * 6000) + "\nEin letzter eigener Satz am Ende.\n", encoding="utf-8"
    )
    started = time.perf_counter()
    doc = load_file(path, ParseLimits(max_chars=200_000))
    assert time.perf_counter() - started < 30
    account = doc.account.to_dict()
    # collapsed: the repeated paragraph is kept twice, not 6000 times
    assert doc.text.count("Die Stadt betreibt die Plattform") <= 2 * 12
    assert account["words_removed"]["duplicate"] > 0 and account["words_removed"]["over_limit"] > 0
    assert account["words_extracted"] == account["words_indexed"] + sum(account["words_removed"].values())
    assert account["words_extracted"] >= 6000 * count_words(LINE)
    assert any("LOTSE_INGEST_MAX_CHARS" in w for w in doc.warnings)
    assert any("wiederholte Absätze" in w for w in doc.warnings)


def test_text_within_bounds_loses_nothing(tmp_path: Path):
    path = tmp_path / "kurz.md"
    path.write_text(
        "# Titel\n\n## Nur eine Überschrift\n\n## Zweiter Teil\n\nEin Absatz mit Inhalt.\n", encoding="utf-8"
    )
    doc = load_file(path)
    account = doc.account.to_dict()
    assert account["words_removed"] == {} and account["words_indexed"] == account["words_extracted"]
    assert "Nur eine Überschrift" in doc.text  # a heading without body stays content


def test_account_store_round_trip(tmp_path: Path):
    store = AccountStore(tmp_path / "accounts")
    account = DocumentAccount(words_extracted=10)
    account.remove("running_line", "Seite Kopfzeile")
    store.save("abc", account.to_dict())
    assert DocumentAccount.from_dict(store.load("abc")).to_dict() == account.to_dict()
    store.drop("abc")
    assert store.load("abc") is None


def test_ingest_json_reports_accounts_and_keeps_existing_keys(tmp_path: Path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(
        "# Projekt\n\n## Fördervolumen: 8 Mio €\n\n## Laufzeit\n\nVon 2019 bis 2023.\n"
    )
    services = make_services(tmp_path / "idx", embedder)
    report = services.pipeline().run([docs])
    contract = report.to_contract()
    for key in ("added", "updated", "unchanged", "removed", "failed", "documents", "chunks", "warnings"):
        assert key in contract
    account = contract["accounts"]["a.md"]
    assert account["words_extracted"] == account["words_indexed"] > 0 and account["chunks"] >= 1
    texts = " ".join(c.text for c in services.store.live_chunks())
    assert "Fördervolumen: 8 Mio €" in texts


def test_ingest_json_names_a_slow_file_on_stderr(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Ein kurzer Text über Betreibermodelle.\n")
    code = (
        "import sys, time; import ingest.pipeline as p; p.SLOW_FILE_S = 0.01; orig = p.IngestPipeline._ingest_one\n"
        "def slow(self, *a, **k):\n    time.sleep(0.3); return orig(self, *a, **k)\n"
        "p.IngestPipeline._ingest_one = slow\n"
        "from assistant.cli import main; sys.exit(main(sys.argv[1:]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(docs), "--index", str(tmp_path / "idx"), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["accounts"]["a.txt"]["words_indexed"] == 5
    assert "[1/1] a.txt" in run.stderr


def test_lotse_show_prints_account_and_chunks(tmp_path: Path, embedder, capsys):
    from assistant.cli import main

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plan.md").write_text(
        "# Betriebsplan\n\n## Fördervolumen: 8 Mio €\n\n## Betrieb\n\nDas Amt betreibt die Plattform ab 2025.\n"
    )
    make_services(tmp_path / "idx", embedder).pipeline().run([docs])
    assert main(["show", "plan.md", "--index", str(tmp_path / "idx"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["source"] == "plan.md" and shown["account"]["words_indexed"] > 0
    assert any("Fördervolumen: 8 Mio €" in c["text"] for c in shown["chunks"])
    assert any(c["section"] == "Betrieb" for c in shown["chunks"])
    assert main(["show", "plan.md", "--index", str(tmp_path / "idx")]) == 0
    human = capsys.readouterr().out
    assert "im Index" in human and "Das Amt betreibt die Plattform ab 2025." in human
    assert main(["show", "fehlt.md", "--index", str(tmp_path / "idx"), "--json"]) == 1
    assert "Kein Dokument" in json.loads(capsys.readouterr().out)["error"]
