"""Text normalisation before NLP, on sentences written for these tests."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.text import normalise, squash


@pytest.mark.parametrize(
    ("glued", "parted"),
    [
        ("The council voted on new sanctions on Moscow.Since then trade has slowed.", "Moscow. Since then"),
        ("Officials met in Geneva!Nobody spoke to reporters.", "Geneva! Nobody spoke"),
        ("Was the deal signed?Diplomats would not say.", "signed? Diplomats would"),
        ("Exports fell 4%.Analysts expected more.", "4%. Analysts expected"),
        ("The envoy called it “a fair offer”.Talks resume on Friday.", "offer”. Talks resume"),
        ("The alliance met in 2023.The next summit is in Oslo.", "2023. The next"),
        ("The ministers met at NATO.The talks ran late.", "NATO. The talks"),
        ("Nobody answered the phone.A spokesman later called back.", "phone. A spokesman"),
        ("Two people were killed on day 5.The shelling went on.", "day 5. The shelling"),
        ("Photo 2.Hide caption", "2. Hide caption"),
    ],
)
def test_a_sentence_end_glued_to_the_next_sentence_gets_a_space(glued, parted):
    assert parted in normalise(glued)


@pytest.mark.parametrize(
    "kept",
    [
        "Troops from the U.S. and the U.K. trained together.",
        "Small states, e.g. Malta, abstained.",
        "Growth slowed to 3.5 percent this year.",
        "Details are on cnn.com and bbc.co.uk today.",
        "Write to press.office@example.org.Nobody replied.",
        "See https://example.com/News.Today for the list.",
        "The novel by J.R.R. Tolkien sold well.",
        "The U.S.Army unit and J.R.R.Tolkien fans e.g.Smith were there.",
        "He paused... Then he left.",
        "He paused...Then he left.",
        "The team ranked No.1 in the league.",
        "She holds a Ph.D in chemistry.",
        "Sen. Ames (R-W.Va.) spoke first.",
        "The portal Mail.Ru, like Vote.Ai, was down.",
    ],
)
def test_abbreviations_decimals_addresses_initials_and_ellipses_are_left_alone(kept):
    assert normalise(kept) == kept


def test_html_entities_and_tags_left_in_feed_text_become_text():
    text = "Trade &amp; aid<br>It&#8217;s a <a href='/x'>new</a> deal.<p>Second paragraph.</p>Tail &lt;b&gt;bold&lt;/b&gt;"
    assert normalise(text) == "Trade & aid\nIt’s a new deal.\nSecond paragraph.\nTail bold"


def test_double_escaped_entities_are_decoded_to_the_end():
    assert normalise("It&amp;#8217;s over &amp;amp; done") == "It’s over & done"


def test_ampersands_in_prose_are_not_entities():
    assert normalise("AT&T and R&D teams met; P&O&amp; lost") == "AT&T and R&D teams met; P&O& lost"


def test_a_title_repeated_as_the_first_line_of_the_body_is_dropped():
    body = "Ministers agree a new grain deal\nThe ministers met for four hours on Tuesday."
    assert normalise(body, title="Ministers agree a new grain deal") == "The ministers met for four hours on Tuesday."


def test_the_title_is_dropped_only_as_a_whole_line_at_the_top():
    body = "Ministers agree a new grain deal after long talks.\nMinisters agree a new grain deal"
    assert normalise(body, title="Ministers agree a new grain deal") == body


def test_a_title_repeated_with_other_case_or_a_full_stop_is_still_dropped():
    body = "MINISTERS AGREE A NEW GRAIN DEAL.\nAdvertisement\nThe talks ran late."
    assert normalise(body, title="Ministers agree a new grain deal") == "The talks ran late."


@pytest.mark.parametrize(
    "furniture",
    [
        "Advertisement",
        "ADVERTISEMENT",
        "Read more",
        "Read more »",
        "Continue reading...",
        "Share this article",
        "Share on Facebook",
        "Share on Twitter",
        "Share on X",
        "Sign up for our free morning newsletter",
        "Sign up for the Daily Briefing newsletter here.",
        "Skip to main content",
        "Click here to subscribe.",
        "Follow us on Instagram and TikTok",
        "Copy link",
    ],
)
def test_boilerplate_lines_are_dropped(furniture):
    assert normalise(f"The mayor opened the bridge.\n{furniture}\nTraffic was light.") == (
        "The mayor opened the bridge.\nTraffic was light."
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "The advertisement ran on three channels.",
        "Readers were told to read more about the plan.",
        "She said she would share this article with her students.",
        "The minister did not sign up for the newsletter scheme, aides said, and left early.",
        "Click here to vote, the ballot page told voters, but the link was broken for hours.",
    ],
)
def test_a_sentence_that_merely_contains_boilerplate_words_stays(sentence):
    assert normalise(sentence) == sentence


@pytest.mark.parametrize(
    "stamp",
    ["1:45 p.m. ET", "14:05 GMT", "Updated 3:12 PM EDT, Mon July 22, 2024", "12 min ago", "2 hours ago", "9:30 a.m."],
)
def test_live_blog_timestamps_on_their_own_line_are_dropped(stamp):
    text = f"Rescuers reached the village.\n{stamp}\nThe road reopened at noon."
    assert normalise(text) == "Rescuers reached the village.\nThe road reopened at noon."


@pytest.mark.parametrize("line", ["Marseille 3", "Augsburg 2", "12 Marines", "Junta 4", "Decatur 12", "Sunderland 1"])
def test_a_results_line_whose_first_word_begins_like_a_month_or_day_stays(line):
    text = f"Saturday's scores.\n{line}\nMore on Sunday."
    assert normalise(text) == text


@pytest.mark.parametrize("stamp", ["Sept. 5", "Thurs, March 3", "Sunday, 12 August 2024", "Jun 3, 2024 9:30 a.m."])
def test_dates_with_whole_or_abbreviated_names_are_stamps(stamp):
    assert normalise(f"Rescuers reached the village.\n{stamp}") == "Rescuers reached the village."


def test_escaped_ampersands_of_any_depth_decode_to_one_character():
    assert normalise("Rock &" + "amp;" * 500 + " roll") == "Rock & roll"  # "&amp;amp;amp;…"
    assert normalise("It&" + "amp;" * 40 + "#8217;s") == "It’s"


def test_script_blocks_go_and_an_unclosed_script_tag_leaves_the_text_after_it():
    text = "Lead.<script>var a = '<p>';</script> Body.<style>p {}</style> End. <script>never closed"
    assert normalise(text) == "Lead.\nBody.\nEnd. <script>never closed"


def test_a_timestamp_inside_a_sentence_stays():
    text = "The vote was called at 1:45 p.m. ET on Monday."
    assert normalise(text) == text


def test_squash_collapses_spaces_and_tabs_and_keeps_one_break_per_paragraph():
    assert squash("  one \t two\n\n\n  three  \r\n four ") == "one two\nthree\nfour"


def test_squash_on_one_line_collapses_breaks_too():
    assert squash("  one \t two\n\n three ", lines=False) == "one two three"


def test_invisible_characters_are_removed():
    assert normalise("Mos\u200bcow said\ufeff no") == "Moscow said no"


PIECES = st.sampled_from(
    [
        "Moscow.Since",
        "U.S.",
        "e.g.",
        "3.5",
        "cnn.com",
        "J.R.R.",
        "...",
        "No.1",
        "&amp;",
        "&amp;amp;",
        "&#8217;",
        "&lt;p&gt;",
        "<br>",
        "<p>",
        "</a>",
        "<a href='x'>",
        "Advertisement",
        "Read more",
        "1:45 p.m. ET",
        "12 min ago",
        "\n",
        "\n\n",
        " ",
        "\t",
        "\u200b",
        ".",
        "!",
        "?",
        "”",
        "%",
        "A",
        "I",
        "The",
        "talks",
        "Title",
    ]
)
TEXTS = st.one_of(st.lists(PIECES, max_size=30).map("".join), st.text(max_size=80))


@given(TEXTS, st.sampled_from(["", "Title", "The talks"]))
def test_normalise_is_idempotent(text, title):
    once = normalise(text, title=title)
    assert normalise(once, title=title) == once


RAW = (
    "Harbour fee talks resume\n"
    "Advertisement\n"
    "The two ports agreed new fees on Monday.Since then traffic has doubled &amp; queues have eased.\n"
    "2 hours ago\n"
    "Officials expect a second round in May."
)
EXPECTED = (
    "The two ports agreed new fees on Monday. Since then traffic has doubled & queues have eased.\n"
    "Officials expect a second round in May."
)


def test_the_poller_the_replay_readers_and_full_text_give_nlp_the_same_text(tmp_path):
    from monitor.ingest.fulltext import extract_text
    from monitor.ingest.parse import parse_feed
    from monitor.offline.readers import article_from_record, read_articles

    title = "Harbour fee talks resume"
    paragraphs = "".join(f"<p>{line}</p>" for line in RAW.replace("&amp;", "&amp;amp;").splitlines())
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Port news</title>'
        f"<item><title>{title}</title><link>https://ports.example.org/1</link>"
        f"<description>{paragraphs.replace('<', '&lt;').replace('>', '&gt;')}</description></item>"
        "</channel></rss>"
    ).encode()
    (polled,) = parse_feed(feed, feed_name="ports").articles
    replayed = article_from_record({"title": title, "text": RAW}, "r:1")
    text_file = tmp_path / "harbour.txt"
    text_file.write_text(RAW, encoding="utf-8")
    (from_txt,) = read_articles([text_file])
    page = f"<html><body><article><h1>{title}</h1>{paragraphs.replace('&amp;amp;', '&amp;')}</article></body></html>"
    extracted = extract_text(page.encode(), "https://ports.example.org/1", title)
    assert polled.title == replayed.title == from_txt.title == title
    assert polled.body == replayed.body == from_txt.body == EXPECTED
    assert "Monday. Since then" in extracted and "Advertisement" not in extracted
