"""Prometheus text exposition, written by hand.

Why not ``prometheus_client``: its default registry is process-global, which clashes with
an app factory (tests build many apps in one process) and it would be one more dependency
for a dozen counters. Counters here live on the app; the format is the plain text format
0.0.4 (``# HELP``, ``# TYPE``, ``name{labels} value``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/v1"


class Metrics:
    """Counters of one app instance (thread-safe increments)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, float] = defaultdict(float)
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.request_seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.started_s = time.time()

    def inc(self, name: str, value: float = 1) -> None:
        with self._lock:
            self.counters[name] += value

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            self.request_seconds[(method, route)] += seconds

    def render(self, gauges: dict[str, tuple[str, float | dict[tuple[tuple[str, str], ...], float]]]) -> str:
        """The exposition text: counters, request counts, and the given ``{name: (help, value)}`` gauges."""
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        with self._lock:
            counters = dict(self.counters)
            requests = dict(self.requests)
            request_seconds = dict(self.request_seconds)
        for name, help_text in COUNTERS.items():
            family(name, "counter", help_text)
            lines.append(f"{name} {_num(counters.get(name, 0))}")
        family("spectrum_http_requests_total", "counter", "HTTP requests by method, route and status")
        for (method, route, status), n in sorted(requests.items()):
            lines.append(f'spectrum_http_requests_total{{method="{method}",route="{_esc(route)}",status="{status}"}} {n}')
        family("spectrum_http_request_seconds_total", "counter", "time spent answering, by method and route")
        for (method, route), s in sorted(request_seconds.items()):
            lines.append(f'spectrum_http_request_seconds_total{{method="{method}",route="{_esc(route)}"}} {_num(s)}')
        for name, (help_text, value) in gauges.items():
            family(name, "gauge", help_text)
            if isinstance(value, dict):
                for labels, v in sorted(value.items()):
                    text = ",".join(f'{k}="{_esc(val)}"' for k, val in labels)
                    lines.append(f"{name}{{{text}}} {_num(v)}")
            else:
                lines.append(f"{name} {_num(value)}")
        return "\n".join(lines) + "\n"


COUNTERS = {
    "spectrum_events_received_total": "events received in accepted batches (retries included)",
    "spectrum_events_created_total": "events stored for the first time",
    "spectrum_events_updated_total": "stored events replaced by a newer state",
    "spectrum_events_rejected_total": "events in rejected batches (422/403/409)",
    "spectrum_ownership_conflicts_total": "writes refused because an id belongs to another sensor (409)",
    "spectrum_heartbeats_total": "heartbeats stored",
    "spectrum_spectra_total": "spectra stored",
    "spectrum_spectra_pruned_total": "spectra deleted by retention",
    "spectrum_auth_failures_total": "requests refused with 401",
    "spectrum_sse_dropped_clients_total": "live-stream clients dropped for reading too slowly",
}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


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
