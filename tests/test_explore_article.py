"""The article reader: a pure view (article_view) and its widget wiring."""
import pytest

from kzcourse import data, explore
from kzcourse.errors import InputTypeError


def test_view_matches_a_plain_search_of_the_paragraphs():
    expected = [p for p, t in zip(data.paragraphs()["paragraph_id"], data.paragraphs()["text"]) if "russia" in t.lower()]
    assert list(explore.article_view("Russia")["paragraph_id"]) == expected


def test_whole_word_search_counts_each_occurrence():
    view = explore.article_view("said", whole_word=True)
    assert view.set_index("paragraph_id").loc["P13", "hits"] == data.paragraph("P13").count("said")


def test_empty_query_shows_every_paragraph():
    assert len(explore.article_view("")) == len(data.paragraphs())


def test_bad_query_type_says_how_to_fix():
    with pytest.raises(InputTypeError, match=r"should be a str, got \['Putin'\] \(list\)"):
        explore.article_view(["Putin"])


def test_typing_in_the_box_changes_what_is_shown():
    reader = explore.article_reader()
    box, whole, shown = reader.children
    before = shown.value
    box.value = "Kazhegeldin"
    assert shown.value != before
    assert "P31" in shown.value and "P35" in shown.value and "P2<" not in shown.value
    assert "<mark>Kazhegeldin</mark>" in shown.value
    whole.value = True
    assert "P31" in shown.value
