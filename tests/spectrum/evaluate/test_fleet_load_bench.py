"""The fleet load benchmark, run small (20 sensors, a heartbeat every half second, for 1 s) against real
servers on SQLite and, where it can be started, PostgreSQL: its report must add up — no event
lost or stored twice, jammer updates and re-sends after drops absorbed, every sensor's last
heartbeat stored, the streams given every event, sizes and resources measured."""

from __future__ import annotations

import pytest

from spectrum.evaluate.fleet_load_bench import run_fleet_bench
from spectrum.evaluate.fleet_traffic import FleetPlan
from spectrum.evaluate.pg_cluster import unavailable_reason

# busier than the default fleet, so that bursts, updates and drops all happen within seconds
PLAN = FleetPlan(sensors=20, interval_s=0.5, duration_s=1.0, jammer_share=0.2, drop_share=0.2,
                 sporadic_per_h=3600.0, burst_period_s=0.5, burst_on_s=0.2, open_share=0.5, drop_max_s=1.0)


def test_fleet_bench_report_adds_up():
    pg_missing = unavailable_reason()
    backends = ["sqlite"] + ([] if pg_missing else ["pg1"])
    report = run_fleet_bench(PLAN, backends, viewers=2, drain_s=0.3, progress=lambda _msg: None)
    assert [b.name for b in report.backends] == backends
    for b in report.backends:
        assert b.unavailable is None, b.unavailable
        assert not b.refused and not b.given_up, (b.refused, b.given_up)
        assert b.jammers == 4 and b.droppers == 4
        assert b.events_sent > 20 and b.updates_stored > 0, "bursts, sporadic events and their updates were sent"
        assert b.resent["events"] + b.resent.get("spectra", 0) > 0 and b.unchanged_answers > 0, "re-sends absorbed"
        assert b.events_acked == b.events_sent == b.events_stored
        assert (b.events_lost, b.events_stored_twice, b.events_unexpected, b.events_wrong_state) == (0, 0, 0, 0)
        assert b.spectra_stored == b.spectra_acked == 20 * 2
        assert b.beats_acked == b.beats_sent == b.requests["heartbeat"] == 20 * 2
        assert b.sensors_with_last_beat == 20
        assert len(b.streams) == 2
        for stream in b.streams:
            assert stream.missing == 0 and stream.delivered >= b.events_sent and stream.notice is None
        assert 0 < b.stream_delay_ms_p50 <= b.stream_delay_ms_p99
        assert b.stream_after_answer_ms_p50 < b.stream_delay_ms_p50  # the answer comes after the post went out
        assert 0 < b.latency_ms["events"]["p50"] <= b.latency_ms["events"]["p99"]
        assert b.server_rss_mb_peak >= b.server_rss_mb_mean > 20 and b.server_cpu_s_per_s > 0
        assert b.generator_cpu_s_per_s > 0 and b.host_load_max > 0
        assert b.db_bytes_added > 0 and b.db_mb_per_sensor_day > 0
    if pg_missing:
        pytest.skip(f"SQLite part passed; PostgreSQL part skipped: {pg_missing}")
    assert report.backends[1].database_cpu_s_per_s > 0
