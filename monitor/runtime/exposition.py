"""The metrics bundle over HTTP: ``/metrics``, plus ``/healthz`` and ``/readyz`` for probes."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from monitor.runtime.health import Health
from monitor.runtime.metrics import Metrics


def serve(metrics: Metrics, port: int, host: str = "0.0.0.0") -> ThreadingWSGIServer | None:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` in a daemon thread (port 0: not served)."""
    if not port:
        return None
    metrics.collect_process()
    server = make_server(
        host, port, endpoints(metrics.registry, metrics.health), ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics-http").start()
    return server


def endpoints(registry: CollectorRegistry, health: Health):
    """The WSGI app: health checks answer 200 or 503; every other path is the metrics page."""
    metrics_page = make_wsgi_app(registry)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in ("/healthz", "/readyz"):
            ok, reason = health.live() if path == "/healthz" else health.ready()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"{'ok' if ok else 'failing'}: {reason}\n".encode()]
        return metrics_page(environ, start_response)

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        """Scrapes every few seconds would drown the process's log."""
