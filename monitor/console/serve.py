"""``newsmon console``: the read model, its consumer and the web app under uvicorn.

Refuses to listen beyond loopback without a token. Prints ``console: http://…/`` once it
listens, the line ``newsmon run`` passes on to its terminal.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

import uvicorn

from monitor.configfile import ConfigError
from monitor.console.app import create_app
from monitor.console.follow import Follower
from monitor.console.security import is_loopback
from monitor.console.store import ReadModel
from monitor.settings import Settings
from monitor.watchlist import load_watchlist

log = logging.getLogger(__name__)

READ_MODEL = "console.sqlite3"


class ConsoleRefused(ValueError):
    """The console may not listen where it was asked to."""


def check_bind(host: str, token: str) -> None:
    if not is_loopback(host) and not token:
        raise ConsoleRefused(
            f"the console would listen on {host}, beyond loopback, without a token: set MONITOR_CONSOLE_TOKEN "
            "(or keep MONITOR_CONSOLE_HOST=127.0.0.1)"
        )


class ConsoleServer:
    """The console on ``host:port`` (port 0: a free one), in a thread; ``url`` once started."""

    def __init__(self, settings: Settings, *, host: str | None = None, port: int | None = None):
        self.settings = settings
        self.host = host or settings.console_host
        check_bind(self.host, settings.console_token.get_secret_value())
        self.model = ReadModel(settings.data_dir / READ_MODEL)
        self.follower = Follower(settings, self.model) if settings.bootstrap_servers else None
        app = create_app(
            settings,
            self.model,
            vitals=self.follower.vitals if self.follower else None,
            route_for=_router(settings),
            host=self.host,
        )
        config = uvicorn.Config(
            app,
            host=self.host,
            port=settings.console_port if port is None else port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            lifespan="on",
            proxy_headers=True,
            forwarded_allow_ips=settings.console_forwarded_allow_ips,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True, name="console-http")

    @property
    def url(self) -> str:
        sockets = [s for server in self.server.servers for s in server.sockets]
        port = sockets[0].getsockname()[1] if sockets else self.server.config.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}/"

    def start(self, timeout_s: float = 20.0) -> ConsoleServer:
        if self.follower is not None:
            self.follower.start()
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the console did not start on {self.host}:{self.server.config.port}")
            time.sleep(0.05)
        return self

    def wait(self) -> None:
        self._thread.join()

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)
        if self.follower is not None:
            self.follower.stop()
        self.model.close()


def _router(settings: Settings):
    """Story routes from the watchlist, so a mute is keyed like the story's articles."""
    try:
        watchlist = load_watchlist(settings.config_file("watchlist.yaml"))
    except (ConfigError, OSError) as exc:
        log.warning("watchlist not read (%s): mutes reach the detect stage only by story id", exc)
        return None
    return watchlist.route_for


def run_console(settings: Settings) -> int:
    """Serve until interrupted; the exit status."""
    server = ConsoleServer(settings).start()
    # uvicorn handles signals only on the main thread; ours waits, so stop it cleanly here.
    signal.signal(signal.SIGTERM, lambda *_: setattr(server.server, "should_exit", True))
    print(f"console: {server.url}", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
