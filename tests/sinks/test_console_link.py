"""Alerts link to their page on the analyst console when a sink names the console's URL."""

from __future__ import annotations

import json

from monitor.sinks.base import console_link
from monitor.sinks.slack_message import alert_message, limit_problems
from monitor.sinks.webhook import alert_body
from tests.support.alerts import make_alerts


def test_the_link_is_the_story_page_at_the_alerts_section_and_only_for_http_urls():
    (alert,) = make_alerts(1)
    assert console_link("https://newsmon.example.org/", alert) == "https://newsmon.example.org/story/story-0000#why-alert-0000"
    assert console_link("https://newsmon.example.org/analysts", alert).startswith("https://newsmon.example.org/analysts/story/")
    assert console_link("", alert) is None and console_link("javascript:alert(1)//", alert) is None
    odd = alert.derive(story_id="a/b c?#", id="x&y")
    assert console_link("http://h/", odd) == "http://h/story/a%2Fb%20c%3F%23#why-x%26y", "ids are quoted, never path or query"


def test_slack_messages_get_an_open_in_newsmon_button():
    (alert,) = make_alerts(1)
    link = console_link("https://newsmon.example.org/", alert)
    message = alert_message(alert, console=link)
    buttons = message["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["open_article", "open_console"]
    assert buttons[1]["url"] == link
    assert limit_problems(message) == []
    assert [b["action_id"] for b in alert_message(alert)["blocks"][-1]["elements"]] == ["open_article"], "no URL, no button"


def test_webhook_bodies_carry_the_console_url_beside_the_alert():
    (alert,) = make_alerts(1)
    link = console_link("https://newsmon.example.org/", alert)
    document = json.loads(alert_body(alert, link)[1])
    assert document["console_url"] == link and document["data"]["id"] == alert.id
    assert "console_url" not in json.loads(alert_body(alert)[1])
