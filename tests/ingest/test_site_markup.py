"""Front matter prose becomes content; site-generator markup never reaches a quote."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import load_file
from ingest.loaders.markdown import clean_site_markup

VITEPRESS_HOME = """---
layout: home
title: KI-Portal
hero:
  name: "KI in der Stadtverwaltung"
  text: "Wie die Stadt KI-Systeme dauerhaft betreibt"
  tagline: Vom Prototyp zum Regelbetrieb
  image:
    src: /img/hero.png
    alt: Logo
  actions:
    - theme: brand
      text: Zu den Systemen
      link: /ki-systeme/
features:
  - title: Dienstleistungsfinder
    details: Die KI-Suche hilft Bürgerinnen und Bürgern, städtische Dienstleistungen zu finden.
  - title: Betrieb im IT-Referat
    details: Ein eigenes Team betreibt die Systeme nach dem Ende der Pilotphase.
---
"""


def test_vitepress_home_page_in_front_matter_is_content(tmp_path: Path):
    path = tmp_path / "index.md"
    path.write_text(VITEPRESS_HOME, encoding="utf-8")
    doc = load_file(path)
    text = doc.text
    for phrase in (
        "KI in der Stadtverwaltung",
        "Vom Prototyp zum Regelbetrieb",
        "Dienstleistungsfinder",
        "Ein eigenes Team betreibt die Systeme nach dem Ende der Pilotphase.",
    ):
        assert phrase in text
    assert "/img/hero.png" not in text and "/ki-systeme/" not in text and "brand" not in text
    assert doc.title == "KI-Portal"


def test_front_matter_description_joins_body(tmp_path: Path):
    path = tmp_path / "post.md"
    path.write_text(
        "---\ntitle: Ein Beitrag\ndescription: Wie Herrenberg die Plattform weiter betreibt.\n"
        "image:\n  title: Photo by Someone on Unsplash\n---\n\n# Ein Beitrag\n\nDer Text des Beitrags.\n",
        encoding="utf-8",
    )
    text = load_file(path).text
    assert "Wie Herrenberg die Plattform weiter betreibt." in text and "Der Text des Beitrags." in text
    assert "Unsplash" not in text


def test_site_generator_markup_is_cleaned_out(tmp_path: Path):
    body = (
        "## Offene Daten {#offene-daten}\n\n"
        "Nach § 12a EGovG[@link(EGOVGBLN)] stellen Behörden Daten bereit, siehe {ref}`Abschnitt Daten <sec-daten>` "
        "und {term}`Metadaten`.\n\n"
        '{% include macro-image.html src="../a.png" caption="Ein Meldeportal aus Zürich" %}\n\n'
        '{{< figure src="b.png" >}}Hugo-Text bleibt.{{< /figure >}}\n\n'
        "::: info Hinweis\nDer Betrieb ist gesichert.\n:::\n\n"
        '<script setup>\nimport { VPTeamMembers } from "vitepress/theme"\nconst members = []\n</script>\n\n'
        '<VPTeamMembers size="small" :members="members" />\n'
    )
    path = tmp_path / "seite.md"
    path.write_text(body, encoding="utf-8")
    doc = load_file(path)
    text = doc.text
    assert "stellen Behörden Daten bereit, siehe Abschnitt Daten und Metadaten." in text
    assert "Ein Meldeportal aus Zürich" in text and "Hugo-Text bleibt." in text
    assert "Hinweis" in text and "Der Betrieb ist gesichert." in text
    for junk in ("[@", "EGOVGBLN", "{#", "{ref}", "{%", "{{", ":::", "import", "VPTeamMembers", "members"):
        assert junk not in text, junk
    assert doc.blocks[0].heading_path == ("Offene Daten",)


def test_clean_site_markup_keeps_plain_text():
    plain = "Ein Satz mit {geschweiften Klammern} und E-Mail a@b.de [siehe Anhang]."
    assert clean_site_markup(plain) == plain
