"""The embedded broker: starts on a free port, serves Kafka clients, stops without leftovers."""

import pytest
from kafka import KafkaAdminClient

from monitor.runtime.broker import BrokerError, EmbeddedBroker, find_tansu


def test_starts_accepts_kafka_clients_and_stops(tmp_path):
    broker = EmbeddedBroker(log_path=tmp_path / "b.log").start()
    process = broker.process
    try:
        admin = KafkaAdminClient(bootstrap_servers=broker.url)
        assert admin.list_topics() == []
        admin.close()
    finally:
        broker.stop()
    assert process.poll() is not None, "the broker process is gone after stop()"


def test_a_missing_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CALF_TANSU_BIN", "/nonexistent/tansu")
    with pytest.raises(BrokerError, match="not an executable file"):
        find_tansu()


def test_the_bundled_binary_is_found_without_configuration(monkeypatch):
    monkeypatch.delenv("CALF_TANSU_BIN", raising=False)
    assert find_tansu().name.startswith("tansu")
