"""A sink's ``min_severity``: the Deliverer, driven directly on plain dicts with memory sinks,
never sends an alert below a sink's minimum, never dead-letters it, counts it and records it."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from monitor.configfile import ConfigError
from monitor.models import Alert, DeliveryTask
from monitor.runtime.metrics import Metrics
from monitor.sinks import load_sinks
from monitor.sinks.base import SinkConfig
from monitor.sinks.deliverer import Deliverer
from monitor.sinks.ledger import ledger_key
from monitor.sinks.memory import MemorySink
from tests.support.alerts import make_alerts

NOW = 1_000_000.0


def memory(name: str, **options) -> MemorySink:
    return MemorySink(SinkConfig(type="memory", name=name, **options))


def deliverer_for(sinks: list[MemorySink]) -> tuple[Deliverer, list]:
    """A Deliverer whose retry topic loops straight back into it; dead letters are kept."""
    letters: list = []
    holder: dict[str, Deliverer] = {}

    async def schedule(task: DeliveryTask) -> None:
        await holder["d"].on_task(task, task.partition)

    async def dead_letter(*args) -> None:
        letters.append(args)

    holder["d"] = Deliverer(
        sinks,
        {},
        {},
        Metrics(CollectorRegistry()),
        partitions=2,
        schedule=schedule,
        dead_letter=dead_letter,
        clock=lambda: NOW,
        rand=lambda: 0.5,
    )
    return holder["d"], letters


def alerts_by_severity() -> dict[str, Alert]:
    low, medium, high = make_alerts(3)
    return {"low": low.derive(severity="low"), "medium": medium.derive(severity="medium"), "high": high.derive(severity="high")}


def outcome(deliverer: Deliverer, name: str) -> float:
    value = deliverer.metrics.registry.get_sample_value("newsmon_deliveries_total", {"sink": "memory", "outcome": name})
    return value or 0.0


async def deliver_all(deliverer: Deliverer, alerts: list[Alert]) -> None:
    for alert in alerts:
        for sink in deliverer.sinks.values():
            await deliverer.on_alert(alert, sink, 0)


def test_each_sink_gets_only_the_alerts_at_or_above_its_minimum():
    """low/medium/high alerts to three sinks with minimum low, medium, high: 3, 2 and 1 sent."""
    everything, medium_up, urgent = memory("all"), memory("desk", min_severity="medium"), memory("slack", min_severity="high")
    deliverer, letters = deliverer_for([everything, medium_up, urgent])
    alerts = alerts_by_severity()
    asyncio.run(deliver_all(deliverer, list(alerts.values())))
    assert [a.severity for a in everything.alerts] == ["low", "medium", "high"]
    assert [a.severity for a in medium_up.alerts] == ["medium", "high"]
    assert [a.severity for a in urgent.alerts] == ["high"]
    assert outcome(deliverer, "delivered") == 6
    assert outcome(deliverer, "below_min_severity") == 3
    assert not letters and not deliverer.pending, "never dead-lettered, never queued"
    skipped = {key: entry["state"] for key, entry in deliverer.ledger.items() if entry["state"] != "delivered"}
    assert skipped == {
        ledger_key(alerts["low"].id, "desk"): "below_min_severity",
        ledger_key(alerts["low"].id, "slack"): "below_min_severity",
        ledger_key(alerts["medium"].id, "slack"): "below_min_severity",
    }


def test_a_reread_of_a_skipped_alert_finds_it_in_the_ledger_instead_of_judging_again():
    urgent = memory("slack", min_severity="high")
    deliverer, letters = deliverer_for([urgent])
    low = alerts_by_severity()["low"]
    asyncio.run(deliver_all(deliverer, [low, low]))
    assert outcome(deliverer, "below_min_severity") == 1
    assert outcome(deliverer, "duplicate_skipped") == 1
    assert not urgent.alerts and not letters


def test_a_digest_sink_does_not_queue_an_alert_below_its_minimum():
    digest = memory("digest", min_severity="medium", digest_minutes=5)
    deliverer, _ = deliverer_for([digest])
    alerts = alerts_by_severity()
    asyncio.run(deliver_all(deliverer, [alerts["low"], alerts["high"]]))
    queued = [task for task in deliverer.pending.values()]
    assert len(queued) == 1 and alerts["high"].id in queued[0]
    assert outcome(deliverer, "digest_queued") == 1 and outcome(deliverer, "below_min_severity") == 1


def test_an_entry_queued_before_the_minimum_was_raised_is_skipped_when_it_comes_due():
    """A retry (or a resend) of a low alert reaches a sink now set to high: dropped, not sent,
    not dead-lettered."""
    urgent = memory("slack", min_severity="high")
    deliverer, letters = deliverer_for([urgent])
    low = alerts_by_severity()["low"]

    async def go() -> None:
        await deliverer.on_task(DeliveryTask(op="schedule", sink="slack", alert=low, attempt=2, not_before=NOW - 1), 1)
        await deliverer.on_task(DeliveryTask(op="resend", sink="slack", alert=low), 1)
        await deliverer.on_tick(1)

    asyncio.run(go())
    assert not urgent.alerts and not letters and not deliverer.pending
    assert deliverer.ledger[ledger_key(low.id, "slack")]["state"] == "below_min_severity"
    assert outcome(deliverer, "below_min_severity") == 1


def test_an_alert_without_a_known_severity_ranks_as_medium():
    odd = make_alerts(1)[0].derive(severity="")
    assert SinkConfig(type="memory", min_severity="medium").accepts(odd)
    assert not SinkConfig(type="memory", min_severity="high").accepts(odd)


def test_the_below_min_severity_series_starts_at_zero_for_every_sink_type():
    metrics = Metrics(CollectorRegistry())
    metrics.expect_worker_series(["slack", "webhook"])
    for kind in ("slack", "webhook"):
        value = metrics.registry.get_sample_value("newsmon_deliveries_total", {"sink": kind, "outcome": "below_min_severity"})
        assert value == 0.0


def test_sinks_yaml_rejects_an_unknown_min_severity_and_names_the_line(tmp_path):
    path = tmp_path / "sinks.yaml"
    path.write_text("sinks:\n  - type: console\n    min_severity: high\n  - type: memory\n    min_severity: urgent\n")
    with pytest.raises(ConfigError) as caught:
        load_sinks(path)
    assert "min_severity" in str(caught.value) and "sinks.1" in str(caught.value)
    path.write_text("sinks:\n  - type: console\n    min_severity: high\n")
    (console,) = load_sinks(path)
    assert console.config.min_severity == "high"
