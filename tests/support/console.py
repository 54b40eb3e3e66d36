"""Records for the console tests: a story with two outlets' articles and its alerts, and
hostile strings a feed could carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import Alert, Claim, Decision, Evidence

#: What a hostile feed could put in a title or a sentence: each must render as text.
SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
ENTITIES = "Tom &amp; Jerry &lt;b&gt; &#x3C;i&#x3E;"
JAVASCRIPT_URL = "javascript:window.__pwned=3"
LONG = "drones " * 1500  # about 10 kB


def story_records(
    story_id: str = "story-a", *, when: datetime | None = None, headline: str = "China sends drones to Russia, officials say"
) -> tuple[list[Alert], list[tuple[Decision, datetime]]]:
    """A story reported by two outlets a day apart, with a new alert and an escalation."""
    when = when or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    claim = Claim(
        subject="CHN",
        action="provide",
        object="RUS",
        topic="military_aid",
        modality="asserted",
        sentence="China sent drones to Russia.",
        marked="[[China|CHN]] <<sent|provide>> drones to [[Russia|RUS]].",
    )
    evidence = [Evidence(sentence="China sent drones to Russia.", index=0, actors=["CHN", "RUS"], topics=["military_aid"])]
    first = Alert(
        id=f"{story_id}-new",
        story_id=story_id,
        kind="new",
        headline=headline,
        topics=["military_aid"],
        actors=["CHN", "RUS"],
        evidence=evidence,
        claims=[claim],
        rule="pair-sentence-trigger",
        severity="medium",
        article_id=f"{story_id}-art1",
        source="Wire One",
        first_source="Wire One",
        url="https://one.example.org/a",
        created_at=when,
    )
    escalation = first.derive(
        id=f"{story_id}-esc",
        kind="escalation",
        severity="high",
        article_id=f"{story_id}-art2",
        source="Paper Two",
        corroboration=2,
        url="https://two.example.org/b",
        created_at=when + timedelta(days=1),
        updates=first.id,
    )
    decisions = [
        (
            Decision(
                id=f"{story_id}-art1", relevant=True, alert=True, topics=["military_aid"], story=story_id, actors=["CHN", "RUS"],
                claims=[claim], new_story=True, corroboration=1, title=headline, source="Wire One",
                url="https://one.example.org/a", alert_id=first.id,
            ),
            when,
        ),
        (
            Decision(
                id=f"{story_id}-art2", relevant=True, alert=True, topics=["military_aid"], story=story_id, actors=["CHN", "RUS"],
                claims=[claim], escalation=True, corroboration=2, title="Russia received Chinese drones", source="Paper Two",
                url="https://two.example.org/b", alert_id=escalation.id,
            ),
            when + timedelta(days=1),
        ),
    ]  # fmt: skip
    return [first, escalation], decisions


def near_miss(article_id: str = "near-1", when: datetime | None = None) -> tuple[Decision, datetime]:
    """An article naming both sides that was judged not relevant."""
    return (
        Decision(
            id=article_id,
            relevant=False,
            alert=False,
            actors=["CHN", "RUS"],
            title="Xi and Putin attend a summit",
            source="Wire One",
        ),
        when or datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
    )
