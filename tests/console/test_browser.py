"""The console in a real browser: an alert produced to the broker appears live, the story
page shows both outlets, feedback clicks are stored, and hostile feed text never runs.

Screenshots of each page go to data/test-artifacts/console/.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from monitor.console.export import write_labels
from monitor.console.serve import ConsoleServer
from monitor.models import Feedback
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer
from tests.support.browser import chromium
from tests.support.console import ENTITIES, IMG, JAVASCRIPT_URL, SCRIPT, near_miss, story_records
from tests.support.kafka import read_topic
from tests.support.paths import PROJECT
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(240)

ARTIFACTS = PROJECT / "data" / "test-artifacts" / "console"


def produce(settings, story_id: str, headline: str, *, hostile: bool = False) -> None:
    """A story's decisions and alerts on the topics, as the worker writes them."""
    names = KafkaTopicNames.for_settings(settings)
    alerts, decisions = story_records(story_id, headline=headline)
    if hostile:
        alerts = [
            a.derive(url=JAVASCRIPT_URL, first_source=IMG, evidence=[e.derive(sentence=SCRIPT) for e in a.evidence])
            for a in alerts
        ]
        decisions = [(d.derive(url=JAVASCRIPT_URL, source=ENTITIES), when) for d, when in decisions]
    producer = make_producer(settings)
    try:
        for decision, when in [*decisions, near_miss(f"{story_id}-near")]:
            producer.send(
                names.decisions,
                key=decision.id.encode(),
                value=decision.dumps(serializer="json"),
                timestamp_ms=int(when.timestamp() * 1000),
            )
        for alert in alerts:
            producer.send(names.alerts, key=alert.story_id.encode(), value=alert.dumps(serializer="json"))
        producer.flush(15)
    finally:
        producer.close()


@pytest.fixture
def console(broker_settings):
    ensure_topics(broker_settings)
    server = ConsoleServer(broker_settings, host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "profile")
    yield driver
    driver.quit()


def shot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def policy_violations(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if "Content Security Rulebook" in entry["message"]]


def test_live_alert_story_feedback_and_hostile_text_in_a_real_browser(broker_settings, console, browser):
    produce(broker_settings, "story-h", SCRIPT + " " + IMG, hostile=True)
    wait_for(lambda: console.model.query("SELECT COUNT(*) FROM alerts")[0][0] == 2, 30, "the hostile story in the read model")

    browser.get(console.url)
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.body.dataset.live") == "on")
    browser.execute_script("window.__same_page = 1")
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.alert")) == 2

    began = time.monotonic()
    produce(broker_settings, "story-b", "China ships artillery shells to Russia " + IMG)
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "alert-story-b-esc"))
    live_s = time.monotonic() - began
    assert browser.execute_script("return window.__same_page") == 1, "the alert arrived without a reload"
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.alert")
    assert len(rows) == 4 and rows[0].get_attribute("id") == "alert-story-b-esc", "newest on top"
    assert IMG in rows[0].text, "the hostile headline arrived live as text"
    shot(browser, "alerts")
    print(f"alert visible in the browser {live_s:.2f} s after it was produced")

    browser.find_element(By.CSS_SELECTOR, "#alert-story-b-esc td.headline a").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".story-headline"))
    outlets = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "ul.outlets .outlet")]
    assert outlets == ["Wire One", "Paper Two"], "both outlets' articles, in time order"
    assert browser.find_elements(By.CSS_SELECTOR, "mark.actor") and browser.find_elements(By.CSS_SELECTOR, "svg rect.articles")
    shot(browser, "story")

    browser.find_element(By.CSS_SELECTOR, "form.feedback button[value=relevant]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".feedback-list li"))
    browser.find_element(By.CSS_SELECTOR, "form.feedback button[value=mute]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".muted-tag"))
    stored = console.model.query("SELECT verdict, story_id, route FROM feedback ORDER BY created_at")
    assert [tuple(row) for row in stored] == [("relevant", "story-b", "CHN|RUS"), ("mute", "story-b", "CHN|RUS")]
    records = read_topic(
        broker_settings.broker_url, KafkaTopicNames.for_settings(broker_settings).feedback, until=lambda r: len(r) >= 2
    )
    assert [Feedback.loads(r.value, serializer="json").verdict for r in records] == ["relevant", "mute"]
    out = io.StringIO()
    assert write_labels(console.model, out) == 1 and "story-b-art1,1,military_aid" in out.getvalue()

    browser.get(console.url + "story/story-h")
    assert SCRIPT in browser.find_element(By.CSS_SELECTOR, ".story-headline").text, "the script tag is shown as text"
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']")
    assert ENTITIES in browser.find_element(By.CSS_SELECTOR, "ul.outlets").text, "entities shown as the feed wrote them"
    shot(browser, "story-hostile")
    for page in ("activity", "health"):
        browser.get(console.url + page)
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.TAG_NAME, "h1"))
        shot(browser, page)
    browser.get(console.url + "activity")
    assert "Xi and Putin attend a summit" in browser.find_element(By.CSS_SELECTOR, "table.near").text
    assert browser.execute_script("return typeof window.__pwned") == "undefined", "no feed-supplied script ran"
    assert policy_violations(browser) == [], "the console's own pages break nothing in its policy"


@pytest.mark.shared
def test_seeds_through_the_real_worker_appear_live_and_a_mute_stops_the_escalation(
    broker_settings, console, browser, start_worker, tagger
):
    """The embedded pipeline (real worker: spaCy, stories, novelty) processes the seed articles
    while the page is open; the mute clicked in the browser stops the delivery's escalation."""
    from monitor.models import Article, Decision
    from monitor.offline.readers import read_articles
    from monitor.relevance.decision import Rulebook, decide
    from monitor.relevance.stories import StoryBook
    from tests.support.paths import SEEDS

    delivery = Article(
        id="seed-delivery",
        title="China sends military equipment to Russia after its request, US says",
        text="US officials say China has sent military equipment and drones to Russia for its invasion of Ukraine, "
        "after Russia asked China for military assistance. Jake Sullivan met Yang Jiechi in Rome on Monday.",
        source="Seed Wire D",
    )

    names = KafkaTopicNames.for_settings(broker_settings)
    worker = start_worker()
    browser.get(console.url)
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.body.dataset.live") == "on")
    browser.execute_script("window.__same_page = 1")
    articles = read_articles(sorted(SEEDS.glob("*.txt")))
    outlets = {"000": "Seed Wire A", "001": "Seed Wire B"}
    articles = [a.derive(source=outlets.get(a.id[:3], "Seed Wire C")) for a in articles]
    # Without a mute the delivery escalates the seeds' story (the same decisions, replayed here).
    book, policy = StoryBook("CHN|RUS"), Rulebook(tagger.watchlist)
    unmuted = [decide(book, tagged, policy) for tagged in tagger.tag([*articles, delivery]) if tagged.route]
    assert unmuted[-1].alert is not None and unmuted[-1].alert.kind == "escalation"
    producer = make_producer(broker_settings)
    for article in articles:
        producer.send(names.articles, key=article.id.encode(), value=article.dumps(serializer="json"))
    producer.flush(15)

    WebDriverWait(browser, 120).until(lambda b: b.find_elements(By.CSS_SELECTOR, "tr.alert"))
    assert browser.execute_script("return window.__same_page") == 1, "the alert arrived without a reload"
    shot(browser, "seeds-alerts")
    browser.find_element(By.CSS_SELECTOR, "tr.alert td.headline a").click()
    story_url = browser.current_url

    def both_outlets(b) -> bool:
        b.get(story_url)  # the story page is not live: look again until both decisions are in
        return {"Seed Wire A", "Seed Wire B"} <= {e.text for e in b.find_elements(By.CSS_SELECTOR, "ul.outlets .outlet")}

    WebDriverWait(browser, 60, poll_frequency=1).until(both_outlets)
    shot(browser, "seeds-story")
    story_id = story_url.rsplit("/", 1)[1]
    browser.find_element(By.CSS_SELECTOR, "form.feedback button[value=mute]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".muted-tag"))
    wait_for(lambda: f"muted story {story_id}" in worker.output(), 60, lambda: worker.output()[-2000:])

    producer.send(names.articles, key=delivery.id.encode(), value=delivery.dumps(serializer="json")).get(15)
    producer.close()
    wait_for(lambda: console.model.query("SELECT 1 FROM decisions WHERE id = ?", [delivery.id]), 90, "the delivery decided")
    (row,) = console.model.query("SELECT record FROM decisions WHERE id = ?", [delivery.id])
    decided = Decision.loads(row[0], serializer="json")
    assert decided.story == story_id, "the delivery joined the muted story"
    assert not decided.alert, "a muted story raises no escalation"
    kinds = [r[0] for r in console.model.query("SELECT kind FROM alerts WHERE story_id = ?", [story_id])]
    assert kinds == ["new"]
    assert f"story {story_id} is muted" in worker.output()
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
