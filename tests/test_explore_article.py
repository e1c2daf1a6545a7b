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


@pytest.mark.parametrize("pid", ["P5", "P10", "P18"])
def test_whole_word_highlight_marks_russia_but_not_russian(pid):
    """The reader marks exactly the matches article_view counts: "Russia" alone, never inside "Russian"."""
    import re

    reader = explore.article_reader("Russia")
    box, whole, shown = reader.children
    whole.value = True
    row = re.search(rf"<th scope='row'[^>]*>{pid}</th><td>(.*?)</td>", shown.value).group(1)
    text = data.paragraph(pid)
    assert "Russian" in text
    assert "<mark>Russia</mark>n" not in row
    hits = explore.article_view("Russia", whole_word=True).set_index("paragraph_id")["hits"].get(pid, 0)
    assert row.count("<mark>") == hits == len(re.findall(r"\bRussia\b", text))
    whole.value = False
    row = re.search(rf"<th scope='row'[^>]*>{pid}</th><td>(.*?)</td>", shown.value).group(1)
    assert row.count("<mark>") == text.lower().count("russia")


def test_highlight_never_matches_inside_html_entities():
    assert explore.highlight("AT&T amp", "amp") == "AT&amp;T <mark>amp</mark>"
