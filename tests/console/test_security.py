"""The console's guards: CSRF on every POST, the token beyond loopback, hostile feed text."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from monitor.console.app import create_app
from monitor.console.security import SESSION_COOKIE, session_value
from monitor.console.serve import ConsoleRefused, ConsoleServer, check_bind
from tests.console.conftest import csrf_of
from tests.support.console import ENTITIES, IMG, JAVASCRIPT_URL, LONG, SCRIPT, story_records


def test_a_post_without_the_csrf_token_is_refused(client):
    form = {"verdict": "relevant", "story_id": "story-a"}
    assert client.post("/feedback", data=form).status_code == 403
    token = csrf_of(client)
    assert client.post("/feedback", data={**form, "csrf": "x" + token}).status_code == 403
    assert client.post("/login", data={"token": "t"}).status_code == 403
    # The right token in a JSON body is still refused: forms only.
    assert client.post("/feedback", json={**form, "csrf": token}).status_code == 403


def test_a_huge_form_is_refused_before_any_handler(client):
    token = csrf_of(client)
    assert client.post("/feedback", data={"csrf": token, "note": "x" * 100_000}).status_code == 413


def test_no_token_means_no_console_beyond_loopback(settings, filled):
    with pytest.raises(ConsoleRefused):
        check_bind("0.0.0.0", "")
    check_bind("127.0.0.1", "")
    check_bind("::1", "")
    # And the app itself, were it bound there anyway, refuses every request.
    with TestClient(create_app(settings, filled, host="0.0.0.0")) as client:
        for path in ("/", "/story/story-a", "/health", "/static/console.js", "/login"):
            assert client.get(path).status_code == 403


def test_beyond_loopback_every_request_needs_the_token(settings, filled):
    token = "s3cret-token-for-tests"
    secured = settings.with_overrides(console_token=SecretStr(token), console_host="0.0.0.0")
    with TestClient(create_app(secured, filled), follow_redirects=False) as client:
        assert client.get("/").status_code == 303 and client.get("/").headers["location"] == "/login"
        assert client.get("/story/story-a").status_code == 303
        assert client.get("/healthz").text == "ok", "a probe needs no session, and learns nothing else"
        assert client.get("/events", headers={"accept": "text/event-stream"}).status_code == 401
        assert client.post("/feedback", data={"verdict": "mute"}).status_code == 401
        client.cookies.set(SESSION_COOKIE, session_value("wrong"))
        assert client.get("/").status_code == 303
        client.cookies.clear()
        csrf = csrf_of(client)
        assert client.post("/login", data={"csrf": csrf, "token": "guess"}).status_code == 403
        login = client.post("/login", data={"csrf": csrf, "token": token})
        assert login.status_code == 303
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and token not in cookie
        assert client.get("/").status_code == 200
    with TestClient(create_app(secured, filled)) as tool:
        assert tool.get("/health", headers={"authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize("hostile", [SCRIPT, IMG, ENTITIES, LONG])
def test_hostile_feed_text_renders_as_text(settings, model, hostile):
    alerts, decisions = story_records("story-h", headline=hostile)
    alerts = [alert.derive(url=JAVASCRIPT_URL, evidence=[], first_source=hostile) for alert in alerts]
    decisions = [(d.derive(title=hostile, url=JAVASCRIPT_URL, source=hostile), when) for d, when in decisions]
    model.store(alerts, decisions)
    with TestClient(create_app(settings, model), base_url="http://127.0.0.1:8090") as client:
        for path in ("/", "/story/story-h", "/health", "/?q=drones"):
            page = client.get(path).text
            assert "<script>window" not in page and "<img src=x" not in page
            assert 'href="javascript:' not in page
        story = client.get("/story/story-h").text
        if hostile == SCRIPT:
            assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in story
        if hostile == ENTITIES:
            assert "Tom &amp;amp; Jerry" in story, "entities are shown as typed, not decoded"
        if hostile == LONG:
            assert story.count(LONG.strip()) >= 2, "the whole 10 kB string is there, as text"


def test_feedback_the_broker_does_not_take_is_refused_and_not_stored(settings, filled):
    from tests.support.prometheus import free_port

    offline = settings.with_overrides(broker_url=f"127.0.0.1:{free_port()}")
    with TestClient(create_app(offline, filled), base_url="http://127.0.0.1:8090") as client:
        token = csrf_of(client)
        response = client.post("/feedback", data={"csrf": token, "verdict": "relevant", "story_id": "story-a"})
    assert response.status_code == 503 and "not stored" in response.text
    assert filled.query("SELECT COUNT(*) FROM feedback")[0][0] == 0, "the topic is the record of truth: nothing without it"


@pytest.mark.parametrize("host", ["127.0.0.1:8090", "localhost:8090", "[::1]:8090", "127.0.0.2", "console.localhost:8090"])
def test_on_loopback_without_a_token_a_loopback_host_name_is_served(settings, filled, host):
    with TestClient(create_app(settings, filled), base_url=f"http://{host}") as client:
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("host", ["evil.example:8090", "evil.example", "127.0.0.1.evil.example", "[::1", "10.0.0.5:8090"])
def test_on_loopback_without_a_token_another_host_name_is_refused_as_dns_rebinding(settings, filled, host):
    """A page on evil.example whose name re-points to 127.0.0.1 is same-origin with the
    console; refusing its Host keeps it from reading pages and posting feedback."""
    with TestClient(create_app(settings, filled), base_url="http://127.0.0.1:8090") as client:
        csrf = csrf_of(client)
        assert client.get("/", headers={"host": host}).status_code == 403
        form = {"verdict": "mute", "story_id": "story-a", "csrf": csrf}
        assert client.post("/feedback", data=form, headers={"host": host}).status_code == 403


@pytest.mark.parametrize(("trusted", "secure"), [("127.0.0.1", True), ("10.0.0.0/8", False)])
def test_the_cookie_is_secure_only_behind_a_trusted_tls_proxy(settings, trusted, secure):
    """Behind a TLS ingress the console sees plain http from the proxy: only a proxy named in
    MONITOR_CONSOLE_FORWARDED_ALLOW_IPS may say the browser used https (and so get a
    Secure cookie); anyone else sending X-Forwarded-Proto is not believed."""
    token = "s3cret-token-for-tests"
    proxied = settings.with_overrides(console_token=SecretStr(token), console_forwarded_allow_ips=trusted)
    server = ConsoleServer(proxied, host="127.0.0.1", port=0).start()
    try:
        # Cookies by hand: a Secure one is not sent back over this test's plain http.
        proxy = {"x-forwarded-proto": "https"}
        csrf = httpx.get(server.url + "login", headers=proxy).cookies["newsmon_csrf"]
        login = httpx.post(
            server.url + "login", data={"csrf": csrf, "token": token}, headers={**proxy, "cookie": f"newsmon_csrf={csrf}"}
        )
    finally:
        server.stop()
    assert login.status_code == 303
    assert ("; Secure" in login.headers["set-cookie"]) is secure
