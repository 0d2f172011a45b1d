"""The dashboard with 200 sites and 10,000 events (seeded through the API): time to first
render, to everything loaded, filter response and live-event latency, measured in the browser
with performance.now() and written to test-artifacts/e2e-metrics.json (reported, not asserted
as times: benchmarks are not tests)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from e2e_helpers import ARTIFACTS, ago, event, now_utc, record, start_desk, wait_until

N_SITES, PER_SITE = 200, 50
KINDS = ("wideband_noise", "tone", "swept", "pulsed", "new_emitter", "overload", "sensor_fault")
SEVERITIES = ("info", "warning", "critical")
BANDS = (("GSM-900 DL", 941.0e6), ("UHF PMR", 452.0e6), ("GNSS L1", 1574.4e6))


def seed(desk) -> None:
    """One POST of 50 events per site (a sensor token writes only for its own site), 4 at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with httpx.Client(base_url=desk.url + "/api/v1", timeout=60) as client, ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda item: seed_site(client, desk, *item), enumerate(desk.sensors)))


def seed_site(client: httpx.Client, desk, i: int, key: tuple[str, str]) -> None:
    site, sensor = key
    auth = {"Authorization": f"Bearer {desk.sensors[key]}"}
    if i % 4 == 0:
        client.post("/heartbeats", json={"drops_total": 0}, headers=auth).raise_for_status()
    batch = []
    for k in range(PER_SITE):
        n = i * PER_SITE + k
        band, f0 = BANDS[n % 3]
        start = ago(86_000 * (k + 1) / (PER_SITE + 1) + i)
        ongoing = k == 0 and i % 10 == 0  # 20 sites jammed now
        batch.append(event(site, sensor, start, end=None if ongoing else start + timedelta(seconds=5 + n % 50),
                           kind=KINDS[n % len(KINDS)], severity=SEVERITIES[(n // 7) % 3], band=band,
                           low_hz=f0 + (n % 10) * 1e5, high_hz=f0 + (n % 10) * 1e5 + 2e5))
    client.post("/events", json={"events": batch}, headers=auth).raise_for_status()




FILTER_JS = """async ([id, value]) => {
  const el = document.getElementById(id);
  const t0 = performance.now();
  if (el.type === 'checkbox') el.checked = value === 'on'; else el.value = value;
  el.dispatchEvent(new Event('change'));
  const sync = performance.now() - t0;
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return {sync_ms: sync, to_next_frame_ms: performance.now() - t0,
          rows: document.querySelectorAll('#feed-body tr[data-id]').length,
          count: document.getElementById('feed-count').textContent};
}"""


def test_200_sites_10k_events_stay_responsive(browser_page, tmp_path):
    page = browser_page
    sites = [(f"PS-{i:03d}", f"s{i:03d}") for i in range(N_SITES)]
    server, desk = start_desk(tmp_path, sites, status_check_s=1.0)
    try:
        t = time.monotonic()
        seed(desk)
        seed_s = time.monotonic() - t
        page.goto(desk.url + "/#token=" + desk.viewer)
        wait_until(page, f"window.__desk && window.__desk.metrics.loadedEvents >= {N_SITES * PER_SITE}",
                   timeout_ms=60_000)
        m = page.evaluate("window.__desk.metrics")
        assert page.locator(".site").count() == N_SITES
        assert page.locator(".site.sev-critical, .site.sev-warning, .site.sev-info").count() == 20
        filters = {}
        for name, (fid, value) in {"kind": ("f-kind", "tone"), "severity": ("f-severity", "critical"),
                                   "site": ("f-site", "PS-042"), "band": ("f-band", "UHF PMR"),
                                   "time_15min": ("f-time", "900"), "ongoing": ("f-ongoing", "on")}.items():
            filters[name] = page.evaluate(FILTER_JS, [fid, value])
            page.click("#f-clear")
        assert filters["site"]["rows"] == PER_SITE and filters["ongoing"]["rows"] == 20
        assert filters["kind"]["count"].endswith(f"of {N_SITES * PER_SITE}")
        # A live event while 10k are held.
        live = event(*sites[7], now_utc(), kind="tone", severity="critical")
        post_ms = time.time() * 1000
        desk.post(*sites[7], "/events", {"events": [live]})
        page.wait_for_selector(f'#feed-body tr[data-id="{live["id"]}"]', timeout=5000)
        latency_ms = page.evaluate(f"window.__desk.metrics.shownAt['{live['id']}']") - post_ms
        tick_ms = page.evaluate("window.__desk.metrics.lastRenderMs")
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : null")
        page.screenshot(path=str(ARTIFACTS / "dashboard-200-sites.png"))
    finally:
        page.goto("about:blank")
        server.__exit__()
    figures = {"sites": N_SITES, "events": N_SITES * PER_SITE, "seed_s": round(seed_s, 2),
               "first_render_ms": round(m["firstRenderMs"], 1), "all_loaded_ms": round(m["loadedMs"], 1),
               "full_render_ms": round(tick_ms, 1), "event_post_to_shown_ms": round(latency_ms, 1),
               "js_heap_mb": None if heap is None else round(heap / 1e6, 1),
               "filters": {k: {"sync_ms": round(v["sync_ms"], 1), "to_next_frame_ms": round(v["to_next_frame_ms"], 1),
                               "rows": v["rows"]} for k, v in filters.items()}}
    record("scale_200_sites_10k_events", figures)
    print(figures)
