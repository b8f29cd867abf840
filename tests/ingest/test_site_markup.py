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


TEAM_PAGE = """# KI-Team

Das Team betreibt die KI-Systeme der Stadt.

## Team

<script setup>
import { VPTeamMembers } from "vitepress/theme"

const members = [
  {
    avatar: "/img/people/ab.jpg",
    name: "Anna Beispiel",
    title: "Teamleitung",
    links: [
      { icon: "github", link: "https://github.com/anna" },
      { icon: "maildotru", link: "mailto:anna@example.org" },
    ],
  },
  {
    avatar: '/img/people/cd.jpg',
    name: 'Carl Dorn',
    title: 'ML Engineer',
  },
]
</script>

<VPTeamMembers size="small" :members="members" />
"""


def test_vitepress_team_data_is_content(tmp_path: Path):
    """The team table of a VitePress page lives in <script setup> data: each member's text fields become a line
    as the source writes them (a quote stays verbatim); code, avatars, icons and links do not."""
    path = tmp_path / "team.md"
    path.write_text(TEAM_PAGE, encoding="utf-8")
    doc = load_file(path)
    team = next(b for b in doc.blocks if b.heading_path == ("KI-Team", "Team"))
    assert team.text == "name: \"Anna Beispiel\", title: \"Teamleitung\"\n\nname: 'Carl Dorn', title: 'ML Engineer'"
    for junk in ("import", "avatar", "/img/", "github", "mailto", "VPTeamMembers", "const"):
        assert junk not in doc.text, junk


def test_byline_language_variants_and_footnotes_are_content(tmp_path: Path):
    path = tmp_path / "post.md"
    path.write_text(
        "---\ntitle: 'Offene Daten: und dann?'\nauthor: \"Erika Muster (Code for Ulm)\"\nauthors:\n- erika-muster\n"
        "en_title: Open data, and then?\nde_title: 'Offene Daten: und dann?'\nlayout: post\n---\n\n"
        "Der Betrieb braucht eine Stelle[^1].\n\n[^1]: Barrierefreie Informationstechnik-Verordnung 2.0 "
        "<http://www.gesetze-im-internet.de/bitv_2_0/>\n",
        encoding="utf-8",
    )
    doc = load_file(path)
    paras = doc.text.split("\n\n")
    # the title as the page shows it, first and once; the byline; the English title; slugs and layout are no text
    assert paras[:3] == ["Offene Daten: und dann?", "Erika Muster (Code for Ulm)", "Open data, and then?"]
    assert "erika-muster" not in doc.text and "post" not in doc.text
    assert "Der Betrieb braucht eine Stelle." in doc.text
    assert "Barrierefreie Informationstechnik-Verordnung 2.0" in doc.text and "[^1]" not in doc.text


def test_title_repeated_as_heading_is_not_doubled(tmp_path: Path):
    path = tmp_path / "post.md"
    path.write_text("---\ntitle: Ein Beitrag\n---\n\n# Ein Beitrag\n\nDer Text.\n", encoding="utf-8")
    assert load_file(path).text == "Der Text."


JEKYLL_HTML = """---
title: Datenplattform im Regelbetrieb
tagline: Wie eine Stadt ihre Plattform weiter betreibt
---
<!DOCTYPE html>
<html lang="de"><head><title>Seite | Portal</title></head>
<body>
<nav><a href="/">Startseite</a> <a href="/blog">Blog</a></nav>
<div class="cookie-consent">Wir verwenden Cookies. <button>Akzeptieren</button></div>
<main>
<h2>Betrieb {#betrieb}</h2>
<p>Nach § 12a EGovG[@link(EGOVGBLN)] stellt die Stadt Daten bereit, siehe {ref}`Abschnitt Daten <sec-daten>`.</p>
{% include figure.html src="a.png" caption="Das Dashboard der Plattform" %}
<p>{{< highlight >}}Hugo-Text bleibt.{{< /highlight >}}</p>
<script setup>
const members = [{ name: "Anna Beispiel", title: "Teamleitung", avatar: "/a.jpg" }]
</script>
</main>
<footer>Impressum</footer>
</body></html>
"""


def test_html_gets_the_same_site_markup_cleaning(tmp_path: Path):
    path = tmp_path / "seite.html"
    path.write_text(JEKYLL_HTML, encoding="utf-8")
    doc = load_file(path)
    text = doc.text
    assert doc.title == "Datenplattform im Regelbetrieb"
    assert text.startswith("Datenplattform im Regelbetrieb\n\nWie eine Stadt ihre Plattform weiter betreibt")
    assert "Nach § 12a EGovG stellt die Stadt Daten bereit, siehe Abschnitt Daten." in text
    assert "Das Dashboard der Plattform" in text and "Hugo-Text bleibt." in text
    assert 'name: "Anna Beispiel", title: "Teamleitung"' in text
    assert any(b.heading_path == ("Betrieb",) for b in doc.blocks)
    for junk in ("[@", "EGOVGBLN", "{#", "{ref}", "{%", "{{", "---", "Cookies", "Startseite", "Impressum", "/a.jpg"):
        assert junk not in text, junk
