// Where the jammer is, on the desk's map: for each open wide-area incident (one jammer heard at
// several sites) the position estimated by the service (GET /incidents/{id}/location) as a
// ringed cross, its confidence region as a shaded outline, and a label saying how far off it may
// be, at what confidence, from how many sites, and whether the levels were calibrated (dBm) or
// raw dBFS (comparable only roughly between dongles). Fetched again when a member incident
// changes (its "updated" time), so the mark follows as more sites report.

import { getJSON } from "./api.js";
import { num, t } from "./i18n.js";

export const MARK_COLOUR = "#d2a8ff"; // violet: no site state uses it
const REGION_FILL = "rgba(210, 168, 255, 0.14)";
const REQUEST_GAP_MS = 200;

export class JammerMarks {
  /** map: the DeskMap to draw on (it calls draw(ctx, map) on every redraw); token: viewer token. */
  constructor(map, token) {
    this.map = map; this.token = token;
    this.groups = new Map(); // wide-area id -> { version, location }
    this.queue = new Set(); // wide-area ids to ask about
    this.pumping = false;
    this.labels = new Map(); // wide-area id -> label element over the map
    this.box = map.canvas.parentElement;
  }

  /** The open incidents (id -> incident): queue a location request for every group whose members changed. */
  update(incidents) {
    const versions = new Map();
    for (const inc of incidents.values()) {
      const area = inc.wide_area?.id;
      if (!area) continue;
      if (!versions.has(area)) versions.set(area, []);
      versions.get(area).push(`${inc.id}@${inc.updated}`);
    }
    let gone = false;
    for (const area of this.groups.keys()) {
      if (!versions.has(area)) { this.groups.delete(area); gone = true; }
    }
    for (const [area, stamps] of versions) {
      const version = stamps.sort().join("|");
      let g = this.groups.get(area);
      if (!g) { g = { version: null, location: null }; this.groups.set(area, g); }
      if (g.version === version) continue;
      g.version = version;
      this.queue.add(area);
    }
    if (gone) this.map.draw();
    this.pump();
  }

  /** One request at a time, a short gap between them: a desk opening on many groups, or a group
   * updated every second, asks the service gently; a group changed while waiting is asked once. */
  async pump() {
    if (this.pumping) return;
    this.pumping = true;
    while (this.queue.size) {
      const area = this.queue.values().next().value;
      this.queue.delete(area);
      const g = this.groups.get(area);
      if (!g) continue;
      try {
        g.location = await getJSON(this.token, `/incidents/${encodeURIComponent(area)}/location`);
      } catch (e) { /* keep the last estimate; the next change asks again */ }
      if (this.groups.get(area) === g) this.map.draw();
      await new Promise((resolve) => setTimeout(resolve, REQUEST_GAP_MS));
    }
    this.pumping = false;
  }

  /** Called by the map after its markers: regions, crosses and their labels. */
  draw(ctx, map) {
    const shown = new Set();
    for (const [area, g] of this.groups) {
      const loc = g.location;
      if (!loc || !loc.position) continue;
      shown.add(area);
      if (loc.region) drawRegion(ctx, map, loc.region.polygon);
      const [x, y] = map.project(loc.position.lon_deg, loc.position.lat_deg);
      drawCross(ctx, x, y);
      this.place(area, loc, x, y, map.size);
    }
    for (const [area, el] of this.labels) {
      if (!shown.has(area)) { el.remove(); this.labels.delete(area); }
    }
  }

  place(area, loc, x, y, size) {
    let el = this.labels.get(area);
    if (!el) {
      el = document.createElement("div");
      el.className = "map-tip jammer-label";
      el.dataset.area = area;
      this.box.appendChild(el);
      this.labels.set(area, el);
    }
    const text = t(loc.calibrated ? "jammer.labelDbm" : "jammer.labelDbfs", {
      radius: num(loc.region ? loc.region.radius_km : 0, 1), confidence: num(loc.confidence * 100, 0), n: loc.sensors,
    });
    if (el.textContent !== text) el.textContent = text;
    el.hidden = x < 0 || y < 0 || x > size.w || y > size.h;
    el.style.left = `${Math.max(0, Math.min(x + 10, size.w - 250))}px`;
    el.style.top = `${Math.max(0, y + 10)}px`;
  }
}

function drawRegion(ctx, map, polygon) {
  if (!polygon || polygon.length < 3) return;
  ctx.beginPath();
  polygon.forEach((p, i) => {
    const [x, y] = map.project(p.lon_deg, p.lat_deg);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.closePath();
  ctx.fillStyle = REGION_FILL; ctx.fill();
  ctx.setLineDash([4, 3]); ctx.strokeStyle = MARK_COLOUR; ctx.lineWidth = 1.5; ctx.stroke();
  ctx.setLineDash([]);
}

function drawCross(ctx, x, y) {
  const r = 7;
  ctx.lineWidth = 4; ctx.strokeStyle = "#0d1117"; // dark edge: visible on land, sea and red markers
  crossPath(ctx, x, y, r); ctx.stroke();
  ctx.lineWidth = 2; ctx.strokeStyle = MARK_COLOUR;
  crossPath(ctx, x, y, r); ctx.stroke();
  ctx.fillStyle = MARK_COLOUR; ctx.fillRect(x - 2, y - 2, 4, 4);
}

function crossPath(ctx, x, y, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.moveTo(x - r - 4, y); ctx.lineTo(x + r + 4, y);
  ctx.moveTo(x, y - r - 4); ctx.lineTo(x, y + r + 4);
}
