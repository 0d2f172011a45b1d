// The country map on a canvas: Indonesia's coast and provinces (static/map/indonesia.json,
// Natural Earth, offline), every placed site as a marker whose shape and colour say its state,
// wide-area links between sites; zoom (wheel, pinch, buttons, keys) and pan (drag, arrows).
// Plain canvas, no map library: the outlines are one Path2D drawn under a transform, and
// thousands of markers are one path per state, so a redraw stays a few milliseconds.

export const STATE_STYLE = { // shape and colour per state; the shape alone tells them apart
  jammed: { shape: "triangle", fill: "#ff6b6b" }, warning: { shape: "diamond", fill: "#f2c14e" },
  info: { shape: "circle", fill: "#6cb6ff" }, clear: { shape: "circle", fill: "#56d364" },
  offline: { shape: "square", fill: null, stroke: "#a3afbd" }, no_data: { shape: "ring", fill: null, stroke: "#8b949e" },
};
const DRAW_ORDER = ["no_data", "offline", "clear", "info", "warning", "jammed"]; // worst on top
const LINK_COLOUR = { critical: "#ff6b6b", warning: "#f2c14e", info: "#6cb6ff" };
const MAX_ZOOM = 80;

function arcPoints(arcs, index) { // TopoJSON: ~i is arc i reversed
  const a = arcs[index >= 0 ? index : ~index];
  if (index >= 0) return a;
  const r = new Array(a.length);
  for (let i = 0; i < a.length; i += 2) { r[a.length - 2 - i] = a[i]; r[a.length - 1 - i] = a[i + 1]; }
  return r;
}

/** Province rings as flat [lon, lat, ...] arrays with bounding boxes, for drawing and lookups. */
export function provinceRings(data) {
  return data.provinces.map((p) => ({
    name: p.name, tz: p.tz,
    rings: p.rings.map((ring) => {
      const pts = [];
      for (const a of ring) pts.push(...arcPoints(data.arcs, a));
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = 0; i < pts.length; i += 2) {
        x0 = Math.min(x0, pts[i]); x1 = Math.max(x1, pts[i]); y0 = Math.min(y0, pts[i + 1]); y1 = Math.max(y1, pts[i + 1]);
      }
      return { pts, box: [x0, y0, x1, y1] };
    }),
  }));
}

function inside(pts, x, y) { // even-odd ray casting
  let c = false;
  for (let i = 0, j = pts.length - 2; i < pts.length; j = i, i += 2) {
    const xi = pts[i], yi = pts[i + 1], xj = pts[j], yj = pts[j + 1];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** The IANA zone at (lon, lat): the province's, else by longitude (at sea, off the outlines). */
export function zoneAt(provinces, lon, lat) {
  for (const p of provinces) {
    if (!p.tz) continue;
    for (const r of p.rings) {
      const [x0, y0, x1, y1] = r.box;
      if (lon >= x0 && lon <= x1 && lat >= y0 && lat <= y1 && inside(r.pts, lon, lat)) return p.tz;
    }
  }
  return lon < 115 ? "Asia/Jakarta" : lon < 126 ? "Asia/Makassar" : "Asia/Jayapura";
}

function buildPaths(data, provinces) {
  const land = new Path2D(), coast = new Path2D(), borders = new Path2D();
  for (const p of provinces) for (const r of p.rings) {
    land.moveTo(r.pts[0], r.pts[1]);
    for (let i = 2; i < r.pts.length; i += 2) land.lineTo(r.pts[i], r.pts[i + 1]);
    land.closePath();
  }
  data.arcs.forEach((a, k) => {
    const path = data.arc_kind[k] === "coast" ? coast : borders;
    path.moveTo(a[0], a[1]);
    for (let i = 2; i < a.length; i += 2) path.lineTo(a[i], a[i + 1]);
  });
  return { land, coast, borders };
}

export class DeskMap {
  constructor(canvas, data, { onPick, onHover } = {}) {
    Object.assign(this, { canvas, data, onPick, onHover });
    this.provinces = provinceRings(data);
    this.paths = buildPaths(data, this.provinces);
    this.sites = []; this.links = []; this.selected = null; this.screen = []; this.byId = new Map();
    this.size = { w: canvas.clientWidth, h: canvas.clientHeight }; // kept by a ResizeObserver: reading
    new ResizeObserver(() => { this.size = { w: canvas.clientWidth, h: canvas.clientHeight }; this.draw(); }).observe(canvas);
    // layout sizes on every draw would force a synchronous layout of the whole page
    this.reset();
    this.wire();
  }

  /** sites: [{site, lon, lat, state}], links: [{a, b, severity}] (site ids). */
  setData(sites, links, selected) {
    this.sites = sites; this.links = links; this.selected = selected;
    this.byId = new Map(sites.map((x) => [x.site, x]));
    this.draw();
  }

  reset() {
    const [x0, y0, x1, y1] = this.data.bbox;
    this.view = { lon: (x0 + x1) / 2, lat: (y0 + y1) / 2, zoom: 1 };
  }

  baseScale() { // px per degree at zoom 1: the whole country fits
    const [x0, y0, x1, y1] = this.data.bbox;
    const w = this.size.w || 1, h = this.size.h || 1;
    return Math.min(w / (x1 - x0 + 1), h / (y1 - y0 + 1));
  }

  /** CSS pixel position of (lon, lat). */
  project(lon, lat) {
    const s = this.baseScale() * this.view.zoom;
    return [this.size.w / 2 + (lon - this.view.lon) * s, this.size.h / 2 - (lat - this.view.lat) * s];
  }

  zoomBy(factor, cx = this.size.w / 2, cy = this.size.h / 2) {
    const s0 = this.baseScale() * this.view.zoom;
    const lon = this.view.lon + (cx - this.size.w / 2) / s0, lat = this.view.lat - (cy - this.size.h / 2) / s0;
    this.view.zoom = Math.min(MAX_ZOOM, Math.max(1, this.view.zoom * factor));
    const s1 = this.baseScale() * this.view.zoom; // keep (lon, lat) under the pointer
    this.view.lon = lon - (cx - this.size.w / 2) / s1;
    this.view.lat = lat + (cy - this.size.h / 2) / s1;
    this.draw();
  }

  panBy(dx, dy) {
    const s = this.baseScale() * this.view.zoom;
    this.view.lon -= dx / s; this.view.lat += dy / s;
    this.draw();
  }

  draw() {
    const c = this.canvas, dpr = window.devicePixelRatio || 1;
    const W = Math.max(1, Math.round(this.size.w * dpr)), H = Math.max(1, Math.round(this.size.h * dpr));
    if (c.width !== W || c.height !== H) { c.width = W; c.height = H; }
    const ctx = c.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.baseLayer(W, H, dpr), 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.drawLinks(ctx);
    this.drawSites(ctx);
    if (this.overlay) this.overlay.draw(ctx, this); // e.g. jammer_marks.js: drawn over the markers
  }

  /** Sea, land and outlines for the current view, drawn once per view and size (filling the
   * country's outline is the costly part of a frame; markers change far more often). */
  baseLayer(W, H, dpr) {
    const key = `${W}x${H}@${dpr}:${this.view.lon},${this.view.lat},${this.view.zoom}`;
    if (this.base && this.base.key === key) return this.base.canvas;
    const canvas = this.base?.canvas || document.createElement("canvas");
    canvas.width = W; canvas.height = H;
    const ctx = canvas.getContext("2d"), c = this.canvas;
    ctx.fillStyle = "#0b1a2a"; ctx.fillRect(0, 0, W, H);
    const s = this.baseScale() * this.view.zoom;
    ctx.setTransform(s * dpr, 0, 0, -s * dpr, dpr * (this.size.w / 2 - this.view.lon * s), dpr * (this.size.h / 2 + this.view.lat * s));
    ctx.fillStyle = "#1f2a37"; ctx.fill(this.paths.land, "evenodd");
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#3b4a5c"; ctx.lineWidth = 0.6 / s; ctx.stroke(this.paths.borders);
    ctx.strokeStyle = "#6e7f94"; ctx.lineWidth = 1 / s; ctx.stroke(this.paths.coast);
    this.base = { key, canvas };
    return canvas;
  }

  drawLinks(ctx) {
    ctx.lineWidth = 2; ctx.setLineDash([6, 4]);
    for (const l of this.links) {
      const a = this.byId.get(l.a), b = this.byId.get(l.b);
      if (!a || !b || a.lon == null || b.lon == null) continue;
      const [ax, ay] = this.project(a.lon, a.lat), [bx, by] = this.project(b.lon, b.lat);
      ctx.strokeStyle = LINK_COLOUR[l.severity] || "#c9d1d9";
      ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  drawSites(ctx) {
    const w = this.size.w, h = this.size.h;
    const r = Math.max(3, Math.min(7, 2.5 + this.view.zoom * 0.6)); // grows as one zooms in
    const groups = new Map(DRAW_ORDER.map((k) => [k, new Path2D()]));
    this.screen = [];
    for (const site of this.sites) {
      if (site.lon == null) continue;
      const [x, y] = this.project(site.lon, site.lat);
      if (x < -10 || y < -10 || x > w + 10 || y > h + 10) continue;
      this.screen.push({ site: site.site, x, y });
      const g = groups.get(site.state) || groups.get("no_data");
      shape(g, STATE_STYLE[site.state]?.shape || "ring", x, y, site.state === "jammed" ? r + 1.5 : r);
    }
    for (const k of DRAW_ORDER) {
      const st = STATE_STYLE[k];
      if (st.fill) { ctx.fillStyle = st.fill; ctx.fill(groups.get(k)); ctx.strokeStyle = "#0d1117"; ctx.lineWidth = 1; ctx.stroke(groups.get(k)); }
      else { ctx.strokeStyle = st.stroke; ctx.lineWidth = 1.5; ctx.stroke(groups.get(k)); }
    }
    const sel = this.selected && this.screen.find((p) => p.site === this.selected);
    if (sel) { ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(sel.x, sel.y, r + 5, 0, 2 * Math.PI); ctx.stroke(); }
  }

  /** The site whose marker is nearest CSS pixel (x, y), within 12 px. */
  siteAt(x, y) {
    let best = null, bestD = 144;
    for (const p of this.screen) {
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d < bestD) { bestD = d; best = p.site; }
    }
    return best;
  }

  wire() {
    const c = this.canvas, pointers = new Map();
    let moved = 0, pinch = null;
    const local = (e) => { const b = c.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; };
    c.addEventListener("wheel", (e) => { e.preventDefault(); this.zoomBy(Math.exp(-e.deltaY * 0.0015), ...local(e)); }, { passive: false });
    c.addEventListener("pointerdown", (e) => { c.setPointerCapture(e.pointerId); pointers.set(e.pointerId, local(e)); moved = 0; pinch = null; });
    c.addEventListener("pointermove", (e) => {
      const p = local(e);
      if (!pointers.has(e.pointerId)) { if (this.onHover) this.onHover(this.siteAt(...p), p); return; }
      const prev = pointers.get(e.pointerId);
      pointers.set(e.pointerId, p);
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()], d = Math.hypot(a[0] - b[0], a[1] - b[1]);
        if (pinch) this.zoomBy(d / pinch, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
        pinch = d; moved += 10;
      } else {
        moved += Math.abs(p[0] - prev[0]) + Math.abs(p[1] - prev[1]);
        if (moved > 4) this.panBy(p[0] - prev[0], p[1] - prev[1]);
      }
    });
    const up = (e) => {
      if (pointers.size === 1 && moved <= 4 && this.onPick) this.onPick(this.siteAt(...local(e)));
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
    };
    c.addEventListener("pointerup", up);
    c.addEventListener("pointercancel", (e) => pointers.delete(e.pointerId));
    c.addEventListener("pointerleave", () => { if (this.onHover) this.onHover(null); });
    c.addEventListener("keydown", (e) => this.key(e));
  }

  key(e) {
    const step = 40, actions = {
      "+": () => this.zoomBy(1.5), "=": () => this.zoomBy(1.5), "-": () => this.zoomBy(1 / 1.5), "0": () => { this.reset(); this.draw(); },
      ArrowLeft: () => this.panBy(step, 0), ArrowRight: () => this.panBy(-step, 0), ArrowUp: () => this.panBy(0, step), ArrowDown: () => this.panBy(0, -step),
    };
    if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
  }
}

function shape(path, kind, x, y, r) {
  if (kind === "triangle") { path.moveTo(x, y - r * 1.2); path.lineTo(x + r * 1.1, y + r * 0.8); path.lineTo(x - r * 1.1, y + r * 0.8); path.closePath(); }
  else if (kind === "diamond") { path.moveTo(x, y - r * 1.2); path.lineTo(x + r, y); path.lineTo(x, y + r * 1.2); path.lineTo(x - r, y); path.closePath(); }
  else if (kind === "square") { path.rect(x - r * 0.8, y - r * 0.8, r * 1.6, r * 1.6); }
  else { path.moveTo(x + r, y); path.arc(x, y, r, 0, 2 * Math.PI); }
}
