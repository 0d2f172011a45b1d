// The event list: one row per event, newest first; every row names its site, kind, start,
// severity, band, rise and duration (on a phone in two lines). Rows are buttons for keyboards.

import { t, num } from "./i18n.js";
import { dateHm, dayHm, dur } from "./timefmt.js";
import { bandText, esc, kindText, mhzRange, severityText } from "./text.js";

const FEED_ROWS = 300; // rows drawn; the count says how many match

function row(ev, vc, selectedId, freshAt) {
  const fresh = freshAt && vc.realNow - freshAt < 3000;
  const cls = `ev${ev.end ? "" : " ongoing"}${fresh ? " fresh" : ""}${ev.id === selectedId ? " selected" : ""}`;
  const running = ev.end ? dur(ev._e - ev._s) : t("feed.ongoingFor", { dur: dur(vc.now - ev._s) });
  const staleDur = !ev.end && vc.stale;
  const site = ev.site ?? "?";
  return `<div class="${cls}" role="listitem" tabindex="0" data-id="${esc(ev.id)}" data-site="${esc(site)}">` +
    `<span class="since" title="${esc(dateHm(ev._s, vc.tz))} ${esc(vc.zone)}">${esc(dayHm(ev._s, vc.tz, vc.realNow))}</span>` +
    `<span class="site-n" title="${esc(vc.siteName(site))}">${esc(site)}</span>` +
    `<span class="kind">${esc(kindText(ev.kind))}</span>` +
    `<span class="sev ${esc(ev.severity)}">${esc(severityText(ev.severity))}</span>` +
    `<span class="band" title="${esc(mhzRange(ev.freq_low_hz, ev.freq_high_hz))}">${esc(bandText(ev))}</span>` +
    `<span class="rise">${esc(num(Number(ev.rise_db), 1))}</span>` +
    `<span class="dur${staleDur ? " stale" : ""}"${staleDur ? ` title="${esc(vc.asOfText)}"` : ""}>${esc(running)}</span></div>`;
}

/** HTML of the matching rows and the count line; records when fresh rows are first shown. */
export function feedHTML(events, match, vc, selectedId, fresh, shownAt) {
  const rows = [];
  let n = 0;
  for (const ev of events) {
    if (!match(ev)) continue;
    n++;
    if (rows.length >= FEED_ROWS) continue;
    const f = fresh.get(ev.id);
    rows.push(row(ev, vc, selectedId, f));
    if (f && !shownAt[ev.id]) shownAt[ev.id] = Date.now();
  }
  if (!n) rows.push(`<p class="empty">${esc(t("feed.empty"))}</p>`);
  if (n > rows.length) rows.push(`<p class="more">${esc(t("feed.more", { n: n - rows.length }))}</p>`);
  const count = n === events.length ? num(n) : t("feed.countOf", { n, total: events.length });
  return { html: rows.join(""), count };
}
