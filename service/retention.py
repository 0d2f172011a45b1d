"""Retention of the desk's spectra: full resolution for a day, thinned for a month, then deleted.

Spectra are the bulk of the database (one downsampled PSD per sensor, band and report interval);
events, incidents and the audit log are never touched here. Heartbeats are not history: the desk
keeps only each sensor's latest one, so they need no retention.

Ages are counted from ``received_us`` (indexed; how long the desk has held a spectrum). Thinning
keeps, for each site, sensor, band and ``thin_every_s`` bucket of the spectrum's own time, the
first spectrum the desk stored (lowest ``seq``), so a thinned waterfall is still evenly spaced.

A pass only thins the stretch that aged past ``full_s`` since the previous pass (plus one bucket
of overlap), so its cost stays proportional to new data, not to the month already thinned. The
first pass of a process thins the whole window once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, select

from service.db import Database
from service.models import SpectrumRow


@dataclass(frozen=True)
class RetentionPolicy:
    """How long spectra are kept, in seconds.

    ``full_s``: every spectrum kept; ``full_s`` to ``keep_s``: one per ``thin_every_s``;
    older than ``keep_s``: deleted.
    """

    full_s: float = 86_400.0
    thin_every_s: float = 60.0
    keep_s: float = 30 * 86_400.0

    def __post_init__(self) -> None:
        if not (0 < self.full_s <= self.keep_s):
            raise ValueError(f"retention: need 0 < full_s ({self.full_s}) <= keep_s ({self.keep_s})")
        if self.thin_every_s <= 0:
            raise ValueError(f"retention: thin_every_s ({self.thin_every_s}) must be > 0")


@dataclass(frozen=True)
class RetentionOutcome:
    """What one pass deleted (or would delete, on a dry run)."""

    expired: int  # older than keep_s
    thinned: int  # between full_s and keep_s, not the first of their bucket

    @property
    def deleted(self) -> int:
        return self.expired + self.thinned


class SpectraRetention:
    """Apply a :class:`RetentionPolicy` repeatedly, remembering how far thinning has got."""

    def __init__(self, db: Database, policy: RetentionPolicy) -> None:
        self.db = db
        self.policy = policy
        self._thinned_up_to_us: int | None = None  # received_us below which thinning is done

    def apply(self, now_us: int, dry_run: bool = False) -> RetentionOutcome:
        """Delete expired spectra and thin the aged ones; return the counts.

        Parameters
        ----------
        now_us : int
            The desk's time, microseconds since the epoch.
        dry_run : bool
            Count what would be deleted and delete nothing.
        """
        t = SpectrumRow
        policy = self.policy
        keep_cut_us = now_us - int(policy.keep_s * 1e6)
        full_cut_us = now_us - int(policy.full_s * 1e6)
        thin_us = max(1, int(policy.thin_every_s * 1e6))
        thin_from_us = keep_cut_us if self._thinned_up_to_us is None else max(
            keep_cut_us, self._thinned_up_to_us - 2 * thin_us)
        expired_where = t.received_us < keep_cut_us
        window = and_(t.received_us >= thin_from_us, t.received_us < full_cut_us)
        bucket = t.time_us - t.time_us % thin_us  # integer arithmetic on SQLite and PostgreSQL alike
        firsts = (select(func.min(t.seq)).where(window)
                  .group_by(t.site, t.sensor, t.band, bucket)).scalar_subquery()
        thinned_where = and_(window, t.seq.not_in(firsts))
        with self.db.write() as session:
            if dry_run:
                expired = session.scalar(select(func.count()).select_from(t).where(expired_where)) or 0
                thinned = session.scalar(select(func.count()).select_from(t).where(thinned_where)) or 0
            else:
                expired = session.execute(delete(t).where(expired_where)).rowcount or 0
                thinned = session.execute(
                    delete(t).where(thinned_where).execution_options(synchronize_session=False)).rowcount or 0
        if not dry_run:
            self._thinned_up_to_us = full_cut_us
        return RetentionOutcome(expired=expired, thinned=thinned)
