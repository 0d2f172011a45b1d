"""The waterfall in the browser: labels of stacked boxes never overlap (each other or the
corner labels), and the colour scale shows a 3 dB rise (a pulsed jammer averaged over its
off-time) with more contrast than the previous linear scale, measured on the drawn pixels."""

from __future__ import annotations

from e2e_helpers import record, start_desk

CHECK_JS = """async () => {
  const { Waterfall, levelIndex, paletteColour } = await import('/static/js/waterfall.js');
  const wf = new Waterfall('S', 's', 'B', 180), now = Date.now(), bins = 200;
  for (let k = 0; k < 60; k++) {  // floor -62 dB with ±1 dB texture; bins 80-120 at +3 dB
    const p = []; for (let i = 0; i < bins; i++) p.push(-62 + Math.sin(i * 1.7 + k) + (i >= 80 && i < 120 ? 3 : 0));
    wf.add({ id: 'r' + k, time: new Date(now - (60 - k) * 3000).toISOString(), freq_start_hz: 1e6, freq_step_hz: 1e3, power_dbfs: p });
  }
  const canvas = document.createElement('canvas');
  canvas.cssSize = { w: 400, h: 200 };
  document.body.appendChild(canvas);
  const events = [];  // six pulsed bursts stacked in time at one frequency
  for (let k = 0; k < 6; k++) events.push({ id: 'e' + k, kind: 'pulsed', severity: 'warning', freq_low_hz: 1.08e6,
    freq_high_hz: 1.12e6, _s: now - (40 + 5 * k) * 1000, _e: now - (38 + 5 * k) * 1000, end: 'x' });
  wf.draw(canvas, now, events, null, { label: (e) => 'pulsed ' + e.id, top: 'now', bottom: '-3 min' });
  const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((a, c, i) => a + c * [0.2126, 0.7152, 0.0722][i], 0);
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const ctx = canvas.getContext('2d'), row = ctx.getImageData(0, 150, 400, 1).data;
  const mean = (x0, x1) => { const s = [0, 0, 0]; for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) s[c] += row[x * 4 + c]; return s.map((v) => v / (x1 - x0)); };
  const lin = (db) => paletteColour(Math.max(0, Math.min(255, Math.round((db + 68) * 255 / 36))));  // previous: floor-6 .. +30, linear
  return { labels: wf.labels, boxes: wf.boxes.length, drawn: contrast(mean(170, 230), mean(10, 70)),
           old: contrast(lin(-59), lin(-62)), steps: levelIndex(-59, -63, -43) - levelIndex(-62, -63, -43) };
}"""


def test_labels_never_overlap_and_a_3db_rise_stands_out(browser_page, tmp_path):
    page = browser_page
    server, desk = start_desk(tmp_path, [])
    try:
        page.goto(desk.url + "/")
        out = page.evaluate(CHECK_JS)
    finally:
        page.goto("about:blank")
        server.__exit__()
    labels = out["labels"]
    assert out["boxes"] == 6 and len(labels) == 6
    corners = [{"x": 330, "y": 0, "w": 70, "h": 14}, {"x": 330, "y": 186, "w": 70, "h": 14}]
    rects = labels + corners
    for i, a in enumerate(rects):
        assert 0 <= a["y"] and a["y"] + a["h"] <= 200.5
        for b in rects[i + 1:]:
            assert not (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"]
                        and b["y"] < a["y"] + a["h"]), (a, b)
    assert out["steps"] >= 2 * 255 * 3 / 36  # twice the palette steps the linear 36 dB scale gave 3 dB
    assert out["drawn"] >= 1.5 * out["old"], out
    record("waterfall_3db_rise", {"contrast_drawn": round(out["drawn"], 2), "contrast_previous_scale": round(out["old"], 2),
                                  "palette_steps": out["steps"]})
