// What each site is, for the map, the site list and the summary: its state (jammed, warning,
// notice, clear, offline, no data) from its open incidents (active or quiet: "jammed since"
// the first onset, through the gaps of a pulsed jammer) or, for sites without one, its ongoing
// events; when it was last heard; and the wide-area links between sites. The one place that
// knows how a site's state is derived.

export const STATE_BY_SEVERITY = { critical: "jammed", warning: "warning", info: "info" };
export const STATE_RANK = { jammed: 5, warning: 4, info: 3, clear: 2, offline: 1, no_data: 0 };
const LINK_WINDOW_MS = 120_000; // onsets this close, overlapping in frequency: one wide-area jammer

/** online / offline / no_data: heard within its reporting interval (plus one poll), at ``nowMs``. */
export function heardStatus(site, nowMs, pollMs) {
  if (site.lastHeardMs == null) return "no_data";
  return nowMs - site.lastHeardMs <= site.intervalS * 1000 + pollMs ? "online" : "offline";
}

const RANK = { info: 1, warning: 2, critical: 3 };

/** Open incidents (active or quiet) per site, shaped like ``EventStore.ongoingBySite``:
 * {worst, rank, since, event: {kind, band, ...}, count, attention}. */
export function incidentsBySite(incidents) {
  const out = new Map();
  for (const inc of incidents.values()) {
    if (!inc.site || inc.state === "closed") continue;
    const since = Date.parse(inc.since), rank = RANK[inc.severity] || 0;
    const like = { kind: inc.kinds[0], band: inc.band, freq_low_hz: inc.freq_low_hz, freq_high_hz: inc.freq_high_hz };
    const cur = out.get(inc.site);
    if (!cur) { out.set(inc.site, { worst: inc.severity, rank, since, event: like, count: 1, attention: inc.needs_attention }); continue; }
    cur.count++; cur.since = Math.min(cur.since, since); cur.attention ||= inc.needs_attention;
    if (rank > cur.rank) Object.assign(cur, { worst: inc.severity, rank, event: like });
  }
  return out;
}

/** Wide-area links from incidents' groups: each site of a group joined to the group's first. */
export function incidentLinks(incidents) {
  const links = new Map();
  for (const inc of incidents.values()) {
    const g = inc.wide_area;
    if (!g || inc.state === "closed" || g.sites.length < 2) continue;
    for (const b of g.sites.slice(1)) {
      const key = `${g.sites[0]}\u0000${b}`, severity = inc.severity === "critical" ? "critical" : "warning";
      if (!links.has(key) || severity === "critical") links.set(key, { a: g.sites[0], b, severity });
    }
  }
  return [...links.values()];
}

/** Every site with ``status``, ``state`` and ``ongoing`` ({worst, since, event, count} or null):
 * from its open incidents when it has any, else from its ongoing events. */
export function siteStates(sites, ongoingBySite, nowMs, pollMs, openBySite = new Map()) {
  const out = [];
  for (const s of sites.values()) {
    const status = heardStatus(s, nowMs, pollMs);
    const o = openBySite.get(s.site) || ongoingBySite.get(s.site) || null;
    const state = o ? STATE_BY_SEVERITY[o.worst] || "info" : status === "online" ? "clear" : status;
    out.push({ ...s, status, state, ongoing: o });
  }
  out.sort((a, b) => (STATE_RANK[b.state] - STATE_RANK[a.state]) || a.site.localeCompare(b.site));
  return out;
}

/** Links between sites whose ongoing warning or critical events overlap in frequency and began
 * within two minutes of each other: [{a, b, severity}] with a < b, one per pair of sites. */
export function wideAreaLinks(events) {
  const open = events.filter((ev) => !ev.end && ev.site && (ev.severity === "critical" || ev.severity === "warning"));
  const links = new Map();
  for (let i = 0; i < open.length; i++) {
    for (let j = i + 1; j < open.length; j++) {
      const x = open[i], y = open[j];
      if (x.site === y.site || Math.abs(x._s - y._s) > LINK_WINDOW_MS) continue;
      if (x.freq_low_hz > y.freq_high_hz || y.freq_low_hz > x.freq_high_hz) continue;
      const [a, b] = x.site < y.site ? [x.site, y.site] : [y.site, x.site];
      const severity = x.severity === "critical" || y.severity === "critical" ? "critical" : "warning";
      const key = `${a}\u0000${b}`;
      if (!links.has(key) || severity === "critical") links.set(key, { a, b, severity });
    }
  }
  return [...links.values()];
}
