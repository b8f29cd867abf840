"""Checks on language-model replies: no answer at all, and facts that the cited passages do not hold."""

from __future__ import annotations

import pytest

from assistant.answer_check import degenerate_reason, drop_sentences, facts, unsupported_sentences

QUESTION = "Wie oft trifft sich die Open-Source-Community der Stadt?"
PASSAGES = [
    "Die Community des OK Lab Musterstadt trifft sich monatlich im Rathaus. Seit dem 21.4.2015 fördert die Stadt "
    "das Lab mit 300.000 Euro.",
    "Das Programm der KTS begleitet Projekte in Bamberg und Ulm.",
]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("[1] [2][3]", "markers"),
        ("[1]", "markers"),
        ("  ", "markers"),
        ("Monatlich [1].", "short"),
        ("Wie oft trifft sich die Open-Source-Community der Stadt? [1]", "echo"),
        (
            "Die Community trifft sich. Die Community trifft sich. Die Community trifft sich. [1]",
            "repetition",
        ),
        ("im Rathaus im Rathaus im Rathaus im Rathaus im Rathaus im Rathaus im Rathaus [1]", "repetition"),
        ("Die Community trifft sich monatlich im Rathaus [1].", None),
        ("Über Umlagen der Mitglieder [1].", None),
    ],
)
def test_degenerate_replies(reply: str, reason: str | None) -> None:
    assert degenerate_reason(reply, QUESTION) == reason


def test_numbers_dates_and_names_must_stand_in_the_cited_passage() -> None:
    answer = (
        "Die Community trifft sich monatlich im Rathaus [1]. "
        "Die Stadt fördert das Lab seit dem 21.4.2015 mit 300 000 Euro [1]. "
        "Vergleichbare Labs gibt es in Berlin, Hamburg und München [1]. "
        "Die KTS begleitet Projekte in Ulm [2]. "
        "Die KTS begleitet Projekte in Ulm [1]. "
        "Die Förderung beträgt 450.000 Euro [1]."
    )
    flagged = {u.sentence: u.missing for u in unsupported_sentences(answer, PASSAGES)}
    assert flagged == {
        "Vergleichbare Labs gibt es in Berlin, Hamburg und München [1].": ["Berlin", "Hamburg", "München"],
        "Die KTS begleitet Projekte in Ulm [1].": ["KTS", "Ulm"],  # true in [2], but [1] is cited
        "Die Förderung beträgt 450.000 Euro [1].": ["450.000"],
    }


def test_a_sentence_without_marker_is_held_to_its_paragraph() -> None:
    answer = "Die Stadt fördert das Lab mit 300.000 Euro. Die Community trifft sich monatlich [1].\n\nIn Ulm auch [2]."
    assert unsupported_sentences(answer, PASSAGES) == []
    assert [u.missing for u in unsupported_sentences("Das kostet 12 Euro. Mehr steht in [2].", PASSAGES)] == [
        ["12"]
    ]


def test_list_numbers_and_markers_are_no_facts() -> None:
    assert facts("1. Die Community trifft sich monatlich [3].") == []
    assert facts("In Zukunft gilt das in Deutschland [1].") == []


def test_dropping_keeps_the_rest_readable() -> None:
    answer = "Die Community trifft sich monatlich [1].\n- In Hamburg auch [1].\n- Im Rathaus [1]."
    dropped = unsupported_sentences(answer, PASSAGES)
    assert drop_sentences(answer, dropped) == "Die Community trifft sich monatlich [1].\n- Im Rathaus [1]."
