// The desk: a map of every site coloured and shaped by its state, the site list, the incident
// list (the live event list one tab away), live waterfalls and the incident or event detail;
// in Bahasa Indonesia or English, times in the desk's zone (WIB, WITA, WIT), honest about what
// it does not know (sites never heard from, a service that cannot be reached). Plain ES
// modules, no framework, no network but this service.

import { AuthError, forgetToken, getJSON, loadEvents, saveToken, stream, takeToken } from "./api.js";
import { Connection } from "./connection.js";
import { Detail } from "./detail.js";
import { feedHTML } from "./feed.js";
import { IncidentDetail } from "./incident_detail.js";
import { incidentMatcher, incidentRows, incidentsHTML, listKeys } from "./incident_list.js";
import { LANGUAGES, language, preferredLanguage, setLanguage, t, translateStatic, num } from "./i18n.js";
import { DeskMap, STATE_STYLE, zoneAt } from "./map.js";
import { JammerMarks } from "./jammer_marks.js";
import { incidentLinks, incidentsBySite, siteStates, wideAreaLinks } from "./sitestate.js";
import { sitesHTML } from "./sites.js";
import { EventStore, bandOf, matcher } from "./store.js";
import { esc, kindText, stateText } from "./text.js";
import { hm, hms, zoneName } from "./timefmt.js";
import { Waterfall, keyOf } from "./waterfall.js";

const $ = (id) => document.getElementById(id);
const MAX_WATERFALLS = 6;
const MAX_SITE_TILES = 300; // worst first; the map shows them all
const SPECTRA_POLL_MS = 2000;
const SITES_POLL_MS = 5000;
const WF_SPAN_S = 180;
const CLOSED_SPAN_S = 86400; // closed incidents listed from the last day
const TAB_KEY = "spectrum.tab";

const state = {
  token: null, events: new EventStore(), sites: new Map(), waterfalls: new Map(), wfCanvases: new Map(),
  spectraSince: null, selectedSite: "", fresh: new Map(), abort: null, loaded: false,
  desk: { tz: "Asia/Jakarta", intervalS: 30, role: "viewer", tokenName: "" }, conn: new Connection(), map: null,
  provinces: [], detail: null, incDetail: null,
  incidents: new Map(), // id -> incident, open or closed within a day (GET /incidents, stream "incident" messages)
};
// Measurements for the browser tests (and curious operators): performance.now() figures, in ms
// since the page began to load (navigation start).
const metrics = { firstRenderMs: null, mapFirstDrawMs: null, loadedMs: null, loadedEvents: 0, lastRenderMs: null, renders: 0, shownAt: {} };
window.__desk = { state, metrics };

// ---------------------------------------------------------------- language and login
async function start() {
  await setLanguage(preferredLanguage());
  translateStatic();
  for (const sel of document.querySelectorAll(".lang-select")) {
    sel.replaceChildren(...LANGUAGES.map((l) => new Option(l === "id" ? "Bahasa Indonesia" : "English", l)));
    sel.value = language();
    sel.addEventListener("change", () => switchLanguage(sel.value));
  }
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

async function switchLanguage(lang) {
  await setLanguage(lang, true);
  for (const sel of document.querySelectorAll(".lang-select")) sel.value = lang;
  translateStatic();
  relabelOptions();
  $("live").textContent = t(`live.${$("live").dataset.state}`); // set on stream changes only: it kept the old language
  shownKeys = null; // waterfall headers carry words too
  render();
}

function showLogin(message) {
  $("desk").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token-input").focus();
}

// ---------------------------------------------------------------- opening the desk
async function openDesk() {
  let mapData;
  try {
    const [desk, sites, map] = await Promise.all([getJSON(state.token, "/desk"), getJSON(state.token, "/desk/sites"),
      fetch("/static/map/indonesia.json").then((r) => r.json())]);
    state.desk = { tz: desk.desk_tz, intervalS: desk.report_interval_s, role: desk.role, tokenName: desk.token_name };
    mapData = map;
    state.provinces = null;
    setupMap(mapData);
    applySites(sites.sites);
  } catch (e) {
    if (e instanceof AuthError) { forgetToken(); showLogin(t("login.refused")); return; }
    showLogin(t("login.unreachable", { error: e.message }));
    return;
  }
  $("login").hidden = true;
  $("desk").hidden = false;
  state.detail = new Detail(state.token, state.events);
  state.incDetail = new IncidentDetail(state.token, state.desk.role, state.desk.tokenName, viewContext, (inc) => {
    state.incidents.set(inc.id, inc);
    scheduleRender();
  });
  wireControls();
  startStream();
  render();
  metrics.mapFirstDrawMs = performance.now();
  await loadIncidents();
  let first = true;
  await loadEvents(state.token, (page) => {
    state.events.appendPage(page);
    collectOptions(page);
    render();
    if (first) { first = false; metrics.firstRenderMs = performance.now(); }
  });
  state.loaded = true;
  metrics.loadedMs = performance.now();
  metrics.loadedEvents = state.events.list.length;
  render();
  await pollSpectra(true);
  setInterval(() => pollSpectra(false), SPECTRA_POLL_MS);
  setInterval(refreshSites, SITES_POLL_MS);
  setInterval(tick, 1000);
  tick();
}

function startStream() {
  state.abort = new AbortController();
  stream(state.token, {
    signal: state.abort.signal,
    onMessage,
    onState: (s) => {
      state.conn.streamState(s);
      $("live").dataset.state = s;
      $("live").textContent = t(`live.${s}`);
      scheduleRender();
    },
    onReconnect: () => { catchUp(); refreshSites(); },
  }).catch((e) => { if (e instanceof AuthError) { forgetToken(); showLogin(t("login.revoked")); } });
}

function setupMap(data) {
  if (state.map) return;
  state.map = new DeskMap($("map"), data, {
    onPick: (site) => { if (site) pickSite(site); },
    onHover: (site, at) => showTip(site, at),
  });
  state.provinces = state.map.provinces;
  state.map.overlay = state.marks = new JammerMarks(state.map, state.token);
  $("map-in").addEventListener("click", () => state.map.zoomBy(1.6));
  $("map-out").addEventListener("click", () => state.map.zoomBy(1 / 1.6));
  $("map-reset").addEventListener("click", () => { state.map.reset(); state.map.draw(); });
}

function showTip(site, at) {
  const tip = $("map-tip"), s = site && state.sites.get(site);
  if (!s) { tip.hidden = true; return; }
  const st = viewStates().find((x) => x.site === site);
  tip.textContent = `${s.name ? `${s.name} (${s.site})` : s.site} · ${stateText(st ? st.state : "no_data")}`;
  tip.hidden = false;
  tip.style.left = `${Math.min(at[0] + 12, $("map").clientWidth - tip.offsetWidth - 4)}px`;
  tip.style.top = `${at[1] + 12}px`;
}

// ---------------------------------------------------------------- data in
function siteRecord(name) {
  let s = state.sites.get(name);
  if (!s) {
    s = { site: name, name: null, lat: null, lon: null, tz: null, intervalS: state.desk.intervalS, lastHeardMs: null, sensors: 0 };
    state.sites.set(name, s);
    newSites.push(name);
    scheduleOptions();
  }
  return s;
}

const newSites = [];
let optionsPending = false;
function scheduleOptions() { // one rebuild of the site filter for a whole batch of new sites
  if (optionsPending) return;
  optionsPending = true;
  queueMicrotask(() => { optionsPending = false; addOptions($("f-site"), newSites.splice(0)); });
}

function applySites(list) {
  for (const d of list) {
    const s = siteRecord(d.site);
    const heard = d.last_heard ? Date.parse(d.last_heard) : null;
    Object.assign(s, { name: d.name, intervalS: d.report_interval_s, sensors: d.sensors.length,
      clockSuspect: d.sensors.filter((x) => x.clock_suspect).map((x) => x.sensor) });
    if (heard !== null && (s.lastHeardMs === null || heard > s.lastHeardMs)) s.lastHeardMs = heard;
    if (d.lat_deg != null && (d.lat_deg !== s.lat || d.lon_deg !== s.lon)) {
      s.lat = d.lat_deg; s.lon = d.lon_deg;
      s.tz = d.tz || (state.provinces ? zoneAt(state.provinces, s.lon, s.lat) : null);
    } else if (d.tz) s.tz = d.tz;
  }
}

async function refreshSites() {
  try {
    applySites((await getJSON(state.token, "/desk/sites")).sites);
    state.conn.poll(true);
  } catch (e) {
    if (e instanceof AuthError) { forgetToken(); showLogin(t("login.revoked")); return; }
    state.conn.poll(false);
  }
  scheduleRender();
}

function onMessage(type, data) {
  if (type === "event") {
    const ev = data.event;
    const change = state.events.upsert(ev);
    if (ev.site) siteRecord(ev.site).lastHeardMs = Date.now(); // an event is a sign of life
    if (!change) return;
    if (change === "created") state.fresh.set(ev.id, Date.now());
    collectOptions([ev]);
    scheduleRender();
  } else if (type === "incident" && data.incident) {
    onIncident(data);
  } else if (type === "status" && data.site) {
    const s = siteRecord(data.site), seen = data.last_seen ? Date.parse(data.last_seen) : null;
    if (seen !== null && (s.lastHeardMs === null || seen > s.lastHeardMs)) s.lastHeardMs = seen;
    scheduleRender();
  }
}

/** The open incidents (active or quiet) and those closed within a day, every site's own
 * (wide-area groups listed per site; the incident list folds them). */
async function loadIncidents() {
  const since = new Date(Date.now() - CLOSED_SPAN_S * 1000).toISOString();
  for (const params of [{ state: ["active", "quiet"] }, { state: ["closed"], since }]) {
    let cursor = null;
    try {
      do {
        const page = await getJSON(state.token, "/incidents", { ...params, wide_area: "each", limit: 1000, cursor });
        for (const inc of page.incidents) state.incidents.set(inc.id, inc);
        cursor = page.next_cursor;
      } while (cursor);
    } catch (e) { /* a desk without incidents (or a refused token, seen by the other calls): states from events */ }
  }
  scheduleRender();
}

function onIncident(data) {
  const id = data.incident.id;
  if (data.change === "merged") {
    state.incidents.delete(id);
    if (state.incDetail?.id === id && data.merged_into) openIncident(data.merged_into, data.merged_into);
  } else {
    state.incidents.set(id, data.incident); // closed ones stay listed; site states skip them
    state.incDetail?.changed(id);
  }
  scheduleRender();
}

async function catchUp() {
  state.incidents.clear();
  loadIncidents();
  try {
    const page = await getJSON(state.token, "/events", { limit: 1000 });
    for (const ev of page.events) state.events.upsert(ev);
    collectOptions(page.events);
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
    const s = state.sites.get(sp.site), at = Date.parse(sp.time);
    if (s && (s.lastHeardMs === null || at > s.lastHeardMs)) s.lastHeardMs = Math.min(at, Date.now());
    if (!state.spectraSince || sp.time > state.spectraSince) state.spectraSince = sp.time;
  }
  if (changed) addOptions($("f-band"), [...state.waterfalls.values()].map((w) => w.band));
  renderWaterfalls(changed);
}

// ---------------------------------------------------------------- filters and controls
function filters() {
  return {
    site: $("f-site").value, band: $("f-band").value, kind: $("f-kind").value, severity: $("f-severity").value,
    windowS: Number($("f-time").value) || 0, ongoing: $("f-ongoing").checked,
  };
}

function pickSite(site) {
  $("f-site").value = $("f-site").value === site ? "" : site;
  render();
}

function activate(el, fn) { // click, Enter and Space on rows that act as buttons
  el.addEventListener("click", fn);
  el.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fn(e); } });
}

function wireControls() {
  for (const id of ["f-site", "f-band", "f-kind", "f-severity", "f-time", "f-ongoing"]) $(id).addEventListener("change", () => render());
  $("f-clear").addEventListener("click", () => {
    for (const id of ["f-site", "f-band", "f-kind", "f-severity"]) $(id).value = "";
    $("f-time").value = ""; $("f-ongoing").checked = false;
    render();
  });
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  activate($("sites"), (e) => { const tile = e.target.closest("[data-site]"); if (tile) pickSite(tile.dataset.site); });
  activate($("feed"), (e) => { const row = e.target.closest("[data-id]"); if (row) openDetail(row.dataset.id); });
  activate($("incidents"), (e) => { const row = e.target.closest("[data-key]"); if (row) openIncident(row.dataset.id, row.dataset.key); });
  listKeys($("feed"), ".ev");
  listKeys($("incidents"), ".inc");
  $("detail-close").addEventListener("click", closeDetail);
  $("incident-close").addEventListener("click", closeIncident);
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (!$("incident").hidden) closeIncident(); else if (!$("detail").hidden) closeDetail();
  });
  wireTabs();
}

/** Incidents | Events: buttons with the tab pattern (arrow keys between them), the choice kept in this tab. */
function wireTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const pick = (name, focus) => {
    for (const tab of tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      $(tab.getAttribute("aria-controls")).hidden = !on;
      if (on && focus) tab.focus();
    }
    sessionStorage.setItem(TAB_KEY, name);
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => pick(tab.dataset.tab, false));
    tab.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
      e.preventDefault();
      const i = tabs.indexOf(tab), next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      pick(next.dataset.tab, true);
    });
  }
  pick(sessionStorage.getItem(TAB_KEY) === "events" ? "events" : "incidents", false);
}

function openIncident(id, key) {
  if (state.detail.id) state.detail.close();
  state.incDetail.open(id, key);
  render();
}
function closeIncident() {
  const key = state.incDetail.key;
  state.incDetail.close();
  render();
  const row = key && document.querySelector(`#incidents [data-key="${CSS.escape(key)}"]`);
  if (row) row.focus();
}

function openDetail(id) {
  if (state.incDetail.id) state.incDetail.close();
  state.detail.open(id, viewContext());
  render();
}
function closeDetail() {
  const id = state.detail.id;
  state.detail.close();
  render();
  const row = id && document.querySelector(`#feed [data-id="${CSS.escape(id)}"]`);
  if (row) row.focus();
}

const seenOptions = { "f-kind": new Set(), "f-band": new Set(), "f-site": new Set() };
function optionText(select, v) { return select.id === "f-kind" ? kindText(v) : v; }
function addOptions(select, values) {
  const seen = seenOptions[select.id];
  const fresh = values.filter((v) => v && !seen.has(v));
  if (!fresh.length) return;
  for (const v of fresh) seen.add(v);
  const current = select.value;
  select.length = 1;
  for (const v of [...seen].sort()) select.add(new Option(optionText(select, v), v));
  select.value = current;
}
function relabelOptions() {
  for (const opt of $("f-kind").options) if (opt.value) opt.textContent = kindText(opt.value);
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

/** What every view needs to know now: the desk's zone, the time the data is current to, staleness. */
function viewContext() {
  const realNow = Date.now(), stale = state.conn.down(realNow), now = state.conn.asOf(realNow), tz = state.desk.tz, zone = zoneName(tz);
  return {
    realNow, now, stale, tz, zone, asOfText: `${hm(now, tz)} ${zone}`,
    siteName: (site) => { const s = state.sites.get(site); return s && s.name ? `${s.name} (${site})` : site ?? "?"; },
  };
}

function viewStates(vc = viewContext()) {
  return siteStates(state.sites, state.events.ongoingBySite(), vc.now, SITES_POLL_MS, incidentsBySite(state.incidents));
}

function render() {
  if ($("desk").hidden) return;
  const t0 = performance.now();
  const vc = viewContext(), f = filters();
  const states = viewStates(vc);
  renderBanner(vc);
  renderSummary(states, vc);
  renderSites(states, vc, f);
  renderMap(states, f);
  renderIncidents(f, vc);
  renderFeed(f, vc);
  renderWaterfalls(false);
  if (state.detail) state.detail.refresh(vc);
  if (state.incDetail) state.incDetail.refresh(vc);
  metrics.lastRenderMs = performance.now() - t0;
  metrics.renders++;
}

const lastHTML = new WeakMap();
function setHTML(el, html) { // skip the DOM work when nothing changed (most renders of a tick)
  if (lastHTML.get(el) === html) return;
  lastHTML.set(el, html);
  // A redrawn list keeps the keyboard where it was: the row with the same key gets the focus back.
  const focused = el.contains(document.activeElement) ? document.activeElement : null;
  const key = focused && (focused.dataset.key ?? focused.dataset.id);
  el.innerHTML = html;
  if (key) el.querySelector(`[data-${focused.dataset.key ? "key" : "id"}="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
}

function renderBanner(vc) {
  const b = $("outage");
  b.hidden = !vc.stale;
  if (vc.stale) b.textContent = t("outage.banner", { since: `${hm(state.conn.failingSince, vc.tz)} ${vc.zone}`, asof: vc.asOfText });
  document.body.classList.toggle("is-stale", vc.stale);
}

function renderSummary(states, vc) {
  let jammed = 0, warn = 0, online = 0;
  for (const s of states) { jammed += s.state === "jammed"; warn += s.state === "warning"; online += s.status === "online"; }
  const st = vc.stale ? " stale" : "";
  setHTML($("summary"),
    `<span class="pill ${jammed ? "critical" : ""}${st}" id="sum-jammed">${esc(t("summary.jammed", { n: jammed }))}</span>` +
    `<span class="pill ${warn ? "warning" : ""}${st}">${esc(t("summary.warning", { n: warn }))}</span>` +
    `<span class="pill${st}">${esc(t("summary.online", { online, total: states.length }))}</span>` +
    `<span class="pill${st}">${esc(t("summary.events", { n: state.events.list.length }))}${state.loaded ? "" : ` (${esc(t("summary.loading"))})`}</span>` +
    (vc.stale ? `<span class="pill stale" id="sum-asof">${esc(t("summary.asof", { time: vc.asOfText }))}</span>` : ""));
}

function renderSites(states, vc, f) {
  setHTML($("sites"), sitesHTML(states, vc, f.site, MAX_SITE_TILES));
  $("sites-count").textContent = num(states.length);
}

function renderMap(states, f) {
  if (!state.map) return;
  state.marks.update(state.incidents); // fetches a location when a wide-area incident changed
  const placed = states.filter((s) => s.lon != null);
  state.map.setData(placed.map((s) => ({ site: s.site, lon: s.lon, lat: s.lat, state: s.state })),
    state.incidents.size ? incidentLinks(state.incidents) : wideAreaLinks(state.events.list.filter((ev) => !ev.end)), f.site || null);
  const unplaced = states.length - placed.length;
  $("map-note").textContent = unplaced ? t("map.unplaced", { n: unplaced }) : "";
  $("map").setAttribute("aria-label", t("map.label", { n: placed.length }));
  setHTML($("legend"), Object.keys(STATE_STYLE).reverse().map((k) => `<li><span class="state ${k}">${esc(stateText(k))}</span></li>`).join(""));
}

function renderIncidents(f, vc) {
  const { html, count } = incidentsHTML(incidentRows(state.incidents), incidentMatcher(f, vc.realNow), vc, state.incDetail?.key);
  setHTML($("incidents"), html);
  $("incidents-count").textContent = count;
}

function renderFeed(f, vc) {
  const { html, count } = feedHTML(state.events.list, matcher(f, vc.realNow), vc, state.detail?.id, state.fresh, metrics.shownAt);
  setHTML($("feed"), html);
  $("feed-count").textContent = count;
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
  const f = filters(), ongoing = state.events.ongoingBySite();
  let wfs = [...state.waterfalls.values()].filter((w) => (!f.site || w.site === f.site) && (!f.band || w.band === f.band));
  wfs.sort((a, b) => ((ongoing.get(b.site)?.rank || 0) - (ongoing.get(a.site)?.rank || 0)) ||
    a.site.localeCompare(b.site) || a.band.localeCompare(b.band));
  const total = wfs.length;
  wfs = wfs.slice(0, MAX_WATERFALLS);
  $("wf-note").textContent = total > wfs.length ? t("wf.note", { shown: wfs.length, total }) : num(total);
  return { wfs, ongoing };
}

let shownKeys = null;
// Canvas sizes kept here, so drawing never forces a synchronous layout of the page.
const sizeWatch = new ResizeObserver((entries) => {
  for (const e of entries) e.target.cssSize = { w: e.contentRect.width, h: e.contentRect.height };
  renderWaterfalls(false);
});
function buildWaterfalls(wfs) {
  const box = $("waterfalls");
  box.innerHTML = "";
  sizeWatch.disconnect();
  state.wfCanvases.clear();
  if (!wfs.length) box.innerHTML = `<div class="empty">${esc(t("wf.none"))}</div>`;
  for (const wf of wfs) {
    const el = document.createElement("div");
    el.className = "wf";
    el.innerHTML = `<header><b>${esc(wf.site)}</b><span>${esc(wf.sensor)} · ${esc(wf.band)}</span></header>` +
      `<canvas role="img" aria-label="${esc(t("wf.label", { site: wf.site, band: wf.band }))}"></canvas>` +
      `<div class="axis"><span>${esc(num(wf.fLow / 1e6, 3))}</span><span>${esc(num((wf.fLow + wf.fHigh) / 2e6, 3))}</span><span>${esc(t("unit.mhz", { v: num(wf.fHigh / 1e6, 3) }))}</span></div>`;
    const canvas = el.querySelector("canvas");
    sizeWatch.observe(canvas);
    canvas.addEventListener("click", (e) => {
      const r = canvas.getBoundingClientRect(), ev = wf.hit(e.clientX - r.left, e.clientY - r.top);
      if (ev) openDetail(ev.id);
    });
    box.appendChild(el);
    state.wfCanvases.set(keyOf(wf), { canvas, el });
  }
}

function renderWaterfalls(structureChanged) {
  const { wfs, ongoing } = chosenWaterfalls();
  const keys = wfs.map((w) => keyOf(w)).join("|");
  if (keys !== shownKeys || structureChanged) { shownKeys = keys; buildWaterfalls(wfs); }
  const now = Date.now(), text = { label: (ev) => kindText(ev.kind), top: t("wf.now"), bottom: t("wf.minAgo", { n: WF_SPAN_S / 60 }) };
  for (const wf of wfs) {
    const c = state.wfCanvases.get(keyOf(wf));
    if (!c) continue;
    const o = ongoing.get(wf.site);
    c.el.className = `wf${o ? ` sev-${o.worst}` : ""}`;
    wf.draw(c.canvas, now, eventsFor(wf), state.detail?.id, text);
  }
}

function tick() {
  const tz = state.desk.tz;
  $("clock").textContent = t("clock.desk", { time: hms(Date.now(), tz), zone: zoneName(tz) });
  $("clock").title = tz;
  for (const [id, at] of state.fresh) if (Date.now() - at > 5000) state.fresh.delete(id);
  render();
}

start();
