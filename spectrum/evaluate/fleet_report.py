"""The fleet load benchmark's figures per backend, side by side, against issue 16's targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TARGET_SENSORS = 1000
TARGET_INGEST_P99_MS = 200.0
TARGET_STREAM_P99_MS = 1000.0
TARGET_STREAM_BACKEND = "pg2"  # the stream target is set for PostgreSQL with 2 workers
REQUEST_KINDS = ("heartbeat", "spectra", "events")


@dataclass
class StreamFigures:
    """One viewer's live stream."""

    delivered: int = 0  # event states (id, ongoing or closed) received
    missing: int = 0  # event states the desk changed that never arrived on this stream
    delay_ms_p50: float | None = None
    delay_ms_p99: float | None = None
    notice: str | None = None  # why the desk ended the stream, if it did
    error: str | None = None


@dataclass
class BackendFigures:
    """One backend's run; ``unavailable`` says why it did not run."""

    name: str
    workers: int
    unavailable: str | None = None
    run_s: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)  # failed attempts tried again (timeouts, 5xx, 429)
    given_up: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)  # why attempts failed, e.g. "ReadTimeout": 3
    refused: list[str] = field(default_factory=list)  # other 4xx answers
    latency_ms: dict[str, dict[str, float | None]] = field(default_factory=dict)  # kind -> p50, p99
    events_sent: int = 0  # distinct event ids posted
    event_states_posted: int = 0  # event objects in all posts, re-sends and updates included
    events_acked: int = 0
    events_stored: int = 0
    events_lost: int = 0  # acknowledged, not in the database
    events_stored_twice: int = 0
    events_unexpected: int = 0  # in the database, never posted
    events_wrong_state: int = 0  # stored ongoing although their closed state was acknowledged
    updates_stored: int = 0  # answers "updated": an ongoing event closed
    resent: dict[str, int] = field(default_factory=dict)  # items sent again after a drop
    unchanged_answers: int = 0  # event states the desk recognised as already stored
    spectra_acked: int = 0
    spectra_stored: int = 0
    beats_sent: int = 0
    beats_acked: int = 0
    sensors_with_last_beat: int = 0  # sensors whose stored heartbeat is the last one they sent
    streams: list[StreamFigures] = field(default_factory=list)
    stream_delay_ms_p50: float | None = None
    stream_delay_ms_p99: float | None = None
    stream_after_answer_ms_p50: float | None = None  # from the desk's answer to the post instead (may be < 0)
    stream_after_answer_ms_p99: float | None = None
    server_rss_mb_mean: float = 0.0
    server_rss_mb_peak: float = 0.0
    server_cpu_s_per_s: float = 0.0
    database_cpu_s_per_s: float | None = None  # PostgreSQL's own processes
    db_bytes_added: int = 0
    db_mb_per_sensor_day: float = 0.0
    generator_lag_ms_p99: float | None = None  # how late the generator's event loop woke
    generator_cpu_s_per_s: float = 0.0
    host_load_mean: float = 0.0  # 1-minute load average while the sensors ran
    host_load_max: float = 0.0
    jammers: int = 0
    droppers: int = 0

    @property
    def ingest_p99_ms(self) -> float | None:
        values = [v["p99"] for v in self.latency_ms.values() if v.get("p99") is not None]
        return max(values) if values else None

    @property
    def stream_missing(self) -> int:
        return sum(s.missing for s in self.streams)


@dataclass
class FleetReport:
    sensors: int
    interval_s: float
    minutes: float
    viewers: int
    cpu_count: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    backends: list[BackendFigures] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = asdict(self)
        for row, figures in zip(out["backends"], self.backends):
            row["ingest_p99_ms"], row["stream_missing"] = figures.ingest_p99_ms, figures.stream_missing
        return out

    def header(self) -> str:
        return (f"{self.sensors} sensors, a heartbeat and a spectrum every {self.interval_s:g} s each, "
                f"{self.minutes:g} min per backend, {self.viewers} live streams. The load generator and the "
                f"viewers run on this same {self.cpu_count}-core machine as the server (and PostgreSQL); "
                f"load average {_load(self.load_before)} before, {_load(self.load_after)} after.")

    def rows(self) -> list[tuple[str, str, list[str]]]:
        """(figure, target, one cell per backend)."""
        ran = self.backends
        cell = lambda f: [f(b) if not b.unavailable else "-" for b in ran]  # noqa: E731
        out = [("workers", "", [str(b.workers) for b in ran]),
               ("requests (heartbeat / spectra / events)", "",
                cell(lambda b: " / ".join(f"{b.requests.get(k, 0):,}" for k in REQUEST_KINDS))),
               ("requests per second", "", cell(lambda b: f"{sum(b.requests.values()) / b.run_s:.0f}")),
               ("events sent (states posted, re-sent after drops)", "",
                cell(lambda b: f"{b.events_sent:,} ({b.event_states_posted:,}, {b.resent.get('events', 0)})")),
               ("events lost / stored twice / wrong state", "0 / 0 / 0",
                cell(lambda b: f"{b.events_lost} / {b.events_stored_twice} / {b.events_wrong_state}"))]
        for kind in REQUEST_KINDS:
            out.append((f"ingest {kind} p50 / p99, ms", f"p99 ≤ {TARGET_INGEST_P99_MS:.0f}",
                        cell(lambda b, k=kind: _pair(b.latency_ms.get(k, {})))))
        out += [("retried / given up / refused requests", "",
                 cell(lambda b: f"{sum(b.retries.values())} / {sum(b.given_up.values())} / {len(b.refused)}")),
                ("spectra stored / acknowledged", "", cell(lambda b: f"{b.spectra_stored:,} / {b.spectra_acked:,}")),
                ("sensors whose last heartbeat is stored", "all",
                 cell(lambda b: f"{b.sensors_with_last_beat} / {self.sensors}")),
                ("stream delay p50 / p99, ms", f"p99 ≤ {TARGET_STREAM_P99_MS:.0f} ({TARGET_STREAM_BACKEND})",
                 cell(lambda b: _pair({"p50": b.stream_delay_ms_p50, "p99": b.stream_delay_ms_p99}))),
                ("  the same from the desk's answer to the post, ms", "",
                 cell(lambda b: _pair({"p50": b.stream_after_answer_ms_p50, "p99": b.stream_after_answer_ms_p99}))),
                ("event states never delivered, per stream", "0",
                 cell(lambda b: " / ".join(str(s.missing) for s in b.streams) or "-")),
                ("server RSS mean / peak, MB", "",
                 cell(lambda b: f"{b.server_rss_mb_mean:.0f} / {b.server_rss_mb_peak:.0f}")),
                ("server CPU s per s (PostgreSQL's)", "",
                 cell(lambda b: f"{b.server_cpu_s_per_s:.2f}" + (f" ({b.database_cpu_s_per_s:.2f})"
                                                                 if b.database_cpu_s_per_s is not None else ""))),
                ("database MB per sensor-day", "", cell(lambda b: f"{b.db_mb_per_sensor_day:.1f}")),
                ("load generator: CPU s per s, loop lag p99 ms", "",
                 cell(lambda b: f"{b.generator_cpu_s_per_s:.2f}, {_ms(b.generator_lag_ms_p99)}")),
                ("host load average mean / max", "",
                 cell(lambda b: f"{b.host_load_mean:.1f} / {b.host_load_max:.1f}"))]
        return out

    def verdicts(self) -> list[str]:
        """One line per backend: the targets met or missed, or why it did not run."""
        lines = []
        for b in self.backends:
            if b.unavailable:
                lines.append(f"{b.name}: not available: {b.unavailable}")
                continue
            checks = [(f"{self.sensors} sensors (target {TARGET_SENSORS})", self.sensors >= TARGET_SENSORS),
                      (f"{b.events_lost} events lost", b.events_lost == 0 and b.events_stored_twice == 0),
                      (f"ingest p99 {_ms(b.ingest_p99_ms)} ms",
                       b.ingest_p99_ms is not None and b.ingest_p99_ms <= TARGET_INGEST_P99_MS)]
            if b.name == TARGET_STREAM_BACKEND:
                p99 = b.stream_delay_ms_p99
                checks.append((f"stream p99 {_ms(p99)} ms with {b.stream_missing} never delivered",
                               p99 is not None and p99 <= TARGET_STREAM_P99_MS and b.stream_missing == 0))
            lines.append(f"{b.name}: " + ", ".join(f"{text} {'met' if ok else 'MISSED'}" for text, ok in checks))
            if b.failures:
                lines.append(f"  {b.name}: failed attempts (retried): "
                             + ", ".join(f"{n} {why}" for why, n in sorted(b.failures.items())))
        return lines

    def print(self, console=None) -> None:
        from rich.console import Console
        from rich.table import Table

        if console is None:  # a file or a pipe gets the whole table, not 80 columns
            console = Console() if Console().is_terminal else Console(width=150)
        table = Table(title="fleet load (spectrum bench-service --minutes)", title_justify="left")
        table.add_column("figure")
        table.add_column("target")
        for b in self.backends:
            table.add_column(b.name, justify="right")
        for name, target, cells in self.rows():
            table.add_row(name, target, *cells)
        console.print(self.header())
        console.print(table)
        for line in self.verdicts():
            console.print(line, markup=False, highlight=False)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}"


def _pair(values: dict) -> str:
    return f"{_ms(values.get('p50'))} / {_ms(values.get('p99'))}"


def _load(values) -> str:
    return " ".join(f"{v:.1f}" for v in values)
