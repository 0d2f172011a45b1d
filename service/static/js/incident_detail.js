// The incident detail: a drawer over the page (a bottom sheet on phones), always in view. It
// shows the incident (and the rest of its wide-area group) with its events on a timeline, one
// lane per kind and one mark per burst, the desk's state and the audit trail; it reloads when
// the live stream says one of its incidents changed. Operators act on it from the form below,
// which is never redrawn (what they type stays), and errors come back in the page's language.

import { ActionError, getJSON, postJSON } from "./api.js";
import { num, t } from "./i18n.js";
import { dateHm, dur, hms } from "./timefmt.js";
import { esc, kindText, mhzRange, severityText } from "./text.js";

const $ = (id) => document.getElementById(id);
const MAX_GROUP = 20; // incidents of a wide-area group loaded for the detail
const MAX_MARKS = 2000; // marks drawn on the timeline; the note says when there are more
const ACTING_ROLES = new Set(["operator", "admin"]);
const FIELDS = new Set(["team", "text", "note", "outcome"]); // body fields with a name in the catalogues

function when(ms, vc) { return `${dateHm(ms, vc.tz)} ${vc.zone}`; }

function summary(main, group, vc) {
  const sites = [...new Set(group.flatMap((i) => (i.wide_area ? i.wide_area.sites : [i.site])))].sort();
  const lo = Math.min(...group.map((i) => i.freq_low_hz)), hi = Math.max(...group.map((i) => i.freq_high_hz));
  const d = main.desk;
  const deskLines = [d.acknowledged ? t("incident.ackBy", { who: d.acknowledged_by, time: when(Date.parse(d.acknowledged_at), vc) })
    : t("incident.notAck")];
  if (d.assigned_to) deskLines.push(t("incident.assignedTo", { team: d.assigned_to }));
  if (d.outcome) deskLines.push(t("incident.resolvedAs", { outcome: t(`outcome.${d.outcome}`), who: d.resolved_by, time: when(Date.parse(d.resolved_at), vc) }));
  const rows = [
    ["incident.state", `<span class="istate ${esc(main.state)}">${esc(t(`incident.state.${main.state}`))}</span>`],
    ["incident.severity", `<span class="sev ${esc(main.severity)}">${esc(severityText(main.severity))}</span>`],
    ["incident.since", esc(when(Date.parse(main.since), vc))],
    ["incident.last", esc(when(Date.parse(main.last_activity), vc))],
    ["incident.bursts", esc(num(group.reduce((a, i) => a + i.bursts, 0)))],
    ["incident.duty", esc(t("incident.dutyValue", { pct: num(main.duty * 100, 0), dur: dur(main.duration_s * 1000) }))],
    ["incident.kinds", esc([...new Set(group.flatMap((i) => i.kinds))].sort().map(kindText).join(", "))],
    ["incident.frequency", esc(mhzRange(lo, hi))],
    ["incident.band", esc(main.band ?? "—")],
    ["incident.sites", esc(sites.map((s) => vc.siteName(s)).join(", ")) +
      (sites.length > 1 ? `<br><span class="note">${esc(t("incident.wideArea", { n: sites.length }))}</span>` : "")],
    ["incident.desk", deskLines.map((l) => (d.acknowledged ? esc(l) : `<span class="attn">${esc(l)}</span>`)).join("<br>")],
  ];
  return `<dl>${rows.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

/** One lane per kind; each event a mark from its start to its end (or now) on a shared axis. */
function timeline(events, vc) {
  if (!events.length) return "";
  const start = Math.min(...events.map((e) => Date.parse(e.start)));
  const end = Math.max(start + 1000, ...events.map((e) => (e.end ? Date.parse(e.end) : vc.now)));
  const span = end - start, x = (ms) => ((ms - start) / span) * 1000;
  const tick = (ms) => (dateHm(ms, vc.tz).slice(0, 10) === dateHm(end, vc.tz).slice(0, 10) ? hms(ms, vc.tz) : dateHm(ms, vc.tz));
  const kinds = [...new Set(events.map((e) => e.kind))].sort();
  const shown = events.slice(-MAX_MARKS);
  const lanes = kinds.map((k) => {
    const marks = shown.filter((e) => e.kind === k).map((e) => {
      const s = x(Date.parse(e.start)), w = Math.max(2, x(e.end ? Date.parse(e.end) : vc.now) - s);
      const label = t("incident.eventMark", { kind: kindText(e.kind), site: e.site ?? "?", start: when(Date.parse(e.start), vc), severity: severityText(e.severity) });
      return `<rect class="mark ${esc(e.severity)}" x="${s.toFixed(1)}" y="2" width="${w.toFixed(1)}" height="16"><title>${esc(label)}</title></rect>`;
    }).join("");
    return `<div class="lane"><span class="lane-k">${esc(kindText(k))}</span>` +
      `<svg viewBox="0 0 1000 20" preserveAspectRatio="none" aria-hidden="true">${marks}</svg></div>`;
  }).join("");
  const label = t("incident.timelineLabel", { n: events.length, start: when(start, vc), end: when(end, vc) });
  const more = events.length > shown.length ? `<p class="note">${esc(t("incident.eventsShown", { shown: shown.length, total: events.length }))}</p>` : "";
  return `<h3>${esc(t("incident.timeline"))}</h3><div class="timeline" role="img" aria-label="${esc(label)}">${lanes}` +
    `<div class="t-axis"><span>${esc(tick(start))}</span><span>${esc(tick(start + span / 2))}</span>` +
    `<span>${esc(`${tick(end)} ${vc.zone}`)}</span></div></div>${more}`;
}

function auditText(a) {
  const d = a.detail || {};
  if (a.action === "assign") return t("audit.assign", { who: a.actor, team: d.team ?? "?" });
  if (a.action === "resolve") return t("audit.resolve", { who: a.actor, outcome: t(`outcome.${d.outcome}`) });
  return t(`audit.${a.action}`, { who: a.actor });
}

function audit(entries, vc) {
  const items = entries.map((a) => {
    const note = a.detail?.text ?? a.detail?.note;
    return `<li><time>${esc(when(Date.parse(a.at), vc))}</time> ${esc(auditText(a))}` +
      (note ? `<q>${esc(note)}</q>` : "") + "</li>";
  }).join("");
  return `<h3>${esc(t("incident.audit"))}</h3>` + (items ? `<ol class="audit">${items}</ol>` : `<p class="note">${esc(t("incident.auditEmpty"))}</p>`);
}

export class IncidentDetail {
  /** ``onChanged(incident)`` hears of each incident an action returned (to update the list at once). */
  constructor(token, role, tokenName, viewContext, onChanged) {
    this.token = token; this.vc = viewContext; this.key = null; this.id = null; this.data = null; this.ids = new Set();
    this.onChanged = onChanged; this.loading = 0; this.again = false; this.lastHTML = "";
    const acting = ACTING_ROLES.has(role);
    $("inc-actions").hidden = !acting;
    this.tokenName = tokenName;
    if (acting) this.wire();
  }

  /** Open on the incident ``id`` (``key``: its row in the list), move focus into the drawer. */
  open(id, key) {
    this.id = id; this.key = key; this.data = null; this.ids = new Set([id]); this.lastHTML = "";
    $("inc-body").innerHTML = `<p class="note">${esc(t("incident.loading"))}</p>`;
    $("inc-msg").textContent = "";
    $("inc-msg").className = "msg";
    $("incident").hidden = false;
    $("incident").focus({ preventScroll: true });
    this.load();
  }

  close() { this.id = null; this.key = null; this.data = null; $("incident").hidden = true; }

  /** The live stream changed incident ``id``: reload when it is one of the open group's. */
  changed(id) { if (this.id && this.ids.has(id)) this.load(); }

  async load() {
    if (this.loading) { this.again = true; return; } // one load at a time; the last change wins
    const id = this.id;
    this.loading++;
    try {
      const main = await getJSON(this.token, `/incidents/${encodeURIComponent(id)}`);
      const others = (main.wide_area?.incidents || []).filter((x) => x !== id).slice(0, MAX_GROUP);
      const group = [main, ...(await Promise.all(others.map((x) =>
        getJSON(this.token, `/incidents/${encodeURIComponent(x)}`).catch(() => null)))).filter(Boolean)];
      if (this.id !== id) return;
      this.data = { main, group };
      this.ids = new Set(group.map((i) => i.id).concat(main.wide_area?.incidents || []));
      this.refresh(this.vc());
    } catch (e) {
      if (this.id === id) $("inc-body").innerHTML = `<p class="note">${esc(t("incident.loadError", { error: e.message }))}</p>`;
    } finally {
      this.loading--;
      if (this.again && this.id) { this.again = false; this.load(); }
    }
  }

  /** Re-render from what was loaded (language, staleness, the clock). */
  refresh(vc) {
    if (!this.id) return;
    const stale = $("inc-stale");
    stale.hidden = !vc.stale;
    if (vc.stale) stale.textContent = t("incident.stale", { time: vc.asOfText });
    $("inc-as").textContent = t("actions.as", { name: this.tokenName });
    if (!this.data) return;
    const { main, group } = this.data;
    const sites = [...new Set(group.flatMap((i) => (i.wide_area ? i.wide_area.sites : [i.site])))].sort();
    $("incident-h").textContent = t("incident.title", { sites: sites.join(", ") });
    const events = group.flatMap((i) => i.events).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    // An action on a wide-area group is kept once per incident of it: shown once here.
    const seen = new Set(), entries = [];
    for (const a of group.flatMap((i) => i.audit).sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.seq - b.seq)) {
      const same = JSON.stringify([a.at, a.token_id, a.action, a.detail]);
      if (!seen.has(same)) { seen.add(same); entries.push(a); }
    }
    const html = summary(main, group, vc) + timeline(events, vc) + audit(entries, vc);
    if (html !== this.lastHTML) { this.lastHTML = html; $("inc-body").innerHTML = html; }
    $("act-ack").hidden = main.desk.acknowledged;
  }

  wire() {
    const run = async (path, body, form) => {
      const id = this.id, msg = $("inc-msg");
      if (!id) return;
      msg.textContent = ""; msg.className = "msg";
      try {
        const res = await postJSON(this.token, `/incidents/${encodeURIComponent(id)}/${path}`, body);
        if (form) form.reset();
        msg.textContent = t("actions.done");
        msg.className = "msg ok";
        const { events, audit: _a, ...incident } = res;
        this.onChanged(incident);
        if (this.id === id) this.load();
      } catch (e) {
        msg.className = "msg error";
        msg.textContent = actionError(e);
      }
    };
    $("act-ack").addEventListener("click", () => run("acknowledge", {}, null));
    const submit = (formId, build) => $(formId).addEventListener("submit", (e) => { e.preventDefault(); run(...build(e.target), e.target); });
    submit("act-assign", (f) => ["assign", { team: f.team.value }]);
    submit("act-note", (f) => ["notes", { text: f.text.value }]);
    submit("act-resolve", (f) => ["resolve", f.outcome.value ? { outcome: f.outcome.value } : {}]);
  }
}

/** The error of a desk action as a sentence in the page's language. */
export function actionError(e) {
  if (!(e instanceof ActionError)) return t("actions.error.network");
  if (e.status === 0) return t("actions.error.network");
  if (e.status === 403 || e.status === 404) return t(`actions.error.${e.status}`);
  if (e.status === 422) return t("actions.error.422", { field: FIELDS.has(e.field) ? t(`field.${e.field}`) : String(e.field ?? "?") });
  return t("actions.error.other", { status: String(e.status) });
}
