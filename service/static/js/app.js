// The desk: sites coloured by their worst ongoing event, a live event feed, live waterfalls
// with event boxes, event detail, filters. Plain ES modules, no framework, no network but
// this service.

import { AuthError, forgetToken, getJSON, loadEvents, saveToken, stream, takeToken } from "./api.js";
import { EventStore, SEVERITY_RANK, bandOf, matcher } from "./store.js";
import { Waterfall, keyOf } from "./waterfall.js";

const $ = (id) => document.getElementById(id);
const FEED_ROWS = 300; // rows drawn in the feed; the count says how many match
const MAX_WATERFALLS = 6;
const SPECTRA_POLL_MS = 2000;
const SITES_POLL_MS = 5000;
const WF_SPAN_S = 180;

const state = {
  token: null,
  events: new EventStore(),
  sites: new Map(), // site -> {site, status, last_seen, sensors: Map(sensor -> {status, last_seen, heartbeat})}
  waterfalls: new Map(), // keyOf -> Waterfall
  wfCanvases: new Map(), // keyOf -> canvas
  spectraSince: null,
  selectedId: null,
  fresh: new Map(), // event id -> time it arrived live
  abort: null,
  loaded: false,
};
// Measurements for the browser tests (and curious operators): performance.now() figures.
const metrics = { firstRenderMs: null, loadedMs: null, loadedEvents: 0, lastRenderMs: null, renders: 0, shownAt: {} };
window.__desk = { state, metrics };

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const pad = (n) => String(n).padStart(2, "0");
const hms = (ms) => { const d = new Date(ms); return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; };
const dayHms = (ms) => {
  const d = new Date(ms), today = new Date();
  return d.toDateString() === today.toDateString() ? hms(ms) : `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
function dur(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
}
const mhz = (hz) => (hz / 1e6).toFixed(3);

// ---------------------------------------------------------------- login
async function start() {
  state.token = takeToken();
  window.addEventListener("hashchange", () => { if (/token=/.test(location.hash)) { takeToken(); location.reload(); } });
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    saveToken(token);
    $("token-input").value = "";
    state.token = token;
    await openDesk();
  });
  $("logout").addEventListener("click", () => { forgetToken(); location.reload(); });
  if (state.token) await openDesk(); else showLogin("");
}

function showLogin(message) {
  $("desk").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token-input").focus();
}

async function openDesk() {
  const t0 = performance.now();
  try {
    const [sites, sensors] = await Promise.all([getJSON(state.token, "/sites"), getJSON(state.token, "/sensors")]);
    applySites(sites.sites, sensors.sensors);
  } catch (e) {
    if (e instanceof AuthError) { forgetToken(); showLogin("That token was refused: it needs the viewer or admin role and must not be revoked."); return; }
    showLogin(`Cannot reach the service: ${e.message}`);
    return;
  }
  $("login").hidden = true;
  $("desk").hidden = false;
  wireFilters();
  state.abort = new AbortController();
  stream(state.token, {
    signal: state.abort.signal,
    onMessage,
    onState: (s) => { const el = $("live"); el.dataset.state = s; el.textContent = s === "live" ? "live" : s; },
    onReconnect: () => catchUp(),
  }).catch((e) => { if (e instanceof AuthError) { forgetToken(); showLogin("The token was revoked."); } });
  let first = true;
  await loadEvents(state.token, (page) => {
    state.events.appendPage(page);
    collectOptions(page);
    render();
    if (first) { first = false; metrics.firstRenderMs = performance.now() - t0; }
  });
  state.loaded = true;
  metrics.loadedMs = performance.now() - t0;
  metrics.loadedEvents = state.events.list.length;
  render();
  await pollSpectra(true);
  setInterval(() => pollSpectra(false), SPECTRA_POLL_MS);
  setInterval(refreshSites, SITES_POLL_MS);
  setInterval(tick, 1000);
  tick();
}

// ---------------------------------------------------------------- data in
function applySites(sites, sensors) {
  for (const s of sites) {
    const cur = state.sites.get(s.site) || { sensors: new Map() };
    Object.assign(cur, { site: s.site, status: s.status, last_seen: s.last_seen });
    state.sites.set(s.site, cur);
  }
  for (const s of sensors) {
    const site = state.sites.get(s.site) || { site: s.site, status: s.status, last_seen: s.last_seen, sensors: new Map() };
    site.sensors.set(s.sensor, { status: s.status, last_seen: s.last_seen, heartbeat: s.heartbeat });
    state.sites.set(s.site, site);
  }
  addOptions($("f-site"), [...state.sites.keys()]);
}

async function refreshSites() {
  try {
    const [sites, sensors] = await Promise.all([getJSON(state.token, "/sites"), getJSON(state.token, "/sensors")]);
    applySites(sites.sites, sensors.sensors);
    scheduleRender();
  } catch (e) { if (e instanceof AuthError) { forgetToken(); showLogin("The token was revoked."); } }
}

function onMessage(type, data) {
  if (type === "event") {
    const ev = data.event;
    const change = state.events.upsert(ev);
    if (!change) return;
    if (change === "created") state.fresh.set(ev.id, Date.now());
    collectOptions([ev]);
    if (ev.site && !state.sites.has(ev.site)) {
      state.sites.set(ev.site, { site: ev.site, status: "online", last_seen: null, sensors: new Map() });
      addOptions($("f-site"), [ev.site]);
    }
    scheduleRender();
  } else if (type === "status") {
    const site = state.sites.get(data.site) || { site: data.site, sensors: new Map() };
    site.sensors.set(data.sensor, { ...(site.sensors.get(data.sensor) || {}), status: data.status, last_seen: data.last_seen });
    const statuses = [...site.sensors.values()].map((s) => s.status);
    site.status = statuses.includes("online") ? "online" : statuses.includes("stale") ? "stale" : "offline";
    if (data.last_seen) site.last_seen = data.last_seen;
    state.sites.set(data.site, site);
    scheduleRender();
  }
}

async function catchUp() {
  try {
    const page = await getJSON(state.token, "/events", { limit: 1000 });
    for (const ev of page.events) state.events.upsert(ev);
    scheduleRender();
  } catch (e) { /* the next reconnect tries again */ }
}

async function pollSpectra(initial) {
  const since = initial ? new Date(Date.now() - WF_SPAN_S * 1000).toISOString() : state.spectraSince;
  let spectra;
  try { spectra = (await getJSON(state.token, "/spectra", { since, limit: 2000 })).spectra; } catch (e) { return; }
  let changed = false;
  for (const sp of spectra.reverse()) { // oldest first
    const key = keyOf(sp);
    let wf = state.waterfalls.get(key);
    if (!wf) { wf = new Waterfall(sp.site, sp.sensor, sp.band, WF_SPAN_S); state.waterfalls.set(key, wf); changed = true; }
    wf.add(sp);
    if (!state.spectraSince || sp.time > state.spectraSince) state.spectraSince = sp.time;
  }
  if (changed) addOptions($("f-band"), [...state.waterfalls.values()].map((w) => w.band));
  renderWaterfalls(changed);
}

// ---------------------------------------------------------------- filters
function filters() {
  return {
    site: $("f-site").value, band: $("f-band").value, kind: $("f-kind").value, severity: $("f-severity").value,
    windowS: Number($("f-time").value) || 0, ongoing: $("f-ongoing").checked,
  };
}

function wireFilters() {
  for (const id of ["f-site", "f-band", "f-kind", "f-severity", "f-time", "f-ongoing"]) {
    $(id).addEventListener("change", () => render());
  }
  $("f-clear").addEventListener("click", () => {
    for (const id of ["f-site", "f-band", "f-kind", "f-severity"]) $(id).value = "";
    $("f-time").value = ""; $("f-ongoing").checked = false;
    render();
  });
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("sites").addEventListener("click", (e) => {
    const tile = e.target.closest("[data-site]");
    if (!tile) return;
    const site = tile.dataset.site;
    $("f-site").value = $("f-site").value === site ? "" : site;
    render();
  });
  $("feed-body").addEventListener("click", (e) => {
    const row = e.target.closest("[data-id]");
    if (row) showDetail(row.dataset.id);
  });
  $("detail-close").addEventListener("click", () => { state.selectedId = null; $("detail").hidden = true; render(); });
}

const seenOptions = { "f-kind": new Set(), "f-band": new Set(), "f-site": new Set() };
function addOptions(select, values) {
  const seen = seenOptions[select.id];
  const fresh = values.filter((v) => v && !seen.has(v));
  if (!fresh.length) return;
  for (const v of fresh) seen.add(v);
  const current = select.value;
  const all = [...seen].sort();
  select.length = 1;
  for (const v of all) select.add(new Option(v, v));
  select.value = current;
}
function collectOptions(events) {
  const kinds = new Set(), bands = new Set();
  for (const ev of events) { kinds.add(ev.kind); bands.add(bandOf(ev)); }
  addOptions($("f-kind"), [...kinds]);
  addOptions($("f-band"), [...bands]);
}

// ---------------------------------------------------------------- rendering
let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}

function render() {
  const t0 = performance.now();
  const f = filters();
  const now = Date.now();
  const ongoing = state.events.ongoingBySite();
  renderSummary(ongoing);
  renderSites(ongoing, f, now);
  renderFeed(f, now);
  renderWaterfalls(false);
  metrics.lastRenderMs = performance.now() - t0;
  metrics.renders++;
}

const lastHTML = new WeakMap();
function setHTML(el, html) { // skip the DOM work when nothing changed (most renders of a filter change or tick)
  if (lastHTML.get(el) === html) return;
  lastHTML.set(el, html);
  el.innerHTML = html;
}

function renderSummary(ongoing) {
  let crit = 0, warn = 0;
  for (const o of ongoing.values()) { if (o.worst === "critical") crit++; else if (o.worst === "warning") warn++; }
  const online = [...state.sites.values()].filter((s) => s.status === "online").length;
  $("summary").innerHTML =
    `<span class="pill ${crit ? "critical" : ""}">${crit} site${crit === 1 ? "" : "s"} jammed (critical)</span>` +
    `<span class="pill ${warn ? "warning" : ""}">${warn} warning</span>` +
    `<span class="pill">${online}/${state.sites.size} sites online</span>` +
    `<span class="pill">${state.events.list.length} events${state.loaded ? "" : " (loading…)"}</span>`;
}

function renderSites(ongoing, f, now) {
  const sites = [...state.sites.values()];
  for (const o of ongoing.keys()) if (!state.sites.has(o)) sites.push({ site: o, status: "offline", sensors: new Map() });
  const statusRank = { online: 0, stale: 1, offline: 2 };
  sites.sort((a, b) => ((ongoing.get(b.site)?.rank || 0) - (ongoing.get(a.site)?.rank || 0)) ||
    (statusRank[a.status] - statusRank[b.status]) || a.site.localeCompare(b.site));
  const html = [];
  for (const s of sites) {
    const o = ongoing.get(s.site);
    const sev = o ? `sev-${o.worst}` : "";
    const seen = s.last_seen ? `seen ${dur(now - Date.parse(s.last_seen))} ago` : "never seen";
    const jam = o ? `<div class="jam"><b>${esc(o.worst.toUpperCase())}</b> ${esc(o.event.kind.replace("_", " "))} · ${esc(bandOf(o.event))}` +
      ` · since ${hms(o.since)} (${dur(now - o.since)})${o.count > 1 ? ` · ${o.count} ongoing` : ""}</div>` : "";
    html.push(`<div class="site ${sev} st-${esc(s.status)}${f.site === s.site ? " selected" : ""}" role="listitem" tabindex="0" data-site="${esc(s.site)}">` +
      `<div class="name"><span>${esc(s.site)}</span><span class="status ${esc(s.status)}">${esc(s.status)}</span></div>` +
      `<div class="meta">${s.sensors.size} sensor${s.sensors.size === 1 ? "" : "s"} · ${seen}${o ? "" : " · clear"}</div>${jam}</div>`);
  }
  setHTML($("sites"), html.join(""));
  $("sites-count").textContent = `${sites.length}`;
}

function renderFeed(f, now) {
  const match = matcher(f, now);
  const rows = [];
  let n = 0;
  for (const ev of state.events.list) {
    if (!match(ev)) continue;
    n++;
    if (rows.length >= FEED_ROWS) continue;
    const fresh = state.fresh.get(ev.id);
    const cls = `${ev.end ? "" : "ongoing"}${fresh && now - fresh < 3000 ? " fresh" : ""}${ev.id === state.selectedId ? " selected" : ""}`;
    rows.push(`<tr class="${cls}" data-id="${esc(ev.id)}" tabindex="0"><td title="${esc(ev.start)}">${dayHms(ev._s)}</td><td title="${esc(ev.site)}">${esc(ev.site)}</td>` +
      `<td title="${mhz(ev.freq_low_hz)}–${mhz(ev.freq_high_hz)} MHz">${esc(bandOf(ev))}</td><td>${esc(ev.kind)}</td>` +
      `<td class="sev ${esc(ev.severity)}">${esc(ev.severity)}</td><td>${Number(ev.rise_db).toFixed(1)}</td>` +
      `<td>${ev.end ? dur(ev._e - ev._s) : `<b>${dur(now - ev._s)} on</b>`}</td></tr>`);
    if (fresh && !metrics.shownAt[ev.id]) metrics.shownAt[ev.id] = Date.now();
  }
  setHTML($("feed-body"), rows.join("") + (n > rows.length ? `<tr><td colspan="7" class="more">${n - rows.length} more match; narrow the filters</td></tr>` : ""));
  $("feed-count").textContent = n === state.events.list.length ? `${n}` : `${n} of ${state.events.list.length}`;
}

function eventsFor(wf) {
  const out = [];
  for (const ev of state.events.list) {
    if (ev.site !== wf.site || (ev.sensor && ev.sensor !== wf.sensor) || ev.kind === "sensor_fault") continue;
    if (ev._e !== null && ev._e < Date.now() - WF_SPAN_S * 1000) continue;
    out.push(ev);
  }
  return out;
}

function chosenWaterfalls() {
  const f = filters();
  const ongoing = state.events.ongoingBySite();
  let wfs = [...state.waterfalls.values()].filter((w) => (!f.site || w.site === f.site) && (!f.band || w.band === f.band));
  wfs.sort((a, b) => ((ongoing.get(b.site)?.rank || 0) - (ongoing.get(a.site)?.rank || 0)) ||
    a.site.localeCompare(b.site) || a.band.localeCompare(b.band));
  const total = wfs.length;
  wfs = wfs.slice(0, MAX_WATERFALLS);
  $("wf-note").textContent = total > wfs.length ? `${wfs.length} of ${total} (jammed first; pick a site)` : `${total}`;
  return { wfs, ongoing };
}

let shownKeys = null;
function renderWaterfalls(structureChanged) {
  const { wfs, ongoing } = chosenWaterfalls();
  const keys = wfs.map((w) => keyOf(w)).join("|");
  const box = $("waterfalls");
  if (keys !== shownKeys || structureChanged) {
    shownKeys = keys;
    box.innerHTML = "";
    state.wfCanvases.clear();
    if (!wfs.length) box.innerHTML = `<div class="empty">No spectra yet: sensors send a PSD summary every few seconds.</div>`;
    for (const wf of wfs) {
      const el = document.createElement("div");
      el.className = "wf";
      el.innerHTML = `<header><b>${esc(wf.site)}</b><span>${esc(wf.sensor)} · ${esc(wf.band)}</span></header>` +
        `<canvas role="img" aria-label="waterfall of ${esc(wf.site)} ${esc(wf.band)}"></canvas>` +
        `<div class="axis"><span>${mhz(wf.fLow)} MHz</span><span>${mhz((wf.fLow + wf.fHigh) / 2)}</span><span>${mhz(wf.fHigh)} MHz</span></div>`;
      const canvas = el.querySelector("canvas");
      canvas.addEventListener("click", (e) => {
        const r = canvas.getBoundingClientRect();
        const ev = wf.hit(e.clientX - r.left, e.clientY - r.top);
        if (ev) showDetail(ev.id);
      });
      box.appendChild(el);
      state.wfCanvases.set(keyOf(wf), { canvas, el });
    }
  }
  const now = Date.now();
  for (const wf of wfs) {
    const c = state.wfCanvases.get(keyOf(wf));
    if (!c) continue;
    const o = ongoing.get(wf.site);
    c.el.className = `wf${o ? ` sev-${o.worst}` : ""}`;
    wf.draw(c.canvas, now, eventsFor(wf), state.selectedId);
  }
}

function tick() {
  $("clock").textContent = `${hms(Date.now())} local`;
  for (const [id, t] of state.fresh) if (Date.now() - t > 5000) state.fresh.delete(id);
  render();
}

// ---------------------------------------------------------------- detail
const CONTRACT = new Set(["id", "kind", "start", "end", "offset_start_s", "offset_end_s", "freq_low_hz", "freq_high_hz",
  "peak_dbfs", "rise_db", "severity", "confidence", "site", "sensor", "detector", "_s", "_e"]);

async function showDetail(id) {
  const ev = state.events.byId.get(id);
  if (!ev) return;
  state.selectedId = id;
  const now = Date.now();
  const extras = Object.entries(ev).filter(([k]) => !CONTRACT.has(k))
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === "object" ? JSON.stringify(v) : v)}</dd>`).join("");
  const iso = (ms) => ms === null ? "ongoing" : `${dayHms(ms)} (${new Date(ms).toISOString().replace(".000Z", "Z")})`;
  $("detail-h").textContent = `Event: ${ev.kind.replace("_", " ")} at ${ev.site ?? "?"}`;
  $("detail-body").innerHTML = `<dl>
    <dt>severity</dt><dd class="sev ${esc(ev.severity)}">${esc(ev.severity)}</dd><dt>confidence</dt><dd>${Number(ev.confidence).toFixed(2)}</dd>
    <dt>start</dt><dd>${iso(ev._s)}</dd><dt>end</dt><dd>${iso(ev._e)}</dd>
    <dt>duration</dt><dd>${dur((ev._e ?? now) - ev._s)}${ev.end ? "" : " so far"}</dd><dt>session offset</dt><dd>${Number(ev.offset_start_s).toFixed(2)} s</dd>
    <dt>frequency</dt><dd>${mhz(ev.freq_low_hz)}–${mhz(ev.freq_high_hz)} MHz</dd><dt>width</dt><dd>${((ev.freq_high_hz - ev.freq_low_hz) / 1e3).toFixed(1)} kHz</dd>
    <dt>peak</dt><dd>${Number(ev.peak_dbfs).toFixed(1)} dBFS</dd><dt>rise</dt><dd>${Number(ev.rise_db).toFixed(1)} dB over baseline</dd>
    <dt>site</dt><dd>${esc(ev.site)}</dd><dt>sensor</dt><dd>${esc(ev.sensor)}</dd>
    <dt>detector</dt><dd>${esc(ev.detector?.version)} · ${esc(ev.detector?.config_hash)}</dd><dt>id</dt><dd>${esc(ev.id)}</dd>
    ${extras}</dl>
    <div id="detail-wf"></div>`;
  $("detail").hidden = false;
  render();
  // The spectrum around the event, from the sensor's stored summaries (evidence clips are
  // not uploaded to the service; the sensor keeps them with --record).
  const wfBox = $("detail-wf");
  const before = 60_000, after = 60_000;
  const until = (ev._e ?? now) + after;
  try {
    const res = await getJSON(state.token, "/spectra", {
      site: ev.site, sensor: ev.sensor, band: ev.band, since: new Date(ev._s - before).toISOString(), limit: 600,
    });
    const rows = res.spectra.filter((sp) => Date.parse(sp.time) <= until).reverse();
    if (state.selectedId !== id) return;
    if (!rows.length) { wfBox.innerHTML = `<p class="note">No spectra stored around this event (retention keeps about an hour).</p>`; return; }
    const wf = new Waterfall(ev.site, ev.sensor, ev.band || rows[0].band, (until - (ev._s - before)) / 1000);
    for (const sp of rows) wf.add(sp);
    wfBox.innerHTML = `<p class="note">Spectrum from 1 min before to 1 min after the event (top: ${dayHms(until)}); ` +
      `evidence clips stay on the sensor.</p><div class="wf"><canvas></canvas><div class="axis"><span>${mhz(wf.fLow)} MHz</span><span>${mhz(wf.fHigh)} MHz</span></div></div>`;
    wf.draw(wfBox.querySelector("canvas"), until, [ev], id, hms(until));
  } catch (e) {
    wfBox.innerHTML = `<p class="note">Spectra unavailable: ${esc(e.message)}</p>`;
  }
}

start();
