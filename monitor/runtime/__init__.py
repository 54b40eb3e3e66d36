"""Running the stages: processes, the broker, Kafka topics, metrics and health.

The embedded Tansu broker and Kafka topic creation, the poller process that publishes what
``monitor.ingest`` returns, the ``newsmon run`` supervisor, the metrics bundle every stage
records into and the health state behind ``/healthz`` and ``/readyz``.
"""
