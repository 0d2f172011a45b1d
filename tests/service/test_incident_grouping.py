"""Grouping events into incidents and linking sites: the plain functions, and the store's
incremental regrouping against a rebuild from scratch."""

from __future__ import annotations

import dataclasses
import random

from service.db import Database
from service.incident_store import apply_events, rebuild_incidents
from service.incidents import (EventRecord, GroupingRules, LinkCandidate, assign_ids, group_events, incident_state,
                               link_sites)
from service.incident_models import IncidentMemberRow, IncidentRow
from sqlalchemy import select

S = 1_000_000  # µs per second
T0 = 1_718_000_000 * S
RULES = GroupingRules()


def ev(i: int, start_s: float, dur_s: float | None = 4.0, *, site: str = "s1", kind: str = "pulsed",
       freq_hz: float = 935e6, width_hz: float = 2e6, band: str | None = "gsm900", severity: str = "warning",
       rise_db: float = 10.0) -> EventRecord:
    start = T0 + int(start_s * S)
    return EventRecord(id=f"{site}-{i:06d}", site=site, band=band, kind=kind, start_us=start,
                       end_us=None if dur_s is None else start + int(dur_s * S), progress_us=0,
                       freq_low_hz=freq_hz - width_hz / 2, freq_high_hz=freq_hz + width_hz / 2, severity=severity,
                       rise_db=rise_db, peak_dbfs=-30.0 + rise_db)


def pulsed(site: str = "s1", minutes: float = 10, period_s: float = 10, on_s: float = 4, offset_s: float = 0,
           **kw) -> list[EventRecord]:
    n = int(minutes * 60 / period_s)
    return [ev(i, offset_s + i * period_s, on_s, site=site, **kw) for i in range(n)]


def partition(drafts) -> set[frozenset[str]]:
    return {frozenset(e.id for e in d.events) for d in drafts}


def test_pulsed_jammer_is_one_incident_with_its_duty():
    events = pulsed(minutes=10)
    drafts = group_events(events, RULES)
    assert len(drafts) == 1
    s = drafts[0].summary()
    assert s["bursts"] == 60
    assert abs(s["duty"] - 4 * 60 / (59 * 10 + 4)) < 1e-9  # on time over the life, first onset to last end
    assert s["first_onset_us"] == events[0].start_us and s["last_activity_us"] == events[-1].end_us


def test_a_gap_longer_than_the_hold_starts_a_new_incident():
    rules = GroupingRules(hold_s=60)
    events = [ev(0, 0), ev(1, 30), ev(2, 30 + 4 + 60.5), ev(3, 200)]  # 2 starts 60.5 s after 1 ended
    assert partition(group_events(events, rules)) == {frozenset({"s1-000000", "s1-000001"}),
                                                      frozenset({"s1-000002"}), frozenset({"s1-000003"})}
    # an ongoing event holds its incident open however long the gap
    events = [ev(0, 0, None), ev(1, 1000)]
    assert len(group_events(events, rules)) == 1


def test_kind_family_frequency_band_and_site_separate_incidents():
    base = ev(0, 0)
    others = [
        ev(1, 5, kind="wideband_noise"),  # same family as pulsed: joins
        ev(2, 6, kind="tone"),  # narrowband family: its own
        ev(3, 7, freq_hz=950e6),  # 15 MHz away: its own
        ev(4, 8, band="gsm1800"),  # another band: its own
        ev(5, 9, site="s2"),  # another site: its own
        ev(6, 10, freq_hz=935e6 + 2.1e6),  # 100 kHz beyond the extent, within the margin: joins
    ]
    groups = partition(group_events([base, *others], RULES))
    assert frozenset({"s1-000000", "s1-000001", "s1-000006"}) in groups
    assert len(groups) == 5


def test_grouping_does_not_depend_on_arrival_order():
    rng = random.Random(7)
    events = pulsed(minutes=30, period_s=37) + pulsed(minutes=20, offset_s=900, kind="tone", freq_hz=936e6)
    events += [ev(9000 + i, rng.uniform(0, 3600), rng.uniform(0.1, 30), kind=rng.choice(["tone", "swept"]),
                  freq_hz=rng.choice([935e6, 940e6]), site=rng.choice(["s1", "s2"])) for i in range(200)]
    expected = partition(group_events(events, RULES))
    for _ in range(5):
        rng.shuffle(events)
        assert partition(group_events(events, RULES)) == expected


def test_state_follows_the_quiet_and_hold_times():
    last = T0
    assert incident_state(True, last, last + 10_000 * S, RULES) == "active"
    assert incident_state(False, last, last + 59 * S, RULES) == "active"
    assert incident_state(False, last, last + 61 * S, RULES) == "quiet"
    assert incident_state(False, last, last + 299 * S, RULES) == "quiet"
    assert incident_state(False, last, last + 301 * S, RULES) == "closed"


def test_assign_ids_keeps_the_oldest_id_on_a_merge_and_derives_new_ones():
    a, b, bridge = ev(0, 0), ev(1, 400), ev(2, 200)
    rules = GroupingRules(hold_s=250)
    first = group_events([a, b], rules)
    ids = assign_ids(first, {}, {})
    assert len(set(ids)) == 2 and ids == assign_ids(first, {}, {})  # derived, reproducible
    previous = {a.id: ids[0], b.id: ids[1]}
    merged = group_events([a, b, bridge], rules)
    assert len(merged) == 1
    assert assign_ids(merged, previous, {ids[0]: a.start_us, ids[1]: b.start_us}) == [ids[0]]


def cand(i: str, site: str, onset_s: float, end_s: float, freq_hz: float = 935e6) -> LinkCandidate:
    return LinkCandidate(i, site, "wideband", T0 + int(onset_s * S), T0 + int(end_s * S), freq_hz - 1e6, freq_hz + 1e6)


def test_sites_sharing_a_jammer_are_linked_once_around_their_anchor():
    incidents = [cand("a", "s1", 0, 600), cand("b", "s2", 30, 500), cand("c", "s3", 100, 700),
                 cand("d", "s4", 400, 900),  # onset too late for the anchor a
                 cand("e", "s5", 10, 600, freq_hz=1842e6),  # another band
                 cand("f", "s1", 5, 600)]  # same site as the anchor a: never joins it, anchors its own
    links = link_sites(incidents, RULES)
    assert links == {i: ("a", ("s1", "s2", "s3")) for i in "abc"}
    assert link_sites([cand("a", "s1", 0, 600), cand("f", "s1", 5, 600)], RULES) == {}


def test_linking_does_not_chain_through_members():
    """Each onset is within the window of the one before, but only the first two are within
    the window of the anchor: pairwise linking made all five one group."""
    chain = [cand(f"i{k}", f"s{k}", 100 * k, 3000) for k in range(5)]
    links = link_sites(chain, RULES)  # window 120 s
    assert links == {"i0": ("i0", ("s0", "s1")), "i1": ("i0", ("s0", "s1")),
                     "i2": ("i2", ("s2", "s3")), "i3": ("i2", ("s2", "s3"))}


def test_sites_further_apart_than_the_link_distance_never_link():
    positions = {"s1": (-6.2, 106.8), "s2": (-6.3, 106.9), "s3": (-6.9, 107.6)}  # s3 ~115 km from s1
    rules = GroupingRules(site_positions=positions, link_distance_km=50)
    incidents = [cand("a", "s1", 0, 600), cand("b", "s2", 10, 600), cand("c", "s3", 20, 600), cand("d", "s9", 30, 600)]
    links = link_sites(incidents, rules)
    assert links == {i: ("a", ("s1", "s2", "s9")) for i in "abd"}  # s9 has no position: linked at any distance
    assert link_sites(incidents, GroupingRules(site_positions=positions, link_distance_km=200))["c"][0] == "a"


def test_site_distance_km_on_known_distances():
    from service.incidents import site_distance_km

    assert site_distance_km((0.0, 0.0), (0.0, 0.0)) == 0.0
    assert abs(site_distance_km((0.0, 0.0), (1.0, 0.0)) - 111.19) < 0.01  # one degree of a meridian
    assert abs(site_distance_km((0.0, 0.0), (0.0, 180.0)) - 6371.0 * 3.141592653589793) < 1e-6


def test_every_detector_kind_has_a_family_and_unknown_kinds_are_safe():
    from service.incidents import KIND_FAMILY, kind_family
    from spectrum.events import KINDS

    assert set(KINDS) <= set(KIND_FAMILY)
    assert kind_family("interference") == "unclassified"
    assert kind_family("a-kind-from-a-newer-detector-with-a-long-name") == "other"
    events = [ev(0, 0, kind="interference"), ev(1, 10, kind="no_such_kind"), ev(2, 20, kind="no_such_kind")]
    drafts = group_events(events, RULES)
    assert sorted((d.family, len(d.events)) for d in drafts) == [("other", 2), ("unclassified", 1)]


def test_sensor_faults_are_never_linked():
    a = LinkCandidate("a", "s1", "sensor_fault", T0, T0 + 10 * S, 0, 1e9)
    b = LinkCandidate("b", "s2", "sensor_fault", T0, T0 + 10 * S, 0, 1e9)
    assert link_sites([a, b], RULES) == {}


def _stored_partition(db: Database) -> set[frozenset[str]]:
    with db.read() as session:
        rows = session.execute(select(IncidentMemberRow.incident_id, IncidentMemberRow.event_id)).all()
    groups: dict[str, set[str]] = {}
    for incident_id, event_id in rows:
        groups.setdefault(incident_id, set()).add(event_id)
    return {frozenset(g) for g in groups.values()}


def test_incremental_regrouping_equals_a_rebuild(db_url):
    """Events arrive in random batches, late and re-sent, ongoing then closed: the stored
    incidents always equal grouping everything at once."""
    rng = random.Random(3)
    rules = GroupingRules(hold_s=60)
    final = pulsed(minutes=20, period_s=10) + pulsed(site="s2", minutes=20, period_s=45, offset_s=50)
    final += [ev(5000 + i, rng.uniform(0, 1200), rng.uniform(1, 20), kind="tone", freq_hz=936e6) for i in range(60)]
    sends = [e for e in final]
    sends += [dataclasses.replace(e, end_us=None) for e in rng.sample(final, 40)]  # ongoing states
    rng.shuffle(sends)
    sends += rng.sample(final, 30)  # re-sent
    latest: dict[str, EventRecord] = {}
    db = Database(db_url)
    now = T0 + 3600 * S
    for i in range(0, len(sends), 17):
        batch = sends[i:i + 17]
        for e in batch:  # a closed state is never replaced by an ongoing one (as the event store does)
            if e.end_us is not None or e.id not in latest:
                latest[e.id] = e
        db.transact(lambda session, b=[latest[e.id] for e in batch]: apply_events(db, session, b, rules, now))
    expected = partition(group_events(list(latest.values()), rules))
    assert _stored_partition(db) == expected
    with db.read() as session:
        bursts = sorted(r.bursts for r in session.scalars(select(IncidentRow)))
    assert bursts == sorted(len(g) for g in expected)
    db.dispose()


def test_a_split_never_gives_two_incidents_one_id(db_url):
    """An ongoing event joins a later one's incident, then closes early: the incident splits.
    The part keeping the old id holds the early event; the later event, from which that id was
    derived, starts a part of its own, which must get another id (found by the property test)."""
    rules = GroupingRules(hold_s=40)
    late = ev(1, 200, None, kind="tone")
    early = ev(2, 0, 1.0, kind="tone")
    db = Database(db_url)
    now = T0 + 3600 * S
    for record in (late, dataclasses.replace(early, end_us=None), early):  # early: first still on, then closed
        db.transact(lambda session, b=[record]: apply_events(db, session, b, rules, now))
    assert _stored_partition(db) == {frozenset({late.id}), frozenset({early.id})}
    with db.read() as session:
        assert len(set(session.scalars(select(IncidentRow.id)))) == 2
    db.dispose()


def test_rebuild_keeps_incident_ids(db_url):
    db = Database(db_url)
    from service.store import ingest_events
    from service.schemas import EventIn
    from service_helpers import make_event

    events = [make_event(start_s=i * 10, duration_s=4, kind="pulsed") for i in range(30)]
    ingest_events(db, [EventIn.model_validate(e) for e in events])
    from service.incident_store import record_from_event

    records = [record_from_event(e) for e in events]
    db.transact(lambda session: apply_events(db, session, records, RULES, T0))
    with db.read() as session:
        before = {r.id: r.bursts for r in session.scalars(select(IncidentRow))}
    assert list(before.values()) == [30]
    assert rebuild_incidents(db, RULES, T0) == 1
    with db.read() as session:
        assert {r.id: r.bursts for r in session.scalars(select(IncidentRow))} == before
    db.dispose()


def naive_anchored_links(items: list[LinkCandidate], rules: GroupingRules) -> dict[str, tuple[str, tuple]]:
    """The linking rule spelled out: in onset order, each incident joins the first earlier
    anchor it may join (every pair checked, no buckets), else becomes an anchor."""
    from service.incidents import may_join

    anchors, anchor_of = [], {}
    for c in sorted((c for c in items if c.family != "sensor_fault"), key=lambda c: (c.first_onset_us, c.id)):
        a = next((a for a in anchors if may_join(a, c, rules)), None)
        if a is None:
            anchors.append(c)
            a = c
        anchor_of[c.id] = a.id
    groups: dict[str, list[LinkCandidate]] = {}
    for c in items:
        if c.id in anchor_of:
            groups.setdefault(anchor_of[c.id], []).append(c)
    return {c.id: (a, tuple(sorted({m.site for m in g}))) for a, g in groups.items() if len(g) > 1 for c in g}


def test_linking_by_frequency_buckets_equals_checking_every_pair():
    rng = random.Random(5)
    items = []
    for k in range(400):
        onset = rng.uniform(0, 3600)
        centre, width = rng.choice([935e6, 936.5e6, 1575.42e6, 150e6]) + rng.uniform(-2e6, 2e6), rng.choice([1e3, 2e5, 5e6])
        items.append(LinkCandidate(f"i{k:03d}", f"s{rng.randrange(30)}", rng.choice(["wideband", "narrowband"]),
                                   T0 + int(onset * S), T0 + int((onset + rng.uniform(1, 900)) * S),
                                   centre - width / 2, centre + width / 2))
    expected = naive_anchored_links(items, RULES)
    assert link_sites(items, RULES) == expected
    assert len({a for a, _ in expected.values()}) > 10  # many groups, not one chain

def test_appending_in_time_order_gives_the_figures_of_a_rebuild(new_db_url, monkeypatch):
    """Live traffic mostly appends (the fast path, which never reads earlier events); now and
    then an event is late or an ongoing one closes (the full regroup). Same figures either way."""
    rng = random.Random(11)
    rules = GroupingRules(hold_s=60)
    final = pulsed(minutes=15, period_s=10) + pulsed(site="s2", minutes=15, period_s=30, offset_s=3, kind="swept")
    final += [ev(7000 + i, rng.uniform(0, 900), rng.uniform(1, 40), kind=rng.choice(["tone", "new_emitter"]),
                 freq_hz=rng.choice([935e6, 938e6]), severity=rng.choice(["info", "critical"]),
                 rise_db=rng.uniform(5, 30)) for i in range(80)]
    final.sort(key=lambda e: e.start_us)
    sends = []
    for e in final:
        if rng.random() < 0.1:  # first sent while ongoing, closed with the next batch
            sends.append([dataclasses.replace(e, end_us=None, progress_us=e.start_us)])
        sends.append([e])
    late = [sends.pop(rng.randrange(len(sends) // 2)) for _ in range(5)]
    sends += late
    import service.incident_store as store

    appends = []
    real_append = store._append
    monkeypatch.setattr(store, "_append", lambda *a: appends.append(1) or real_append(*a))
    db = Database(new_db_url())
    now = T0 + 3600 * S
    for batch in sends:
        db.transact(lambda session, b=batch: apply_events(db, session, b, rules, now))

    def figures():
        with db.read() as session:
            return sorted((r.first_onset_us, r.last_activity_us, r.bursts, round(r.on_s, 5), round(r.duty, 6),
                           r.severity, r.peak_rise_db, r.kinds, r.freq_low_hz, r.freq_high_hz, r.ongoing)
                          for r in session.scalars(select(IncidentRow)))

    incremental = figures()
    assert len(appends) > len(sends) * 0.7  # most batches took the fast path
    db2 = Database(new_db_url())
    db2.transact(lambda session: apply_events(db2, session, final, rules, now))
    db, db_inc = db2, db
    assert figures() == incremental
    assert partition(group_events(final, rules)) == _stored_partition(db_inc)
    db.dispose()
    db_inc.dispose()


def test_incremental_wide_area_links_equal_linking_everything_at_once(db_url):
    """Sites that share a jammer (some onsets too far apart to link), sent in time order
    with a few late events: the stored wide-area groups equal linking the final incidents."""
    rng = random.Random(21)
    rules = GroupingRules(hold_s=60, link_window_s=40)
    final = []
    for k, offset in enumerate((0, 15, 30, 200, 210)):  # s0-s2 link; s3-s4 link with each other only
        final += pulsed(site=f"s{k}", minutes=4, period_s=10, offset_s=offset)
    final += [ev(8000 + i, rng.uniform(0, 400), 5, site=f"s{rng.randrange(5)}", kind="tone", freq_hz=950e6)
              for i in range(20)]
    final.sort(key=lambda e: e.start_us)
    sends = [[e] for e in final]
    sends += [sends.pop(rng.randrange(len(sends))) for _ in range(6)]
    db = Database(db_url)
    now = T0 + 3600 * S
    for batch in sends:
        db.transact(lambda session, b=batch: apply_events(db, session, b, rules, now))
    drafts = group_events(final, rules)
    events_of = {}
    candidates = []
    for d in drafts:
        s = d.summary()
        key = frozenset(e.id for e in d.events)
        events_of[key] = key
        candidates.append(LinkCandidate(min(key), d.site, d.family, s["first_onset_us"], s["last_activity_us"],
                                        s["freq_low_hz"], s["freq_high_hz"], d.events[0].id))
    expected_links = link_sites(candidates, rules)
    by_first = {min(frozenset(e.id for e in d.events)): frozenset(e.id for e in d.events) for d in drafts}
    expected: dict[str, set] = {}
    for first, (area, _) in expected_links.items():
        expected.setdefault(area, set()).add(by_first[first])
    with db.read() as session:
        members = session.execute(select(IncidentMemberRow.incident_id, IncidentMemberRow.event_id)).all()
        areas = {r.id: r.area_id for r in session.scalars(select(IncidentRow))}
    groups: dict[str, set[str]] = {}
    for incident_id, event_id in members:
        groups.setdefault(incident_id, set()).add(event_id)
    got: dict[str, set] = {}
    for incident_id, area in areas.items():
        if area:
            got.setdefault(area, set()).add(frozenset(groups[incident_id]))
    assert {frozenset(v) for v in got.values()} == {frozenset(v) for v in expected.values()}
    pulsed_groups = [g for g in got.values() if len(next(iter(g))) > 10]  # the jammer's incidents, not the tones
    assert sorted(map(len, pulsed_groups)) == [2, 3]
    db.dispose()
