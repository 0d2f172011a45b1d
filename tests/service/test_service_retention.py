"""Spectra retention: whole for ``full_s``, one per ``thin_every_s`` bucket until ``keep_s``, then
gone; events untouched; a second pass deletes nothing more; the dry run counts without deleting."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select
from service_helpers import REPO

from service.db import Database
from service.models import SpectrumRow
from service.retention import RetentionPolicy, SpectraRetention

HOUR_US = 3_600 * 10**6
NOW_US = 1_750_000_000 * 10**6


def _spectra_rows(site: str, ages_s: list[float]) -> list[dict]:
    """One spectrum per age (seconds before NOW_US), received when it was taken."""
    return [{"id": f"{site}-{i}", "site": site, "sensor": "x", "band": "gsm900",
             "time_us": NOW_US - int(age * 1e6), "received_us": NOW_US - int(age * 1e6), "data": "{}"}
            for i, age in enumerate(ages_s)]


def check_retention(db: Database) -> None:
    """Fill ``db`` with spectra of known ages and apply a 1 h / 10 min / 3 h policy."""
    recent = [i * 30.0 for i in range(100)]                     # 0-50 min: all kept
    aged = [3_600.0 + 30.0 * i for i in range(1, 240)]          # 1 h-3 h: thinned to one per 10 min
    expired = [3 * 3_600.0 + 60.0 * i for i in range(1, 11)]    # > 3 h: deleted
    rows = _spectra_rows("a", recent + aged + expired) + _spectra_rows("b", aged)
    with db.write() as session:
        session.execute(SpectrumRow.__table__.insert(), rows)

    def buckets(ages: list[float]) -> int:
        return len({(NOW_US - int(a * 1e6)) // (600 * 10**6) for a in ages})

    retention = SpectraRetention(db, RetentionPolicy(full_s=3_600, thin_every_s=600, keep_s=3 * 3_600))
    dry = retention.apply(NOW_US, dry_run=True)
    thinned = 2 * (len(aged) - buckets(aged))
    assert (dry.expired, dry.thinned) == (len(expired), thinned)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(SpectrumRow)) == len(rows)  # nothing deleted

    done = retention.apply(NOW_US)
    assert (done.expired, done.thinned) == (len(expired), thinned)
    with db.read() as session:
        kept = session.execute(select(SpectrumRow.site, SpectrumRow.time_us)).all()
    kept_a = sorted(NOW_US - t for s, t in kept if s == "a")
    assert len(kept_a) == len(recent) + buckets(aged)
    assert max(kept_a) <= 3 * HOUR_US                                 # nothing older than keep_s
    aged_kept = [age for age in kept_a if age > HOUR_US]
    assert all(b - a >= 300 * 10**6 for a, b in zip(aged_kept, aged_kept[1:]))  # evenly thinned
    assert sum(1 for s, _ in kept if s == "b") == buckets(aged)      # per site, not shared

    later = retention.apply(NOW_US + 60 * 10**6)  # a minute on: none aged past full_s, a few past keep_s
    assert later.thinned == 0
    assert later.expired == sum(1 for _, t in kept if NOW_US + 60 * 10**6 - t > 3 * HOUR_US)
    assert retention.apply(NOW_US + 60 * 10**6).deleted == 0


def test_retention_thins_and_expires_spectra(db_url):
    db = Database(db_url)
    check_retention(db)
    db.dispose()


def test_settings_refuse_a_keep_shorter_than_the_full_period():
    import pydantic
    import pytest

    from service.settings import Settings

    with pytest.raises(pydantic.ValidationError, match="spectra_full_s"):
        Settings(spectra_full_s=7_200, spectra_keep_s=3_600)


def test_db_prune_command_dry_run_then_prune(db_url):
    url = db_url
    db = Database(url)
    with db.write() as session:
        old_us = NOW_US - 40 * 86_400 * 10**6  # a spectrum older than the default 30 days
        session.execute(SpectrumRow.__table__.insert(), [
            {"id": "old", "site": "a", "sensor": "x", "band": "b", "time_us": old_us, "received_us": old_us,
             "data": "{}"}])
    db.dispose()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    run = [sys.executable, "-m", "spectrum", "db", "prune", "--db", url]
    dry = subprocess.run(run + ["--dry-run"], cwd=REPO, env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "would delete 1 spectra" in dry.stdout
    done = subprocess.run(run, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 spectra" in done.stdout
    db = Database(url)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(SpectrumRow)) == 0
    db.dispose()
