// The event detail: a drawer over the page (a bottom sheet on phones), always in view, updated
// live while it is open, marked stale while the service is unreachable; the spectrum around
// the event from the sensor's stored summaries, with its box.

import { getJSON } from "./api.js";
import { num, t } from "./i18n.js";
import { dateHm, dur } from "./timefmt.js";
import { esc, kindText, mhz, mhzRange, severityText, bandText } from "./text.js";
import { Waterfall } from "./waterfall.js";

const $ = (id) => document.getElementById(id);
const CONTRACT = new Set(["id", "kind", "start", "end", "offset_start_s", "offset_end_s", "freq_low_hz", "freq_high_hz",
  "peak_dbfs", "peak_dbm", "calibrated", "rise_db", "severity", "confidence", "site", "sensor", "detector", "band", "_s", "_e"]);
const AROUND_MS = 60_000;

// A calibrated sensor's level in dBm leads (comparable between sites); dBFS stays beside it.
function peak(ev) {
  const dbfs = t("unit.dbfs", { v: num(Number(ev.peak_dbfs), 1) });
  if (ev.calibrated !== true || typeof ev.peak_dbm !== "number") return dbfs;
  return `${t("unit.dbm", { v: num(ev.peak_dbm, 1) })} (${dbfs})`;
}

function fields(ev, vc) {
  const when = (ms) => (ms === null ? t("detail.ongoing") : `${dateHm(ms, vc.tz)} ${vc.zone} (${new Date(ms).toISOString().replace(".000Z", "Z")})`);
  const d = (ev._e ?? vc.now) - ev._s;
  const rows = [
    ["detail.severity", `<span class="sev ${esc(ev.severity)}">${esc(severityText(ev.severity))}</span>`],
    ["detail.confidence", esc(num(Number(ev.confidence), 2))],
    ["detail.start", esc(when(ev._s))], ["detail.end", esc(when(ev._e))],
    ["detail.duration", `<span class="dur${!ev.end && vc.stale ? " stale" : ""}">${esc(ev.end ? dur(d) : t("detail.soFar", { dur: dur(d) }))}</span>`],
    ["detail.frequency", `${esc(mhzRange(ev.freq_low_hz, ev.freq_high_hz))} (${esc(bandText(ev))})`],
    ["detail.width", esc(t("unit.khz", { v: num((ev.freq_high_hz - ev.freq_low_hz) / 1e3, 1) }))],
    ["detail.peak", esc(peak(ev))],
    ["detail.rise", esc(t("detail.riseValue", { db: num(Number(ev.rise_db), 1) }))],
    ["detail.site", esc(vc.siteName(ev.site))], ["detail.sensor", esc(ev.sensor)],
    ["detail.offset", esc(t("unit.s", { v: num(Number(ev.offset_start_s), 2) }))],
    ["detail.detector", `${esc(ev.detector?.version)} · ${esc(ev.detector?.config_hash)}`], ["detail.id", esc(ev.id)],
  ];
  const extras = Object.entries(ev).filter(([k]) => !CONTRACT.has(k))
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === "object" ? JSON.stringify(v) : v)}</dd>`).join("");
  return `<dl>${rows.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd>${v}</dd>`).join("")}</dl>` +
    (extras ? `<details><summary>${esc(t("detail.more"))}</summary><dl>${extras}</dl></details>` : "");
}

export class Detail {
  constructor(token, store) { this.token = token; this.store = store; this.id = null; this.lastHTML = ""; this.wf = null; }

  /** Open on event ``id``, move focus into the drawer and load the spectrum around it. */
  open(id, vc) {
    if (!this.store.byId.has(id)) return;
    this.id = id; this.lastHTML = ""; this.wf = null;
    $("detail-wf").innerHTML = "";
    this.refresh(vc);
    $("detail").hidden = false;
    $("detail").focus({ preventScroll: true });
    this.loadSpectra(id, vc);
  }

  close() { this.id = null; $("detail").hidden = true; }

  /** Re-render from the store's current state of the event (live updates, language, staleness). */
  refresh(vc) {
    const ev = this.id && this.store.byId.get(this.id);
    if (!ev) return;
    $("detail-h").textContent = t("detail.title", { kind: kindText(ev.kind), site: vc.siteName(ev.site) });
    const stale = $("detail-stale");
    stale.hidden = !vc.stale;
    if (vc.stale) stale.textContent = t("detail.stale", { time: vc.asOfText });
    const html = fields(ev, vc);
    if (html !== this.lastHTML) { this.lastHTML = html; $("detail-body").innerHTML = html; }
    if (this.wf) this.drawSpectrum(ev, vc);
  }

  async loadSpectra(id, vc) {
    const ev = this.store.byId.get(id), box = $("detail-wf");
    try {
      const res = await getJSON(this.token, "/spectra", { site: ev.site, sensor: ev.sensor, band: ev.band,
        since: new Date(ev._s - AROUND_MS).toISOString(), limit: 600 });
      if (this.id !== id) return;
      const until = (ev._e ?? Date.now()) + AROUND_MS;
      const rows = res.spectra.filter((sp) => Date.parse(sp.time) <= until).reverse();
      if (!rows.length) { box.innerHTML = `<p class="note">${esc(t("detail.noSpectra"))}</p>`; return; }
      this.wf = new Waterfall(ev.site, ev.sensor, ev.band || rows[0].band, (until - (ev._s - AROUND_MS)) / 1000);
      for (const sp of rows) this.wf.add(sp);
      box.innerHTML = `<p class="note" id="detail-wf-note"></p><div class="wf"><canvas></canvas><div class="axis">` +
        `<span>${esc(mhz(this.wf.fLow))}</span><span>${esc(mhz(this.wf.fHigh))}</span></div></div>`;
      this.drawSpectrum(ev, vc);
    } catch (e) {
      if (this.id === id) box.innerHTML = `<p class="note">${esc(t("detail.spectraError", { error: e.message }))}</p>`;
    }
  }

  drawSpectrum(ev, vc) {
    const canvas = $("detail-wf").querySelector("canvas");
    if (!canvas) return;
    const until = (ev._e ?? Date.now()) + AROUND_MS;
    $("detail-wf-note").textContent = t("detail.spectrum", { time: `${dateHm(until, vc.tz)} ${vc.zone}` });
    this.wf.spanS = (until - (ev._s - AROUND_MS)) / 1000;
    this.wf.draw(canvas, until, [ev], ev.id, { label: (e) => kindText(e.kind), top: dateHm(until, vc.tz), bottom: "" });
  }
}
