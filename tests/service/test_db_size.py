"""``spectrum db size``: table sizes from the file (SQLite) or the server (PostgreSQL), rates
from the rows, and the projection per sensor-day under the retention settings is the
arithmetic of those two."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from service_helpers import REPO

from service.db import Database
from service.db_growth import measure_growth
from service.models import EventRow, SpectrumRow
from service.retention import RetentionPolicy

T0_US = 1_750_000_000 * 10**6
PAYLOAD = '{"bins": [' + ",".join(["-101.5"] * 300) + "]}"  # about 2 KB, as a summary of 256+ bins


def _fill(url: str) -> None:
    db = Database(url)
    spectra = [{"id": f"{band}-{i}", "site": "s", "sensor": "x", "band": band, "time_us": T0_US + i * 2 * 10**6,
                "received_us": T0_US + i * 2 * 10**6, "data": PAYLOAD}
               for band in ("gsm900", "pmr") for i in range(1801)]  # one hour, one every 2 s, two bands
    events = [{"id": f"e{i}", "kind": "pulsed", "severity": "warning", "site": "s", "sensor": "x",
               "start_us": T0_US + i * 36 * 10**6, "end_us": None, "freq_low_hz": 9.35e8, "freq_high_hz": 9.36e8,
               "closed": False, "progress_us": 0, "received_us": T0_US, "data": "{}"} for i in range(101)]
    with db.write() as session:
        session.execute(SpectrumRow.__table__.insert(), spectra)
        session.execute(EventRow.__table__.insert(), events)
    db.dispose()


def test_rates_sizes_and_projection(tmp_path):
    # SQLite only: the sizes are the file's pages; PostgreSQL's (compressed) are in test_db_size_on_postgresql
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    _fill(url)
    db = Database(url)
    policy = RetentionPolicy(full_s=86_400, thin_every_s=60, keep_s=30 * 86_400)
    g = measure_growth(db, policy)
    db.dispose()
    assert g.spectrum_streams == 2 and abs(g.spectra_per_s - 0.5) < 1e-9
    assert g.tables["spectra"].rows == 3602 and g.tables["events"].rows == 101
    assert len(PAYLOAD) < g.spectrum_bytes < 2 * len(PAYLOAD)  # the row, its share of pages and indexes
    assert sum(t.bytes for t in g.tables.values()) <= g.file_bytes
    assert abs(g.events_per_sensor_day() - 101 * 24) < 1  # 101 events over exactly one hour
    assert abs(g.spectra_full_day_bytes() - 43_200 * g.spectrum_bytes) < 1
    kept_rows = 43_200 + 29 * 1_440  # a day whole, then one a minute for 29 more days
    assert abs(g.spectra_kept_bytes() - kept_rows * g.spectrum_bytes) < 1


def test_db_size_command_prints_the_projection(db_url):
    url = db_url
    _fill(url)
    env = dict(os.environ, PYTHONPATH=str(REPO), SPECTRUM_SPECTRA_FULL_S="3600")
    out = subprocess.run([sys.executable, "-m", "spectrum", "db", "size", "--db", url], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "2 sensor-band stream(s), 0.500 per second" in out.stdout
    assert "(whole 1 h, one per 60 s to 30 days)" in out.stdout  # the settings' policy, not a fixed one
    assert re.search(r"events: 2,424 per sensor-day", out.stdout), out.stdout


def test_db_size_on_postgresql(pg, capsys):
    """The same command on PostgreSQL: table sizes from pg_total_relation_size, same lines."""
    from spectrum.cli import main

    url = pg.url()
    _fill(url)
    assert main(["db", "size", "--db", url]) == 0
    out = capsys.readouterr().out
    total = re.match(r"database (\d+\.\d\d) MB; tables with their indexes:", out)
    tables = {m[1]: (m[2], float(m[3]), int(m[4].replace(",", ""))) for m in re.finditer(
        r"  (\w+): ([\d,]+) rows, (\d+\.\d\d) MB \(([\d,]+) B per row\)", out)}
    assert total and tables["spectra"][0] == "3,602" and tables["events"][0] == "101", out
    # PostgreSQL compresses the repetitive payloads (TOAST): a row takes less than its text
    assert 0.1 < tables["spectra"][1] < 3602 * 2 * len(PAYLOAD) / 1e6 and tables["spectra"][2] > 50, out
    assert sum(mb for _, mb, _ in tables.values()) <= float(total[1]), out
    assert "2 sensor-band stream(s), 0.500 per second" in out
