// The day's incident report from the dashboard: the same report as `spectrum report` and
// GET /reports/daily (HTML to print on A4, CSV or PDF), for the day and site the operator picks,
// in the desk's time zone. Fetched with the token in the Authorization header (never in a URL)
// and handed to the browser as a download. Its own panel and script tag, like the campaigns.

import { API, getJSON, takeToken } from "./api.js";
import { t } from "./i18n.js";
import { esc } from "./text.js";

let panel = null, deskTz = null, busy = false, message = "";

function today(tz) { // YYYY-MM-DD in the desk's zone (en-CA writes dates that way)
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

function siteFilter() { return document.getElementById("f-site")?.value || ""; }

function ensurePanel() {
  if (panel) return panel;
  const main = document.querySelector("#desk > main");
  if (!main) return null;
  panel = document.createElement("section");
  panel.id = "reports";
  panel.className = "panel reports-panel";
  panel.setAttribute("aria-labelledby", "reports-h");
  (document.getElementById("campaigns") || main).after(panel);
  panel.addEventListener("submit", (e) => { e.preventDefault(); download(); });
  return panel;
}

function render() {
  const p = ensurePanel();
  if (!p || !deskTz) return;
  const day = p.querySelector("#report-day")?.value || today(deskTz);
  const format = p.querySelector("#report-format")?.value || "html";
  const site = siteFilter();
  p.innerHTML = `<h2 id="reports-h">${esc(t("reports.title"))}</h2>` +
    `<form id="report-form" class="report-form">` +
    `<label><span>${esc(t("reports.day"))}</span> <input id="report-day" type="date" required value="${esc(day)}"></label>` +
    `<label><span>${esc(t("reports.format"))}</span> <select id="report-format">` +
    ["html", "csv", "pdf"].map((f) => `<option value="${f}"${f === format ? " selected" : ""}>${esc(t(`reports.${f}`))}</option>`).join("") +
    `</select></label>` +
    `<span class="report-scope">${esc(site ? t("reports.forSite", { site }) : t("reports.allSites"))} · ${esc(deskTz)}</span>` +
    `<button id="report-get" type="submit"${busy ? " disabled" : ""}>${esc(t(busy ? "reports.making" : "reports.download"))}</button>` +
    `<p id="report-msg" class="report-msg" role="status">${esc(message)}</p></form>`;
}

async function download() {
  const token = takeToken();
  if (!token || busy) return;
  const day = panel.querySelector("#report-day").value, format = panel.querySelector("#report-format").value;
  const url = new URL(`${API}/reports/daily`, location.origin);
  url.searchParams.set("day", day);
  url.searchParams.set("tz", deskTz);
  url.searchParams.set("format", format);
  if (siteFilter()) url.searchParams.set("site", siteFilter());
  busy = true; message = ""; render();
  try {
    const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!r.ok) {
      let reason = `HTTP ${r.status}`;
      try { reason = (await r.json()).detail?.[0]?.msg || reason; } catch (e) { /* no JSON body */ }
      throw new Error(reason);
    }
    const name = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "")?.[1] || `incidents-${day}.${format}`;
    const href = URL.createObjectURL(await r.blob());
    const a = Object.assign(document.createElement("a"), { href, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
    message = t("reports.saved", { name });
  } catch (e) {
    message = t("reports.failed", { reason: e.message === "Failed to fetch" ? t("reports.unreachable") : e.message });
  } finally {
    busy = false;
    render();
  }
}

async function start() {
  const desk = document.getElementById("desk");
  const token = takeToken();
  if (!desk || desk.hidden || !token) return;
  try {
    deskTz = (await getJSON(token, "/desk")).desk_tz;
  } catch (e) {
    return; // a refused token or a desk away: the rest of the page says so; tried again on the next open
  }
  render();
}

// Drawn when the desk opens, again in a new language and when the site filter changes.
new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
const desk = document.getElementById("desk");
if (desk) new MutationObserver(start).observe(desk, { attributes: true, attributeFilter: ["hidden"] });
document.addEventListener("change", (e) => { if (e.target?.id === "f-site") render(); });
start();
