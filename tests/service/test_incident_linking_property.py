"""Property: whatever the events and the order they arrive in, the incidents and wide-area
groups the store keeps incrementally equal grouping and linking the final events at once."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from service.db import Database
from service.incident_models import IncidentMemberRow, IncidentRow
from service.incident_store import apply_events
from service.incidents import EventRecord, GroupingRules, LinkCandidate, group_events, link_sites
from service.models import Base

S = 1_000_000
T0 = 1_718_000_000 * S
# short hold and window so a few dozen events over ten minutes make many incidents and groups
RULES = GroupingRules(hold_s=40, link_window_s=30,
                      site_positions={"s0": (-6.20, 106.80), "s1": (-6.25, 106.85), "s3": (-7.80, 110.40)},
                      link_distance_km=50)

event_fields = st.tuples(
    st.sampled_from(["s0", "s1", "s2", "s3"]),
    st.sampled_from(["pulsed", "tone", "swept", "sensor_fault", "interference"]),
    st.integers(0, 600),  # start, s
    st.one_of(st.none(), st.integers(1, 60)),  # duration, s (None: ongoing)
    st.sampled_from([935e6, 936e6, 940e6]),
    st.sampled_from(["info", "warning", "critical"]),
)


def _record(i: int, fields) -> EventRecord:
    site, kind, start_s, dur_s, freq_hz, severity = fields
    start = T0 + start_s * S
    return EventRecord(id=f"e{i:04d}", site=site, band="b", kind=kind, start_us=start,
                       end_us=None if dur_s is None else start + dur_s * S, progress_us=start if dur_s is None else 0,
                       freq_low_hz=freq_hz - 5e5, freq_high_hz=freq_hz + 5e5, severity=severity, rise_db=10.0,
                       peak_dbfs=-20.0)


def _expected(final: list[EventRecord]) -> set:
    drafts = group_events(final, RULES)
    key_of, cands = {}, []
    for d in drafts:
        s = d.summary()
        key = frozenset(e.id for e in d.events)
        first = d.events[0].id  # the store orders incidents of equal onset by their first event
        key_of[first] = key
        cands.append(LinkCandidate(first, d.site, d.family, s["first_onset_us"],
                                   2**62 if s["ongoing"] else s["last_activity_us"], s["freq_low_hz"],
                                   s["freq_high_hz"], first))
    links = link_sites(cands, RULES)
    return {(key_of[k], frozenset(key_of[m] for m, (a, _) in links.items() if a == links[k][0]) if k in links else None)
            for k in key_of}


def _stored(db: Database) -> set:
    with db.read() as session:
        members = session.execute(select(IncidentMemberRow.incident_id, IncidentMemberRow.event_id)).all()
        areas = {r.id: r.area_id for r in session.scalars(select(IncidentRow))}
    events_of: dict[str, set] = {}
    for incident_id, event_id in members:
        events_of.setdefault(incident_id, set()).add(event_id)
    by_area: dict[str, set] = {}
    for incident_id, area in areas.items():
        if area:
            by_area.setdefault(area, set()).add(frozenset(events_of[incident_id]))
    return {(frozenset(events_of[i]), frozenset(by_area[a]) if a else None) for i, a in areas.items()}


@pytest.fixture
def db(db_url):
    db = Database(db_url)
    yield db
    db.dispose()


def _empty(db: Database) -> None:
    """Every table emptied: each example starts from a new desk (quicker than a new database)."""
    with db.write() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())


# derandomize: the suite runs the same examples every time (a red CI must be reproducible); a
# wider random search runs with this decorator's settings changed, as for the split fix.
# The database fixture is shared by the examples: each empties it first.
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(event_fields, min_size=1, max_size=40), st.randoms(use_true_random=False),
       st.integers(1, 5), st.floats(0, 0.3))
def test_incremental_grouping_and_linking_equal_a_rebuild_in_any_arrival_order(db, fields, rng, batch, resend_ongoing):
    final = [_record(i, f) for i, f in enumerate(fields)]
    sends = []
    for e in final:
        if e.end_us is not None and rng.random() < resend_ongoing:  # first sent while still on, then closed
            sends.append(dataclasses.replace(e, end_us=None, progress_us=e.start_us))
        sends.append(e)
    rng.shuffle(sends)
    arrivals = _keep_latest_last(sends)
    _empty(db)
    now = T0 + 3600 * S
    for i in range(0, len(arrivals), batch):
        db.transact(lambda session, b=arrivals[i:i + batch]: apply_events(db, session, b, RULES, now))
    assert _stored(db) == _expected(final)


def _keep_latest_last(arrivals: list[EventRecord]) -> list[EventRecord]:
    """The store keeps the last version sent of an event; put each event's final (closed)
    version after its ongoing one, wherever the shuffle put them."""
    out, seen = [], {}
    for e in arrivals:
        seen.setdefault(e.id, []).append(len(out))
        out.append(e)
    for e_id, places in seen.items():
        versions = sorted((out[p] for p in places), key=lambda e: e.end_us is not None)
        for p, v in zip(places, versions):
            out[p] = v
    return out
