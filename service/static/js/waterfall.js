// A waterfall per (site, sensor, band) from the sensors' PSD summaries: frequency across,
// time down (newest on top), an inferno-like colour scale; event boxes drawn over it, their
// labels placed so that they never overlap.
//
// Colour scale: a summary averages a pulsed jammer with its off-time, so it may stand only a
// few dB over the floor. The scale runs from 1 dB under the floor (the first row's median) to
// 19 dB over it through a square-root curve: a 3 dB rise lands near the middle of the palette
// (the previous linear 36 dB scale moved it a twelfth), so it stands out like its box.

const STOPS = [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21],
  [250, 193, 39], [252, 255, 164]];
const LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (STOPS.length - 1), k = Math.min(STOPS.length - 2, Math.floor(x)), t = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = STOPS[k][c] + (STOPS[k + 1][c] - STOPS[k][c]) * t;
  }
  return lut;
})();
const SEV_COLOUR = { critical: "#ff6b6b", warning: "#f2c14e", info: "#6cb6ff" };
const MAX_ROWS = 512;
const BELOW_DB = 1, ABOVE_DB = 19, GAMMA = 0.5;
const LEVELS = (() => { // palette index for each 1/1024 of the dB range, through the curve
  const out = new Uint8Array(1025);
  for (let i = 0; i <= 1024; i++) out[i] = Math.round(255 * (i / 1024) ** GAMMA);
  return out;
})();

/** Palette index (0–255) of a level ``db`` over a scale from ``lo`` to ``hi`` dB. */
export function levelIndex(db, lo, hi) {
  const x = Math.max(0, Math.min(1024, Math.round(((db - lo) / (hi - lo)) * 1024)));
  return LEVELS[x];
}

/** Put each label (w, h) at its preferred y or the nearest free place below (then above), never
 * on another: [{x, y, w, h}], placed in the order given. */
export function placeLabels(wanted, H) {
  const placed = [];
  const hits = (r) => placed.some((p) => r.x < p.x + p.w && p.x < r.x + r.w && r.y < p.y + p.h && p.y < r.y + r.h);
  for (const want of wanted) {
    let spot = null;
    for (let k = 0; k * want.h <= H * 2 && !spot; k++) {
      for (const y of [want.y + k * want.h, want.y - k * want.h]) {
        const r = { ...want, y };
        if (y >= 0 && y + want.h <= H && !hits(r)) { spot = r; break; }
      }
    }
    placed.push(spot || { ...want, hidden: true, w: 0, h: 0 });
  }
  return placed;
}

/** The palette's [r, g, b] at index 0–255. */
export function paletteColour(i) { return [LUT[i * 3], LUT[i * 3 + 1], LUT[i * 3 + 2]]; }

export function keyOf(sp) { return `${sp.site}\u0000${sp.sensor}\u0000${sp.band}`; }

export class Waterfall {
  /** @param spanS seconds shown top to bottom */
  constructor(site, sensor, band, spanS = 180) {
    Object.assign(this, { site, sensor, band, spanS });
    this.rows = []; // {t, slot} oldest first
    this.ids = new Set();
    this.next = 0;
    this.off = null; // offscreen canvas: one line per row (ring of MAX_ROWS)
    this.bins = 0;
    this.lo = null; this.hi = null;
    this.f0 = 0; this.df = 1;
    this.boxes = [];
  }

  get fLow() { return this.f0 - this.df / 2; }
  get fHigh() { return this.f0 + (this.bins - 0.5) * this.df; }
  get lastT() { return this.rows.length ? this.rows[this.rows.length - 1].t : 0; }

  add(sp) {
    if (this.ids.has(sp.id)) return false;
    const p = sp.power_dbfs, n = p.length;
    if (!this.off || n !== this.bins || Math.abs(sp.freq_start_hz - this.f0) > 1 || Math.abs(sp.freq_step_hz - this.df) > 1e-3) {
      this.off = document.createElement("canvas");
      this.off.width = n; this.off.height = MAX_ROWS;
      this.bins = n; this.f0 = sp.freq_start_hz; this.df = sp.freq_step_hz;
      this.rows = []; this.ids = new Set(); this.next = 0; this.lo = null;
    }
    if (this.lo === null) { // scale from the first row's floor (its median); see the module notes
      const sorted = Float64Array.from(p).sort();
      this.lo = sorted[Math.floor(n / 2)] - BELOW_DB; this.hi = this.lo + BELOW_DB + ABOVE_DB;
    }
    const img = new ImageData(n, 1), d = img.data;
    for (let i = 0; i < n; i++) {
      const v = levelIndex(p[i], this.lo, this.hi) * 3;
      d[i * 4] = LUT[v]; d[i * 4 + 1] = LUT[v + 1]; d[i * 4 + 2] = LUT[v + 2]; d[i * 4 + 3] = 255;
    }
    const slot = this.next++ % MAX_ROWS;
    this.off.getContext("2d").putImageData(img, 0, slot);
    const row = { t: Date.parse(sp.time), slot, id: sp.id };
    let i = this.rows.length; // keep time order (rows usually arrive in order)
    while (i > 0 && this.rows[i - 1].t > row.t) i--;
    this.rows.splice(i, 0, row);
    this.ids.add(sp.id);
    while (this.rows.length > MAX_ROWS - 1) this.ids.delete(this.rows.shift().id);
    return true;
  }

  /** Draw into ``canvas`` at ``nowMs``; ``events`` are this sensor's events (boxes);
   * ``text`` = {label(ev), top, bottom}: the words drawn (translated by the caller). */
  draw(canvas, nowMs, events, selectedId, text) {
    const dpr = window.devicePixelRatio || 1;
    const size = canvas.cssSize || { w: canvas.clientWidth, h: canvas.clientHeight }; // cssSize: kept by the caller's ResizeObserver
    const W = Math.max(1, Math.round(size.w * dpr)), H = Math.max(1, Math.round(size.h * dpr));
    if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
    const ctx = canvas.getContext("2d");
    const yOf = (t) => ((nowMs - t) / (this.spanS * 1000)) * H;
    this.drawRows(ctx, W, H, yOf);
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    const wanted = this.drawBoxes(ctx, W, H, dpr, yOf, nowMs, events, selectedId, text);
    this.drawLabels(ctx, W, H, dpr, wanted, text);
  }

  drawRows(ctx, W, H, yOf) {
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = false;
    const rows = this.rows;
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i];
      const prevT = i > 0 ? Math.max(rows[i - 1].t, r.t - 10000) : r.t - 2000;
      const y0 = yOf(r.t), y1 = yOf(prevT);
      if (y0 > H) break;
      ctx.drawImage(this.off, 0, r.slot, this.bins, 1, 0, Math.floor(y0), W, Math.max(1, Math.ceil(y1 - y0)));
    }
  }

  /** Event boxes; returns the labels they want, [{x, y, w, h, label, colour}]. */
  drawBoxes(ctx, W, H, dpr, yOf, nowMs, events, selectedId, text) {
    const xOf = (f) => ((f - this.fLow) / (this.fHigh - this.fLow)) * W;
    this.boxes = [];
    const wanted = [];
    for (const ev of events) {
      if (ev.freq_high_hz < this.fLow || ev.freq_low_hz > this.fHigh) continue;
      const yTop = Math.max(0, yOf(ev._e ?? nowMs)), yBot = Math.min(H, yOf(ev._s));
      if (yTop >= H || yBot <= 0) continue;
      const x0 = Math.max(0, xOf(ev.freq_low_hz)), x1 = Math.min(W, xOf(ev.freq_high_hz));
      const colour = SEV_COLOUR[ev.severity] || "#fff";
      ctx.lineWidth = (ev.id === selectedId ? 3 : 1.5) * dpr;
      ctx.strokeStyle = colour;
      ctx.setLineDash(ev.end ? [4 * dpr, 3 * dpr] : []);
      ctx.strokeRect(x0 + 1, yTop + 1, Math.max(3, x1 - x0 - 2), Math.max(3, yBot - yTop - 2));
      ctx.setLineDash([]);
      const label = text.label(ev), w = ctx.measureText(label).width + 6 * dpr;
      wanted.push({ x: Math.min(Math.max(0, x0 + 2), W - w), y: Math.min(H - 14 * dpr, yTop + 2), w, h: 14 * dpr, label, colour });
      this.boxes.push({ ev, x0: x0 / dpr, x1: x1 / dpr, y0: yTop / dpr, y1: yBot / dpr });
    }
    return wanted;
  }

  /** Box labels where they do not overlap each other or the corner labels (kept in ``this.labels``). */
  drawLabels(ctx, W, H, dpr, wanted, text) {
    const corner = [{ x: W - 70 * dpr, y: 0, w: 70 * dpr, h: 14 * dpr }, { x: W - 70 * dpr, y: H - 14 * dpr, w: 70 * dpr, h: 14 * dpr }];
    const placed = placeLabels([...corner, ...wanted], H).slice(2);
    this.labels = placed.filter((r) => !r.hidden).map((r) => ({ x: r.x / dpr, y: r.y / dpr, w: r.w / dpr, h: r.h / dpr }));
    placed.forEach((r, k) => {
      if (r.hidden) return;
      ctx.fillStyle = "rgba(0,0,0,.75)"; ctx.fillRect(r.x, r.y, r.w, r.h);
      ctx.fillStyle = wanted[k].colour; ctx.fillText(wanted[k].label, r.x + 3 * dpr, r.y + 1.5 * dpr);
    });
    ctx.fillStyle = "rgba(0,0,0,.6)";
    for (const c of corner) ctx.fillRect(c.x, c.y, c.w, c.h);
    ctx.fillStyle = "#c9d1d9"; ctx.textAlign = "right";
    ctx.fillText(text.top, W - 4 * dpr, 1.5 * dpr);
    ctx.fillText(text.bottom, W - 4 * dpr, H - 12.5 * dpr);
    ctx.textAlign = "left";
  }

  /** The event whose box is under CSS pixel (x, y), if any. */
  hit(x, y) {
    for (let i = this.boxes.length - 1; i >= 0; i--) {
      const b = this.boxes[i];
      if (x >= b.x0 - 3 && x <= b.x1 + 3 && y >= b.y0 - 3 && y <= b.y1 + 3) return b.ev;
    }
    return null;
  }
}
