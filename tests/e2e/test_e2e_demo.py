"""`spectrum demo` end to end: open the URL it prints, see a jamming event arrive live with its
site turning red and a live waterfall, screenshot, then Ctrl-C: exit 0, files removed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from e2e_helpers import ARTIFACTS, REPO, record, wait_until


def test_demo_event_arrives_live_in_the_browser(browser_page):
    page = browser_page
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "spectrum", "demo", "--seconds", "120", "--port", "0",
                             "--jam-after", "6", "--pulsed-after", "6"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/)#token=(\S+)", line)
        assert match, line
        page.goto(match.group(0))
        page.wait_for_selector("#desk:not([hidden])")
        assert "token" not in page.url
        t_open = time.monotonic()
        # a jamming event, delivered by the live stream (not the initial load), with its site red
        wait_until(page, "Object.keys(window.__desk.metrics.shownAt).length > 0", timeout_ms=60_000)
        page.wait_for_selector(".site.st-jammed", timeout=10_000)
        first_event_s = time.monotonic() - t_open
        page.wait_for_selector(".wf canvas", timeout=20_000)
        page.wait_for_timeout(4000)  # a few more waterfall rows under the event box
        page.screenshot(path=str(ARTIFACTS / "demo.png"))
        sites = page.eval_on_selector_all(".site", "els => els.map(e => e.dataset.site)")
        assert len(sites) == 3
        page.goto("about:blank")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert "temporary files removed" in err
    work = re.search(r"CPU ([\d.]+) s \((\d+)% of one core", err)
    record("demo", {"page_open_to_first_live_event_s": round(first_event_s, 1),
                    "demo_cpu_s": float(work.group(1)) if work else None,
                    "demo_cpu_percent_of_one_core": int(work.group(2)) if work else None})
