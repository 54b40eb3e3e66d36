"""Reading article files for replay: every supported format, aliases for dataset columns."""

import json

import pytest

from monitor.offline.readers import UnreadableInput, parse_date, read_articles
from tests.support.paths import CORPUS, seed

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared


def test_jsonl_json_and_csv_records_become_articles(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"id": "x1", "title": "First title here", "text": "Body one.", "published": "2024-07-16T20:59:18Z"})
        + "\n"
        + json.dumps({"content": "Body two, no id.", "url": "https://e.org/two"})
        + "\n"
    )
    (tmp_path / "b.json").write_text(json.dumps([{"id": 7, "content": "Body three."}]))
    (tmp_path / "c.csv").write_text("published,headlines,articles\n2022/05/10,A headline,Body four.\n")
    articles = list(read_articles([tmp_path / "a.jsonl", tmp_path / "b.json", tmp_path / "c.csv"]))
    assert [a.id for a in articles[:1]] == ["x1"]
    assert articles[0].published.isoformat() == "2024-07-16T20:59:18+00:00"
    assert articles[1].id != "a:2" and articles[1].url == "https://e.org/two"
    assert articles[2].id == "7" and articles[2].text == "Body three."
    assert (articles[3].id, articles[3].title, articles[3].text) == ("c:2", "A headline", "Body four.")
    assert articles[3].published.date().isoformat() == "2022-05-10"


def test_csv_without_a_text_column_is_refused_with_the_reason(tmp_path):
    (tmp_path / "bad.csv").write_text("foo,bar\n1,2\n")
    with pytest.raises(UnreadableInput, match="text"):
        list(read_articles([tmp_path / "bad.csv"]))


def test_unknown_suffix_is_refused(tmp_path):
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(UnreadableInput, match="unknown article file type"):
        list(read_articles([tmp_path / "x.docx"]))


def test_text_seed_uses_its_first_headline_like_line_as_title():
    (article,) = read_articles([seed("001")])
    assert article.id == seed("001").stem
    assert article.title.startswith("US says Russia asked China for military assistance")
    assert "ForeignGovernmentLatestMilitaryNews" not in article.title


def test_the_corpus_csvs_read_completely():
    guardian = list(read_articles([CORPUS / "subina-maharjan_Guardians_Russia_Ukraine.csv"]))
    nyt = list(read_articles([CORPUS / "subina-maharjan_NYT_Russia_Ukraine.csv"]))
    assert (len(guardian), len(nyt)) == (188, 219)
    assert all(a.text for a in guardian + nyt)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2022-02-24T06:24:27Z", "2022-02-24T06:24:27+00:00"),
        ("Mon, 14 Mar 2022 09:00:00 GMT", "2022-03-14T09:00:00+00:00"),
        ("2022/07/31", "2022-07-31T00:00:00+00:00"),
        ("2024-07-16 20:59:18", "2024-07-16T20:59:18+00:00"),
    ],
)
def test_dates_in_the_formats_of_our_sources_parse(value, expected):
    assert parse_date(value).isoformat() == expected


def test_unparseable_dates_are_none():
    assert parse_date("yesterday-ish") is None
