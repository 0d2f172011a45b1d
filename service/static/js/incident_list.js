// The incident list: what the desk follows first. One row per incident, a wide-area group (the
// same jammer at several sites) once with all its sites; newest first onset first, so bursts
// and updates change a row in place and never reorder the list. A critical incident nobody
// acknowledged is marked in words and shape as well as colour until someone does.

import { num, t } from "./i18n.js";
import { dayHm, dateHm } from "./timefmt.js";
import { esc, kindText, severityText } from "./text.js";
import { bandOf } from "./store.js";

const ROWS = 300; // rows drawn; the count says how many match
const RANK = { info: 1, warning: 2, critical: 3 };
const STATE_RANK = { active: 3, quiet: 2, closed: 1 };

/** The incidents as the desk sees them: wide-area groups folded into one entry each.
 * Each entry: {key, id (the one to open), sites, state, since (ms), bursts, severity, kinds,
 * attention, acknowledged, team, outcome, ids}. */
export function incidentRows(incidents) {
  const groups = new Map();
  for (const inc of incidents.values()) {
    const key = inc.wide_area ? inc.wide_area.id : inc.id;
    let g = groups.get(key);
    if (!g) {
      g = { key, id: inc.id, sites: new Set(), state: inc.state, since: Infinity, last: -Infinity, bursts: 0,
        severity: inc.severity, kinds: new Set(), bands: new Set(), attention: false, acknowledged: true, team: null,
        outcome: null, ids: [] };
      groups.set(key, g);
    }
    if (inc.id === key) g.id = inc.id; // the group's earliest incident speaks for it
    g.ids.push(inc.id);
    for (const s of inc.wide_area ? inc.wide_area.sites : [inc.site ?? "?"]) g.sites.add(s);
    if ((STATE_RANK[inc.state] || 0) > (STATE_RANK[g.state] || 0)) g.state = inc.state;
    if ((RANK[inc.severity] || 0) > (RANK[g.severity] || 0)) g.severity = inc.severity;
    g.since = Math.min(g.since, Date.parse(inc.since));
    g.last = Math.max(g.last, inc.ongoing ? Infinity : Date.parse(inc.last_activity));
    // named as the event filter names bands (events without a band: by their frequency)
    g.bands.add(bandOf({ band: inc.band, kind: inc.family, freq_low_hz: inc.freq_low_hz }));
    g.bursts += inc.bursts;
    for (const k of inc.kinds) g.kinds.add(k);
    g.attention ||= inc.needs_attention;
    g.acknowledged &&= inc.desk.acknowledged;
    g.team ||= inc.desk.assigned_to;
    g.outcome ||= inc.desk.outcome;
  }
  const rows = [...groups.values()].map((g) => ({ ...g, sites: [...g.sites].sort(), kinds: [...g.kinds].sort(),
    bands: [...g.bands].sort() }));
  rows.sort((a, b) => b.since - a.since || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return rows;
}

/** A predicate for the filter form: site, band, kind, severity, ongoing, and the time window
 * (an incident is in it when it was on the air at some time within the window before ``nowMs``). */
export function incidentMatcher(f, nowMs) {
  const minRank = f.severity ? RANK[f.severity] : 0;
  const from = f.windowS ? nowMs - f.windowS * 1000 : -Infinity;
  return (r) => (!f.site || r.sites.includes(f.site)) && (!minRank || (RANK[r.severity] || 0) >= minRank) &&
    (!f.ongoing || r.state !== "closed") && (!f.band || r.bands.includes(f.band)) &&
    (!f.kind || r.kinds.includes(f.kind)) && r.last >= from;
}

function deskText(r) {
  if (r.attention) return `<span class="attn">${esc(t("incidents.attention"))}</span>`;
  if (r.outcome) return `<span class="done">${esc(t("incidents.outcome", { outcome: t(`outcome.${r.outcome}`) }))}</span>`;
  const parts = [];
  if (r.acknowledged) parts.push(`<span class="ack">${esc(t("incidents.acknowledged"))}</span>`);
  if (r.team) parts.push(`<span class="team">${esc(t("incidents.assigned", { team: r.team }))}</span>`);
  return parts.join(" ");
}

function row(r, vc, selectedKey) {
  const cls = `inc st-${r.state}${r.attention ? " attention" : ""}${r.key === selectedKey ? " selected" : ""}`;
  const names = r.sites.map((s) => vc.siteName(s)).join(", ");
  return `<div class="${cls}" role="listitem" tabindex="0" data-key="${esc(r.key)}" data-id="${esc(r.id)}">` +
    `<span class="sev ${esc(r.severity)}">${esc(severityText(r.severity))}</span>` +
    `<span class="site-n" title="${esc(names)}">${esc(r.sites.join(", "))}</span>` +
    `<span class="since" title="${esc(dateHm(r.since, vc.tz))} ${esc(vc.zone)}">${esc(t("incidents.since", { time: `${dayHm(r.since, vc.tz, vc.realNow)} ${vc.zone}` }))}</span>` +
    `<span class="istate ${esc(r.state)}">${esc(t(`incident.state.${r.state}`))}</span>` +
    `<span class="kind">${esc(r.kinds.map(kindText).join(", "))}</span>` +
    `<span class="bursts">${esc(t("incidents.bursts", { n: r.bursts }))}</span>` +
    `<span class="desk-st">${deskText(r)}</span></div>`;
}

/** HTML of the matching rows and the count line. */
export function incidentsHTML(rows, match, vc, selectedKey) {
  const out = [];
  let n = 0;
  for (const r of rows) {
    if (!match(r)) continue;
    n++;
    if (out.length < ROWS) out.push(row(r, vc, selectedKey));
  }
  if (!n) out.push(`<p class="empty">${esc(t("incidents.empty"))}</p>`);
  if (n > ROWS) out.push(`<p class="more">${esc(t("feed.more", { n: n - ROWS }))}</p>`);
  const count = n === rows.length ? num(n) : t("incidents.countOf", { n, total: rows.length });
  return { html: out.join(""), count };
}

/** Arrow keys, Home and End move the focus through the rows of ``list`` (Enter opens, by the caller). */
export function listKeys(list, rowSelector) {
  list.addEventListener("keydown", (e) => {
    const rows = [...list.querySelectorAll(rowSelector)], i = rows.indexOf(document.activeElement);
    if (!rows.length) return;
    let next = null;
    if (e.key === "ArrowDown") next = rows[Math.min(i + 1, rows.length - 1)];
    else if (e.key === "ArrowUp") next = rows[Math.max(i - 1, 0)];
    else if (e.key === "Home") next = rows[0];
    else if (e.key === "End") next = rows[rows.length - 1];
    if (!next) return;
    e.preventDefault();
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  });
}
