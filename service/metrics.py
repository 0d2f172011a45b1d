"""Metrics of one app, in ``prometheus_client`` objects on a registry of the app's own.

No global registry: the app factory creates a :class:`Metrics` (and so a
``CollectorRegistry``) per app, so tests and benchmarks may build many apps in one process.
Gauges that are read from elsewhere (stream clients, sensors by status, uptime) are
computed when scraped, by a small collector.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
API_PREFIX = "/api/v1"


class Metrics:
    """The counters of one app instance, on its own registry (thread-safe)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started_s = time.time()
        self._counters = {name: Counter(name, help_text, registry=self.registry)
                          for name, help_text in COUNTERS.items()}
        self._requests = Counter("spectrum_http_requests_total", "HTTP requests by method, route and status",
                                 ("method", "route", "status"), registry=self.registry)
        self._request_seconds = Counter("spectrum_http_request_seconds_total",
                                        "time spent answering, by method and route", ("method", "route"),
                                        registry=self.registry)

    def inc(self, name: str, value: float = 1) -> None:
        """Add ``value`` to the counter ``name`` (one of :data:`COUNTERS`)."""
        if value:
            self._counters[name].inc(value)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).inc()
        self._request_seconds.labels(method, route).inc(seconds)

    def add_gauges(self, read: Callable[[], dict[str, tuple[str, float | dict[tuple[tuple[str, str], ...], float]]]]
                   ) -> None:
        """Gauges computed at each scrape: ``read()`` gives ``{name: (help, value or {labels: value})}``."""
        self.registry.register(_GaugeCollector(read))

    def render(self) -> bytes:
        """The exposition text (Prometheus text format 0.0.4)."""
        return generate_latest(self.registry)


class _GaugeCollector(Collector):
    def __init__(self, read) -> None:
        self._read = read

    def describe(self):
        return []  # unknown until read: no name clash check at registration

    def collect(self):
        for name, (help_text, value) in self._read().items():
            if isinstance(value, dict):
                label_names = [k for k, _ in next(iter(value), ())]
                family = GaugeMetricFamily(name, help_text, labels=label_names)
                for labels, v in sorted(value.items()):
                    family.add_metric([val for _, val in labels], v)
            else:
                family = GaugeMetricFamily(name, help_text, value=value)
            yield family


COUNTERS = {
    "spectrum_events_received_total": "events received in accepted batches (retries included)",
    "spectrum_events_created_total": "events stored for the first time",
    "spectrum_events_updated_total": "stored events replaced by a newer state",
    "spectrum_events_rejected_total": "events in rejected batches (422/403/409)",
    "spectrum_ownership_conflicts_total": "writes refused because an id belongs to another sensor (409)",
    "spectrum_heartbeats_total": "heartbeats stored",
    "spectrum_spectra_total": "spectra stored",
    "spectrum_spectra_pruned_total": "spectra deleted by retention",
    "spectrum_auth_failures_total": "requests refused with 401 (or 400 for a token in the URL)",
    "spectrum_auth_throttled_total": "requests refused with 429 after too many failed authentications",
    "spectrum_sse_refused_total": "live streams refused: the token holds too many",
    "spectrum_sse_revoked_total": "live streams ended because their token was revoked",
    "spectrum_sse_dropped_clients_total": "live-stream clients dropped for reading too slowly",
}


class RequestMetricsMiddleware:
    """Pure ASGI middleware counting requests by route template (not raw path: bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            if scope["path"].startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX + "/"):
                path = API_PREFIX + path  # routers report their path without the prefix
            self.metrics.observe_request(scope["method"], path, status, time.perf_counter() - started)
