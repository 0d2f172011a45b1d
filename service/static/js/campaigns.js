// The campaigns view: each sensor with the campaign the desk assigns it, the campaign it reports
// running (from the desk, or its copy on disk while it cannot reach the desk) and whether the two
// agree. Its own panel under the grid, shown once the desk has a campaign or a sensor reports one;
// loaded by its own script tag so the rest of the dashboard does not know about it.

import { getJSON, takeToken } from "./api.js";
import { t } from "./i18n.js";
import { esc } from "./text.js";

const POLL_MS = 10_000; // campaigns change by hand, and sensors ask every 30 s by default
let rows = null;
let panel = null;

function ensurePanel() {
  if (panel) return panel;
  const main = document.querySelector("#desk > main");
  if (!main) return null;
  const style = document.createElement("link"); // own styles: desk.css stays as it is
  style.rel = "stylesheet";
  style.href = "/static/campaigns.css";
  document.head.append(style);
  panel = document.createElement("section");
  panel.id = "campaigns";
  panel.className = "panel campaigns-panel";
  panel.hidden = true;
  panel.setAttribute("aria-labelledby", "campaigns-h");
  main.after(panel);
  return panel;
}

function named(name, version) {
  return name == null ? t("campaigns.none") : t("campaigns.nameVersion", { name, version: version ?? "?" });
}

function syncText(r) {
  if (!r.in_sync) return `≠ ${t("campaigns.behind")}`;
  return r.campaign_origin === "disk" ? `✓ ${t("campaigns.syncedDisk")}` : `✓ ${t("campaigns.inSync")}`;
}

/** HTML of the panel from ``GET /campaigns/sensors`` rows (exported for tests in a page). */
export function campaignsHTML(list) {
  const behind = list.filter((r) => !r.in_sync).length;
  const body = list.map((r) => `<tr class="${r.in_sync ? "in-sync" : "behind"}">` +
    `<td>${esc(r.sensor)}</td><td>${esc(r.site)}</td><td>${esc(named(r.assigned, r.assigned_version))}</td>` +
    `<td>${esc(named(r.campaign, r.campaign_version))}</td><td class="sync">${esc(syncText(r))}</td></tr>`).join("");
  return `<h2 id="campaigns-h"><span>${esc(t("campaigns.title"))}</span> ` +
    `<span class="count">${esc(t("campaigns.behindCount", { n: behind }))}</span></h2>` +
    `<div class="campaigns-scroll"><table class="campaigns"><thead><tr>` +
    ["sensor", "site", "assigned", "running", "state"].map((k) => `<th scope="col">${esc(t(`campaigns.${k}`))}</th>`).join("") +
    `</tr></thead><tbody>${body}</tbody></table></div>`;
}

function render() {
  const p = ensurePanel();
  if (!p) return;
  const used = rows !== null && rows.some((r) => r.assigned || r.campaign);
  p.hidden = !used;
  if (used) p.innerHTML = campaignsHTML(rows);
}

async function poll() {
  const desk = document.getElementById("desk");
  const token = takeToken();
  if (!desk || desk.hidden || !token) { rows = null; render(); return; }
  try {
    rows = (await getJSON(token, "/campaigns/sensors")).sensors;
  } catch (e) {
    rows = null; // a refused token or a desk away: the rest of the page says so
  }
  render();
}

// Again at once when the desk opens, and in the new language when it changes.
new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
const desk = document.getElementById("desk");
if (desk) new MutationObserver(poll).observe(desk, { attributes: true, attributeFilter: ["hidden"] });
setInterval(poll, POLL_MS);
poll();
