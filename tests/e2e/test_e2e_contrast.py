"""Contrast AA audit: every visible piece of text on the desk (the login form, the incident list
and its detail with the operator's form and an error, the event list and its detail) is measured
against its effective background (the element's and its ancestors' background colours composited),
on the phone, tablet and desk layouts (the desk has one, dark, theme). WCAG 2.x: at least 4.5:1, or 3:1 for large text (24 px, or
18.66 px bold). Text drawn on canvases (map, waterfalls) is outside this audit."""

from __future__ import annotations

import pytest

from e2e_helpers import ARTIFACTS, ago, event, now_utc, show_events, start_desk, wait_until

SITES = [("PS-014", "gsm-1"), ("PS-027", "pmr-1"), ("CC-003", "gsm-2")]

AUDIT_JS = """() => {
  const rgba = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => { // top composited over an opaque colour
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let acc = [255, 255, 255, 1]; // the canvas, when nothing is opaque
    for (const c of layers.reverse()) acc = over(c, acc);
    return acc;
  };
  const texts = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (n.textContent.trim() && el && !el.closest('svg, option, noscript, script')) texts.add(el);
  }
  for (const el of document.querySelectorAll('select, input[type=text], textarea')) if (el.value) texts.add(el);
  const out = [];
  let checked = 0;
  for (const el of texts) {
    if (!el.checkVisibility({ checkOpacity: true, visibilityProperty: true }) || el.closest('[hidden]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || el.disabled) continue; // screen-reader-only text, disabled controls
    const cs = getComputedStyle(el), bg = background(el), fg = over(rgba(cs.color), bg);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const px = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
    const need = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
    checked++;
    if (ratio < need) {
      out.push({ text: (el.value || el.textContent).trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100, need,
                 fg: cs.color, bg: `rgb(${bg.slice(0, 3).map(Math.round).join(', ')})`,
                 where: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') });
    }
  }
  return { checked, failures: out };
}"""


@pytest.fixture
def desk(tmp_path):
    """A fresh desk per test: each one acknowledges its critical incident."""
    server, live = start_desk(tmp_path, SITES, status_check_s=0.5)
    for site, sensor in SITES[:2]:
        live.post(site, sensor, "/heartbeats", {"drops_total": 0})
    events = [event(*SITES[0], ago(60)),
              event(*SITES[1], ago(400), end=ago(390), kind="pulsed", severity="warning", band="UHF PMR",
                    low_hz=452.5e6, high_hz=453.5e6),
              event(*SITES[2], ago(200), end=ago(150), kind="new_emitter", severity="info", low_hz=942.0e6, high_hz=942.2e6)]
    for ev in events:
        live.post(ev["site"], ev["sensor"], "/events", {"events": [ev]})
    yield live
    server.__exit__()


def audit(page, what: str, settle_ms: int = 300) -> list[dict]:
    page.wait_for_timeout(settle_ms)
    result = page.evaluate(AUDIT_JS)
    assert result["checked"] > 5, f"{what}: hardly any text found ({result['checked']})"
    return [{**f, "view": what} for f in result["failures"]]


@pytest.mark.parametrize("width, height", [(390, 844), (768, 1024), (1440, 900)])
def test_every_visible_text_meets_contrast_aa(desk, open_page, width, height):
    page = open_page(width, height)
    failures = []
    page.goto(desk.url + "/")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#token-input", "not-a-token")
    page.click("#login button[type=submit]")
    wait_until(page, "document.querySelector('#login-error').textContent.length > 0")
    failures += audit(page, "login with an error")

    page.goto(desk.url + "/#token=" + desk.operator)
    page.wait_for_selector("#incidents .inc.attention")
    wait_until(page, "window.__desk.state.loaded")
    failures += audit(page, "incident list")
    page.click("#incidents .inc.attention")
    page.wait_for_selector("#incident:not([hidden]) .timeline")
    page.click("#act-resolve button[type=submit]")  # no outcome: the error line shows
    wait_until(page, "document.querySelector('#inc-msg').classList.contains('error')")
    page.fill("#act-team", "Tim Bravo")
    failures += audit(page, "incident detail with an error")
    page.click("#act-ack")
    wait_until(page, "document.querySelector('#inc-msg').classList.contains('ok')")
    failures += audit(page, "incident detail acknowledged")
    page.keyboard.press("Escape")
    page.wait_for_selector("#incident", state="hidden")
    failures += audit(page, "incident list, acknowledged")

    show_events(page)
    page.wait_for_selector("#feed .ev[data-id]")
    failures += audit(page, "event list")
    # a new event flashes its row: the text stays readable on the flash's first frames too
    live = event(*SITES[2], now_utc(), kind="tone", severity="critical")
    desk.post(*SITES[2], "/events", {"events": [live]})
    page.wait_for_selector(f'#feed .ev.fresh[data-id="{live["id"]}"]', timeout=15_000)
    failures += audit(page, "event list, a new row flashing", settle_ms=0)
    page.locator("#feed .ev").first.click()
    page.wait_for_selector("#detail:not([hidden])")
    failures += audit(page, "event detail")
    page.screenshot(path=str(ARTIFACTS / f"contrast-{width}x{height}.png"))
    # the service unreachable: banner, greyed counts, stale durations
    page.context.set_offline(True)
    page.wait_for_selector("#outage:not([hidden])", timeout=15_000)
    failures += audit(page, "outage")
    page.context.set_offline(False)
    assert not failures, f"{len(failures)} texts below WCAG AA at {width}px: {failures[:12]}"


def test_the_audit_sees_low_contrast(desk, open_page):
    """The checker itself: grey on grey, and a colour that passes only as large text."""
    page = open_page(800, 600)
    page.goto(desk.url + "/")
    page.wait_for_selector("#login:not([hidden])")
    page.evaluate("""() => {
      const p = document.querySelector('#login p');
      p.textContent = 'grey on grey';
      p.style.cssText = 'color: #777; background: #555';  // set through the DOM, not the page's own markup
      const h = document.querySelector('#login h1');
      h.style.cssText = 'color: #6b7079; font-size: 28px';  // about 3.5:1 on the login panel: large text passes
    }""")
    found = {f["text"]: f for f in audit(page, "planted")}
    assert "grey on grey" in found and found["grey on grey"]["need"] == 4.5
    assert not any(f["where"].startswith("h1") for f in found.values())
    page.evaluate("document.querySelector('#login h1').style.fontSize = '16px'")
    assert any(f["where"].startswith("h1") for f in audit(page, "planted small"))
