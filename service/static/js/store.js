// Events in memory: newest start first, upserted by id, filtered without a round trip.

export const SEVERITY_RANK = { info: 1, warning: 2, critical: 3 };

export function parseTimes(ev) {
  ev._s = Date.parse(ev.start);
  ev._e = ev.end ? Date.parse(ev.end) : null;
  return ev;
}

export class EventStore {
  constructor() { this.byId = new Map(); this.list = []; this.version = 0; }

  /** Insert or replace an event; returns "created", "updated" or null (an older state). */
  upsert(ev) {
    parseTimes(ev);
    const old = this.byId.get(ev.id);
    if (old) {
      if (old.end && !ev.end) return null; // never reopen a closed event
      Object.assign(old, ev);
      this.version++;
      return "updated";
    }
    this.byId.set(ev.id, ev);
    const list = this.list;
    let lo = 0, hi = list.length; // first index whose start is older than ev's
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid]._s >= ev._s) lo = mid + 1; else hi = mid; }
    list.splice(lo, 0, ev);
    this.version++;
    return "created";
  }

  /** Append a page that is already newest-first and older than what is held (initial load). */
  appendPage(events) {
    const list = this.list;
    for (const ev of events) {
      parseTimes(ev);
      if (!this.byId.has(ev.id) && (!list.length || list[list.length - 1]._s >= ev._s)) {
        this.byId.set(ev.id, ev);
        list.push(ev);
      } else {
        this.upsert(ev);
      }
    }
    this.version++;
  }

  /** Ongoing events per site: { worst, since, event (the worst, longest-running) }. */
  ongoingBySite() {
    const out = new Map();
    for (const ev of this.list) {
      if (ev.end) continue;
      const site = ev.site || "?";
      const cur = out.get(site);
      const rank = SEVERITY_RANK[ev.severity] || 0;
      if (!cur) { out.set(site, { worst: ev.severity, rank, since: ev._s, event: ev, count: 1 }); continue; }
      cur.count++;
      cur.since = Math.min(cur.since, ev._s);
      if (rank > cur.rank || (rank === cur.rank && ev._s < cur.event._s)) { cur.rank = rank; cur.worst = ev.severity; cur.event = ev; }
    }
    return out;
  }
}

export function bandOf(ev) {
  return ev.band || (ev.kind === "sensor_fault" ? "sensor" : `${(ev.freq_low_hz / 1e6).toFixed(0)} MHz`);
}

/** A predicate for the filter form's values. */
export function matcher(f, nowMs) {
  const since = f.windowS ? nowMs - f.windowS * 1000 : null;
  const minRank = f.severity ? SEVERITY_RANK[f.severity] : 0;
  return (ev) =>
    (!f.site || ev.site === f.site) &&
    (!f.kind || ev.kind === f.kind) &&
    (!f.band || bandOf(ev) === f.band) &&
    (!minRank || (SEVERITY_RANK[ev.severity] || 0) >= minRank) &&
    (!f.ongoing || !ev.end) &&
    (since === null || ev._e === null || ev._e >= since);
}
