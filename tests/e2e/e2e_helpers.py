"""Browser-test helpers: a real service on a free loopback port, seeding through the API,
headless Debian chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import json
import math
import re
import shutil
import socket
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from tests.service.service_helpers import ThreadServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CATALOGUES = {lang: json.loads((REPO / "service" / "static" / "i18n" / f"{lang}.json").read_text()) for lang in ("en", "id")}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> tuple[str | None, str]:
    """Path of Debian's chromium, installing it with scripts/install-chromium.sh if missing."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path, ""
    try:
        done = subprocess.run(["bash", str(REPO / "scripts" / "install-chromium.sh")], capture_output=True,
                              text=True, timeout=900)
        reason = (done.stdout.strip().splitlines() or ["no output"])[-1]
    except (OSError, subprocess.SubprocessError) as exc:
        reason = f"scripts/install-chromium.sh failed to run: {exc}"
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    return path, reason


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(site: str, sensor: str, start: datetime, *, end: datetime | None = None, kind: str = "wideband_noise",
          severity: str = "critical", band: str = "GSM-900 DL", low_hz: float = 941.4e6, high_hz: float = 943.0e6,
          rise_db: float = 12.0, event_id: str | None = None) -> dict:
    return {"id": event_id or str(uuid.uuid4()), "kind": kind, "start": iso(start), "end": None if end is None else iso(end),
            "offset_start_s": 0.0, "offset_end_s": None if end is None else (end - start).total_seconds(),
            "freq_low_hz": low_hz, "freq_high_hz": high_hz, "peak_dbfs": -21.5, "rise_db": rise_db,
            "severity": severity, "confidence": 0.93, "site": site, "sensor": sensor,
            "detector": {"version": "0.1.0", "config_hash": "e2e"}, "band": band}


def spectrum(t: datetime, jam: bool, band: str = "GSM-900 DL", bins: int = 256) -> dict:
    """A synthetic PSD summary: noise floor, two carriers, and a barrage over the middle when jammed."""
    f0, step = 941.0e6, 2.4e6 / bins
    level = []
    for k in range(bins):
        v = -62.0 + 1.5 * math.sin(k * 1.7 + t.second)  # floor with some texture
        if k in (40, 41, 200, 201):
            v = -38.0
        if jam and 40 <= k < 210:
            v = max(v, -50.0 + 0.8 * math.sin(k))
        level.append(round(v, 2))
    return {"id": str(uuid.uuid4()), "band": band, "time": iso(t), "freq_start_hz": f0, "freq_step_hz": step,
            "power_dbfs": level}


@dataclass
class LiveDesk:
    url: str
    viewer: str
    sensors: dict[tuple[str, str], str] = field(default_factory=dict)
    operator: str = ""

    def post(self, site: str, sensor: str, path: str, body: dict) -> httpx.Response:
        r = httpx.post(self.url + "/api/v1" + path, json=body, timeout=30,
                       headers={"Authorization": f"Bearer {self.sensors[(site, sensor)]}"})
        r.raise_for_status()
        return r


def start_desk(tmp_path: Path, sites: list[tuple[str, str]], **settings):
    """A service over a fresh SQLite file with a viewer token, an operator token (named "desk-e2e")
    and one sensor token per (site, sensor)."""
    from service.auth import create_token
    from service.db import Database

    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    db = Database(db_url)
    viewer = create_token(db, "viewer")[0]
    operator = create_token(db, "operator", label="desk-e2e")[0]
    sensors = {(s, x): create_token(db, "sensor", s, x)[0] for s, x in sites}
    db.dispose()
    server = ThreadServer(desk_app(db_url, **settings)).__enter__()
    return server, LiveDesk(url=f"http://127.0.0.1:{server.port}", viewer=viewer, sensors=sensors, operator=operator)


def desk_app(db_url: str, **settings):
    from service.app import create_app
    from service.settings import Settings

    return create_app(Settings(db_url=db_url, sqlite_synchronous="NORMAL", **settings))


class PortServer(ThreadServer):
    """A ThreadServer on a given loopback port (to bring a stopped desk back where it was)."""

    def __init__(self, app, port: int) -> None:
        super().__init__(app)
        self.sock.close()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = port
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)


def write_registry(path: Path, rows: list[dict]) -> Path:
    """A site registry CSV (service/site_registry.py) with the given rows."""
    import csv

    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["site", "name", "lat_deg", "lon_deg", "tz", "report_interval_s"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def viewport_ok(page) -> dict:
    """Horizontal overflow of the page (px, 0 when none) and the widest element sticking out."""
    return page.evaluate("""() => {
      const w = document.documentElement.clientWidth;
      let worst = null;
      for (const el of document.querySelectorAll('body *')) {
        if (!el.checkVisibility || !el.checkVisibility()) continue;
        const r = el.getBoundingClientRect();
        if (r.right > w + 0.5 && (!worst || r.right > worst.right)) worst = {right: r.right, tag: el.tagName, cls: el.className, id: el.id};
      }
      return {overflow: document.documentElement.scrollWidth - w, worst};
    }""")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def ago(seconds: float) -> datetime:
    return now_utc() - timedelta(seconds=seconds)


def record(name: str, figures: dict) -> None:
    """Merge measured figures into test-artifacts/e2e-metrics.json (read by people, not asserted)."""
    import fcntl
    import os

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "e2e-metrics.json"
    # tests may run in parallel processes: one merge at a time, and readers never see half a file
    with open(ARTIFACTS / ".e2e-metrics.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[name] = figures
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(partial, path)


def show_events(page) -> None:
    """Switch the desk's main list from incidents (the default) to the event feed."""
    page.wait_for_selector("#tab-events")
    page.click("#tab-events")
    page.wait_for_selector("#events-panel:not([hidden])")


def wait_until(page, expression: str, timeout_ms: float = 30_000, every_s: float = 0.05) -> None:
    """Poll a JavaScript expression until it is truthy.

    Not ``page.wait_for_function``: that evaluates its string inside the page, which the desk's
    Content-Security-Policy (no ``unsafe-eval``) forbids; ``page.evaluate`` runs through the
    DevTools protocol, outside the page's policy.
    """
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout_ms / 1000:.0f} s: {expression}")
        page.wait_for_timeout(every_s * 1000)


def visible_texts(page) -> list[str]:
    """Every visible text node's text and every option label, trimmed."""
    return page.evaluate("""() => {
      const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement, s = n.textContent.trim();
        if (s && el && el.checkVisibility() && el.tagName !== 'OPTION') out.push(s);
      }
      for (const o of document.querySelectorAll('select option')) out.push(o.textContent.trim());
      for (const el of document.querySelectorAll('[aria-label], [title]')) {
        if (el.checkVisibility()) out.push((el.getAttribute('aria-label') || el.getAttribute('title')).trim());
      }
      return out.filter(Boolean);
    }""")


def english_only_patterns() -> list[tuple[str, re.Pattern]]:
    """The English messages (each plural form) that differ from their Indonesian, as patterns
    that match a whole string with any values in the placeholders."""
    out = []
    for key, en in CATALOGUES["en"].items():
        if key.startswith("_"):
            continue
        ids = CATALOGUES["id"][key]
        en_forms = en.values() if isinstance(en, dict) else [en]
        id_forms = set(ids.values() if isinstance(ids, dict) else [ids])
        for form in en_forms:
            if form in id_forms:
                continue
            if not re.search(r"[A-Za-z]{3}", re.sub(r"\{\w+\}", "", form)):
                continue  # units only ("{v} MHz")
            parts = re.split(r"\{\w+\}", form)
            out.append((key, re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$")))
    return out
