"""Article identity: cosmetic URL variants keep the id; different articles do not share one."""

from monitor.ingest.identity import article_id, canonical_url, content_hash


def test_scheme_host_case_www_and_default_port_do_not_change_the_canonical_url():
    variants = [
        "http://www.Example.org/world/story-1",
        "https://example.org/world/story-1",
        "https://EXAMPLE.org:443/world/story-1/",
        "http://example.org:80/world/story-1#comments",
    ]
    assert {canonical_url(v) for v in variants} == {"https://example.org/world/story-1"}


def test_tracking_parameters_are_dropped_and_the_query_sorted():
    url = "https://example.org/a?utm_source=rss&b=2&fbclid=x&a=1&utm_campaign=y"
    assert canonical_url(url) == "https://example.org/a?a=1&b=2"


def test_meaningful_query_parameters_are_kept():
    assert canonical_url("https://example.org/article?id=123") != canonical_url("https://example.org/article?id=124")


def test_id_prefers_url_then_guid_then_text():
    by_url = article_id(url="https://example.org/a", guid="g1")
    assert by_url == article_id(url="http://www.example.org/a?utm_medium=feed", guid="other")
    assert article_id(guid="g1") != article_id(guid="g2")
    assert article_id(fallback="title a") != article_id(fallback="title b")
    assert article_id(url="not a url", guid="g1") == article_id(guid="g1")


def test_content_hash_ignores_whitespace_but_not_words():
    assert content_hash("A  title", "some\ntext") == content_hash("A title", "some text")
    assert content_hash("A title", "some text") != content_hash("A title", "other text")


def test_more_tracking_and_session_noise_is_dropped():
    plain = canonical_url("https://example.org/world/story-1?id=7")
    noisy = [
        "http://www.example.org/world/story-1?id=7&ns_mchannel=rss&ns_source=feed&xtor=RSS-1",
        "https://example.org/world/story-1;jsessionid=0A1B2C?id=7&_hsenc=p2&mkt_tok=abc",
        "https://example.org/world/story-1/?oly_enc_id=1&id=7&ncid=x#top",
    ]
    assert {canonical_url(url) for url in noisy} == {plain}


def test_an_edited_title_keeps_the_id_but_changes_the_content_hash():
    url = "https://example.org/world/story-1"
    assert article_id(url=url) == article_id(url=url.replace("https:", "http:") + "?utm_source=rss")
    assert content_hash("Talks in Beijing", "text") != content_hash("Talks in Beijing end", "text")


def test_a_link_with_an_impossible_port_or_host_keeps_one_stable_id():
    for url in ("http://example.org:99999/a", "http://[::1/a"):
        assert canonical_url(url) == url
        assert article_id(url=url, guid="g") == article_id(url=url, guid="g")
    assert article_id(url="http://example.org:99999/a") != article_id(url="http://example.org:99998/a")
