"""Incidents from events: grouping per site and band, and linking across sites.

Plain, deterministic functions over event records; no database and no clock here (the
caller passes ``now_us``), so the same events always give the same incidents, whatever the
order they arrived in.

Grouping (one site, one band)
    Events are taken in order of ``(start_us, id)``. An event joins the open incident of
    its site, band and kind family whose frequency extent (widened by a margin) overlaps its
    own, and which is either still ongoing or whose last activity is at most ``hold_s``
    before the event starts; of several, the earliest onset wins. Otherwise it opens a new
    incident. An event's assignment depends only on the events that start before it, which
    is what lets the store regroup only the incidents a changed event can reach.

Linking (several sites)
    Anchored, not transitive: incidents are taken in onset order; each joins the earliest
    group whose anchor (its first incident) it overlaps in frequency, began within
    ``link_window_s`` of and during, at another site, and within ``link_distance_km`` where
    both sites' positions are known; otherwise it anchors a group of its own. Groups of two
    or more are wide-area incidents, named after their anchor. Judging against the anchor
    alone keeps a group within one window: on dense traffic, linking every overlapping pair
    chained unrelated incidents into one ever-growing group.

Hand-written rather than a library: the rules are a few comparisons per event over a list of
open incidents (a sweep in time order); an interval tree or a clustering library would cost
more than it saves at tens of open incidents per site.
"""

from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
# Kinds one jammer may be reported as from burst to burst share a family: a pulsed barrage is
# seen as pulsed or as wideband noise, a slow sweep as swept or pulsed; a CW spot as a tone or
# a new emitter. The sensor's own conditions are never mixed with what is on the air.
KIND_FAMILY = {"wideband_noise": "wideband", "pulsed": "wideband", "swept": "wideband",
               "tone": "narrowband", "new_emitter": "narrowband",
               "overload": "overload", "sensor_fault": "sensor_fault",
               # the detector's unclassified events: their own family, since the classifier could not
               # say whether a jammer's wideband or narrowband incident is the one they continue
               "interference": "unclassified"}
OTHER_FAMILY = "other"  # kinds this version does not know (a newer detector's): grouped among themselves
NOT_LINKED_FAMILIES = frozenset({"sensor_fault"})  # a dongle fault at two sites is two faults
INCIDENT_NAMESPACE = uuid.UUID("5f0e2b8e-6f6c-4d5e-9c7e-3d1f8c9a2b41")
NEVER = 2**62  # "still ongoing" as a time far in the future (µs)
LINK_BUCKET_HZ = 1e6  # linking compares only incidents sharing a bucket of this width (any overlap shares one)


def kind_family(kind: str) -> str:
    """The family of an event kind (``other`` for a kind not in :data:`KIND_FAMILY`)."""
    return KIND_FAMILY.get(kind, OTHER_FAMILY)


@dataclass(frozen=True)
class GroupingRules:
    """Parameters of grouping and linking (all times in seconds)."""

    hold_s: float = 300.0  # longest gap between events of one incident
    quiet_s: float = 60.0  # no event for this long: active -> quiet
    freq_margin_hz: float = 200e3  # extents this close count as overlapping
    link_window_s: float = 120.0  # onsets of linked incidents at most this far from their anchor's
    link_distance_km: float = 50.0  # sites with known positions further apart never link
    site_positions: Mapping[str, tuple[float, float]] = field(default_factory=dict, compare=False, hash=False)
    # site -> (latitude, longitude) in degrees, from the site registry; a site without one links at any distance

    @property
    def hold_us(self) -> int:
        return int(self.hold_s * 1e6)

    @property
    def link_window_us(self) -> int:
        return int(self.link_window_s * 1e6)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What grouping needs of one stored event (times in µs since the epoch).

    ``progress_us`` is the latest time an ongoing event is known to have been on (0: unknown).
    """

    id: str
    site: str | None
    band: str | None
    kind: str
    start_us: int
    end_us: int | None
    progress_us: int
    freq_low_hz: float
    freq_high_hz: float
    severity: str
    rise_db: float
    peak_dbfs: float


@dataclass
class IncidentDraft:
    """One incident as grouping makes it: its events and the figures derived from them."""

    site: str | None
    band: str | None
    family: str
    events: list[EventRecord] = field(default_factory=list)
    first_onset_us: int = 0
    last_end_us: int = 0  # latest end or progress of its events; NEVER while one is ongoing
    freq_low_hz: float = 0.0
    freq_high_hz: float = 0.0
    ongoing: int = 0  # events still open
    prior: dict | None = None  # figures of earlier events not in ``events`` (see :func:`extend_summary`)

    def add(self, ev: EventRecord) -> None:
        if not self.events and not self.prior:
            self.first_onset_us, self.freq_low_hz, self.freq_high_hz = ev.start_us, ev.freq_low_hz, ev.freq_high_hz
        self.events.append(ev)
        self.freq_low_hz = min(self.freq_low_hz, ev.freq_low_hz)
        self.freq_high_hz = max(self.freq_high_hz, ev.freq_high_hz)
        if ev.end_us is None:
            self.ongoing += 1
        self.last_end_us = max(self.last_end_us, _activity_us(ev))

    def summary(self) -> dict:
        """Figures of the incident (see :func:`summarize`), earlier events included."""
        return summarize(self.events) if self.prior is None else extend_summary(self.prior, self.events)


def _activity_us(ev: EventRecord) -> int:
    if ev.end_us is not None:
        return ev.end_us
    return max(ev.start_us, ev.progress_us)


def _joinable(draft: IncidentDraft, ev: EventRecord, rules: GroupingRules) -> bool:
    if draft.ongoing == 0 and ev.start_us - draft.last_end_us > rules.hold_us:
        return False
    margin = rules.freq_margin_hz
    return ev.freq_low_hz <= draft.freq_high_hz + margin and ev.freq_high_hz >= draft.freq_low_hz - margin


def group_events(events: list[EventRecord], rules: GroupingRules,
                 open_drafts: list[IncidentDraft] = ()) -> list[IncidentDraft]:
    """Group events into incidents (see the module docstring for the rule).

    Parameters
    ----------
    events : list of EventRecord
        Any order; several sites and bands may be mixed.
    rules : GroupingRules
    open_drafts : list of IncidentDraft, optional
        Incidents already holding every earlier event (their figures set, their ``events``
        empty), in onset order; valid only when every event given starts after all of
        theirs. Those that take an event are returned with only the new events.

    Returns
    -------
    list of IncidentDraft
        Ordered by first onset, then by the first event's id; each draft's events in
        ``(start_us, id)`` order.
    """
    ordered = sorted(events, key=lambda e: (e.start_us, e.id))
    open_by_key: dict[tuple, list[IncidentDraft]] = {}
    for d in open_drafts:
        open_by_key.setdefault((d.site, d.band, d.family), []).append(d)
    drafts: list[IncidentDraft] = []
    touched: set[int] = set()
    for ev in ordered:
        key = (ev.site, ev.band, kind_family(ev.kind))
        candidates = open_by_key.setdefault(key, [])
        # incidents that can never take an event again (all closed, hold passed) leave the list
        if any(d.ongoing == 0 and ev.start_us - d.last_end_us > rules.hold_us for d in candidates):
            candidates[:] = [d for d in candidates if d.ongoing or ev.start_us - d.last_end_us <= rules.hold_us]
        target = next((d for d in candidates if _joinable(d, ev, rules)), None)  # kept in onset order
        if target is None:
            target = IncidentDraft(site=ev.site, band=ev.band, family=key[2])
            candidates.append(target)
        if id(target) not in touched:
            touched.add(id(target))
            drafts.append(target)
        target.add(ev)
    return drafts


def summarize(events: list[EventRecord]) -> dict:
    """First onset, last activity, bursts, time on, duty, peak severity and rise, kinds, extent.

    ``events`` in ``(start_us, id)`` order. Duty is the time covered by at least one event
    over the incident's life (first onset to last activity); an ongoing event counts up to
    its ``progress_us``.
    """
    first = events[0].start_us
    last = max(_activity_us(e) for e in events)
    on_us, cover_lo, cover_hi = 0, None, None
    for ev in events:  # union of [start, activity] intervals, in start order
        lo, hi = ev.start_us, _activity_us(ev)
        if cover_hi is None or lo > cover_hi:
            if cover_hi is not None:
                on_us += cover_hi - cover_lo
            cover_lo, cover_hi = lo, hi
        else:
            cover_hi = max(cover_hi, hi)
    on_us += cover_hi - cover_lo
    life_us = last - first
    peak = max(events, key=lambda e: (SEVERITY_RANK.get(e.severity, 0), e.rise_db))
    return {
        "first_onset_us": first, "last_activity_us": last,
        "ongoing": any(e.end_us is None for e in events),
        "bursts": len(events), "on_s": on_us / 1e6,
        "duty": 1.0 if life_us <= 0 else min(1.0, on_us / life_us),
        "severity": peak.severity, "peak_rise_db": max(e.rise_db for e in events),
        "peak_dbfs": max(e.peak_dbfs for e in events),
        "kinds": sorted({e.kind for e in events}),
        "freq_low_hz": min(e.freq_low_hz for e in events), "freq_high_hz": max(e.freq_high_hz for e in events),
    }


def extend_summary(prior: dict, events: list[EventRecord]) -> dict:
    """The figures of an incident (as :func:`summarize` gives them) after appending events
    that all start after every event it held; ``prior`` are its figures before."""
    first, on_us = prior["first_onset_us"], int(round(prior["on_s"] * 1e6))
    cover_hi = prior["last_activity_us"]  # the union of earlier events ends at their last activity
    for ev in events:
        lo, hi = ev.start_us, _activity_us(ev)
        on_us += hi - lo if lo > cover_hi else max(0, hi - cover_hi)
        cover_hi = max(cover_hi, hi)
    last = max(prior["last_activity_us"], max(_activity_us(e) for e in events))
    peak = max(events, key=lambda e: (SEVERITY_RANK.get(e.severity, 0), e.rise_db))
    severity = peak.severity if SEVERITY_RANK.get(peak.severity, 0) > SEVERITY_RANK.get(prior["severity"], 0) \
        else prior["severity"]
    life_us = last - first
    return {
        "first_onset_us": first, "last_activity_us": last,
        "ongoing": prior["ongoing"] or any(e.end_us is None for e in events),
        "bursts": prior["bursts"] + len(events), "on_s": on_us / 1e6,
        "duty": 1.0 if life_us <= 0 else min(1.0, on_us / life_us), "severity": severity,
        "peak_rise_db": max(prior["peak_rise_db"], max(e.rise_db for e in events)),
        "peak_dbfs": max(prior["peak_dbfs"], max(e.peak_dbfs for e in events)),
        "kinds": sorted(set(prior["kinds"]) | {e.kind for e in events}),
        "freq_low_hz": min(prior["freq_low_hz"], min(e.freq_low_hz for e in events)),
        "freq_high_hz": max(prior["freq_high_hz"], max(e.freq_high_hz for e in events)),
    }


def incident_state(ongoing: bool, last_activity_us: int, now_us: int, rules: GroupingRules) -> str:
    """``active`` (an event is on, or was within ``quiet_s``), ``quiet`` (within ``hold_s``) or ``closed``."""
    age_s = (now_us - last_activity_us) / 1e6
    if ongoing or age_s <= rules.quiet_s:
        return "active"
    return "quiet" if age_s <= rules.hold_s else "closed"


def assign_ids(drafts: list[IncidentDraft], previous: dict[str, str],
               previous_onset_us: dict[str, int], in_use: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Stable ids for drafts: an incident keeps its id when regrouping changes it.

    Parameters
    ----------
    drafts : list of IncidentDraft
        From :func:`group_events`, in its order.
    previous : dict
        Event id -> the incident id it was stored under (events seen before).
    previous_onset_us : dict
        Incident id -> its stored first onset (µs), for choosing among several.
    in_use : set of str
        Ids of stored incidents a new draft must not take (besides those in ``previous``).

    Returns
    -------
    list of str
        One id per draft. A draft holding events of stored incidents takes the earliest of
        those not taken by an earlier draft (a merge keeps the oldest id; a split leaves the
        first part the id); a draft of only new events gets a UUID derived from its site,
        band and first event, so a rebuild from scratch gives the same ids. A derived id that
        is already in use gets a counter: after a split, the part keeping the old id may not
        hold the event that id was derived from, and a new part starting with that event
        would otherwise take it again.
    """
    taken: set[str] = set()
    reserved = set(previous.values()) | set(in_use)
    out = []
    for draft in drafts:
        olds = {previous[e.id] for e in draft.events if e.id in previous} - taken
        if olds:
            chosen = min(olds, key=lambda i: (previous_onset_us.get(i, NEVER), i))
        else:
            base = f"{draft.site}|{draft.band}|{draft.family}|{draft.events[0].id}"
            chosen, n = str(uuid.uuid5(INCIDENT_NAMESPACE, base)), 0
            while chosen in taken or chosen in reserved:
                n += 1
                chosen = str(uuid.uuid5(INCIDENT_NAMESPACE, f"{base}|{n}"))
        taken.add(chosen)
        out.append(chosen)
    return out


@dataclass(frozen=True)
class LinkCandidate:
    """An incident as linking sees it (times in µs; ``last_activity_us`` NEVER while ongoing)."""

    id: str
    site: str | None
    family: str
    first_onset_us: int
    last_activity_us: int
    freq_low_hz: float
    freq_high_hz: float
    first_event_id: str = ""  # orders incidents of equal onset (the id where not given)

    @property
    def order(self) -> tuple[int, str]:
        """Sweep order: onset, then the first event's id, which unlike the incident's id
        does not depend on the order events arrived in."""
        return self.first_onset_us, self.first_event_id or self.id


def site_distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) positions in degrees, in km
    (haversine on a sphere of the Earth's mean radius, 6371 km; ample for tens of km)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def may_join(anchor: LinkCandidate, c: LinkCandidate, rules: GroupingRules) -> bool:
    """Whether ``c`` (onset at or after the anchor's) may join the group anchored at ``anchor``.

    Its onset lies within ``link_window_s`` of the anchor's, during the anchor's life; their
    frequency extents overlap (within the margin); it is at another site; and where both
    sites have a known position, they are at most ``link_distance_km`` apart.
    """
    margin = rules.freq_margin_hz
    if not (c.site != anchor.site
            and c.first_onset_us - anchor.first_onset_us <= rules.link_window_us
            and c.first_onset_us <= anchor.last_activity_us
            and c.freq_low_hz <= anchor.freq_high_hz + margin and anchor.freq_low_hz <= c.freq_high_hz + margin):
        return False
    here, there = rules.site_positions.get(anchor.site), rules.site_positions.get(c.site)
    return here is None or there is None or site_distance_km(here, there) <= rules.link_distance_km


def _buckets(c: LinkCandidate, margin_hz: float) -> range:
    return range(int((c.freq_low_hz - margin_hz) // LINK_BUCKET_HZ), int((c.freq_high_hz + margin_hz) // LINK_BUCKET_HZ) + 1)


class LinkSweep:
    """Wide-area grouping as a sweep over incidents in :attr:`LinkCandidate.order`.

    Each incident joins the earliest anchor (in that order) it :func:`may_join`, else it
    becomes an anchor itself. Membership is decided against the anchor alone, never through
    other members, so a group spans at most one window and cannot chain. The state is only
    the anchors of the last window, which is what lets the store resume a sweep part-way.
    """

    def __init__(self, rules: GroupingRules) -> None:
        self.rules = rules
        self._recent: dict[int, deque[LinkCandidate]] = {}  # frequency bucket -> anchors, onset order

    def add_anchor(self, c: LinkCandidate) -> None:
        """Take ``c`` as an anchor without placing it (an anchor known from before)."""
        for k in _buckets(c, self.rules.freq_margin_hz):
            self._recent.setdefault(k, deque()).append(c)

    def place(self, c: LinkCandidate) -> str:
        """The anchor id ``c`` joins (its own id when it becomes an anchor); ``c`` comes after
        every incident placed or added before it, in :attr:`LinkCandidate.order`."""
        window_us, best = self.rules.link_window_us, None
        for k in _buckets(c, self.rules.freq_margin_hz):
            queue = self._recent.get(k)
            if not queue:
                continue
            while queue and c.first_onset_us - queue[0].first_onset_us > window_us:
                queue.popleft()
            for a in queue:  # onset order: the first that qualifies is this bucket's earliest
                if best is not None and a.order >= best.order:
                    break
                if may_join(a, c, self.rules):
                    best = a
                    break
        if best is not None:
            return best.id
        self.add_anchor(c)
        return c.id


def group_sites(members: dict[str, list[LinkCandidate]]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Incident id -> (area id, sorted sites) for anchors' groups of two or more incidents
    (every joiner is at another site than its anchor, so these span two or more sites)."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for anchor_id, group in members.items():
        if len(group) >= 2:
            sites = tuple(sorted({m.site or "" for m in group}))
            for m in group:
                out[m.id] = (anchor_id, sites)
    return out


def link_sites(incidents: list[LinkCandidate], rules: GroupingRules) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Wide-area incidents: anchored groups spanning two or more sites (see :class:`LinkSweep`).

    Returns
    -------
    dict
        Incident id -> (area id, sorted sites of the area), for members of wide-area groups
        only. The area id is the anchor's id: the group's earliest member.
    """
    sweep = LinkSweep(rules)
    members: dict[str, list[LinkCandidate]] = {}
    for c in sorted((c for c in incidents if c.family not in NOT_LINKED_FAMILIES),
                    key=lambda c: c.order):
        members.setdefault(sweep.place(c), []).append(c)
    return group_sites(members)
