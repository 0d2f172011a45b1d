"""``spectrum demo``: the whole desk on one machine, no hardware.

A service on a temporary SQLite database (in this process, uvicorn in a thread) and three
simulated sensors, each a ``spectrum monitor --source sim:... --uplink`` subprocess with its
own sensor token, at three sites:

- a polling station whose GSM-900 downlink is hit by a barrage jammer that stays on, from
  ``jam_after_s`` seconds;
- a polling station on UHF PMR radios hit by a pulsed jammer (on 4 s in every 10 s) from
  ``pulsed_after_s`` seconds;
- a counting centre that stays clean (a busy GSM-900 downlink).

The viewer token travels in the dashboard URL's fragment (``#token=...``), which browsers never
send to the server; the page moves it into its session storage and clears the address bar.
Sensor tokens go to the monitors through their environment, not their command lines.
Everything lives in one temporary directory, removed at the end.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from spectrum.errors import ConfigError


@dataclass(frozen=True)
class DemoSensor:
    """One simulated sensor of the demo."""

    site: str
    sensor: str
    band: str
    source: str
    story: str


def demo_sensors(jam_after_s: float, pulsed_after_s: float) -> list[DemoSensor]:
    """The demo's three sensors (the jammed scenes switch on at the given session seconds)."""
    return [
        DemoSensor("PS-014 Riverside School", "gsm-1", "GSM-900 DL",
                   f"sim:barrage_wide?clean={jam_after_s:g}&hold",
                   f"barrage jammer from ~{jam_after_s:g} s, stays on"),
        DemoSensor("PS-027 Town Hall", "pmr-1", "UHF PMR",
                   f"sim:pulsed_50pct?clean={pulsed_after_s:g}",
                   f"pulsed jammer from ~{pulsed_after_s:g} s, 4 s on in every 10 s"),
        DemoSensor("CC-003 Counting Centre", "gsm-2", "GSM-900 DL", "sim:clean_busy?loop=5", "clean"),
    ]


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        if port == 0:
            raise
        sock.bind(("127.0.0.1", 0))  # busy: any free port (the URL printed says which)
    sock.listen(128)
    return sock


class _Server:
    """uvicorn serving ``app`` in a thread on an already-bound loopback socket."""

    def __init__(self, app, sock: socket.socket) -> None:
        import uvicorn

        self.sock = sock
        config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2,
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True,
                                       name="spectrum-demo-server")

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the demo's service did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def _relay(stream, prefix: str, out: TextIO, lock: threading.Lock) -> None:
    """Copy a monitor's event lines to ``out``, each prefixed with its site."""
    for line in iter(stream.readline, ""):
        with lock:
            out.write(f"[{prefix}] {line}")
            out.flush()
    stream.close()


def run_demo(seconds: float | None = None, port: int = 8000, jam_after_s: float = 20.0,
             pulsed_after_s: float = 60.0, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
             stop: threading.Event | None = None, keep_dir: Path | None = None) -> dict:
    """Run the demo until ``stop`` is set or ``seconds`` pass; clean up; return a summary.

    Parameters
    ----------
    seconds : float, optional
        Run this long (wall seconds); None runs until ``stop`` (Ctrl-C in the CLI).
    port : int
        Loopback port of the service; a busy port falls back to a free one (0: any free one).
    jam_after_s, pulsed_after_s : float
        Session seconds at which the barrage and the pulsed jammers first switch on (at least
        4 s: the scenes' clean opening, during which the detectors learn their baselines).
    out, err : text streams
        The dashboard URL and the sensors' event lines go to ``out``; progress to ``err``.
    stop : threading.Event, optional
        Set it to end the demo early.
    keep_dir : Path, optional
        Work here and keep it (tests); by default a temporary directory, removed at the end.

    Returns
    -------
    dict
        ``url`` (without the token), ``events`` and ``spectra`` stored, ``events_by_site``,
        ``incidents`` (site, state, since, last_activity, bursts, kinds, duty, severity; oldest first),
        ``sensors_heard`` (sent a heartbeat), ``sensors``,
        ``wall_s``, ``cpu_s`` (this process and its sensors), ``exit_codes`` of the sensors.

    Raises
    ------
    ConfigError
        A bad duration or jammer time.
    """
    if seconds is not None and not seconds > 0:
        raise ConfigError(f"--seconds {seconds}: must be a positive number of seconds")
    for name, value in (("--jam-after", jam_after_s), ("--pulsed-after", pulsed_after_s)):
        if not 4.0 <= value <= 86_400:
            raise ConfigError(f"{name} {value}: must be between 4 s (after the baseline is learned) and a day")
    stop = stop or threading.Event()
    wall0, cpu0 = time.monotonic(), time.process_time()
    work = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="spectrum-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    procs: list[tuple[DemoSensor, subprocess.Popen]] = []
    relays: list[threading.Thread] = []
    server = None
    summary: dict = {}
    try:
        from service.app import create_app
        from service.auth import create_token
        from service.db import Database
        from service.settings import Settings

        db_url = f"sqlite:///{work / 'desk.db'}"
        sensors = demo_sensors(jam_after_s, pulsed_after_s)
        db = Database(db_url)
        viewer, _ = create_token(db, "viewer", label="spectrum demo viewer")
        secrets = {s.sensor: create_token(db, "sensor", s.site, s.sensor, label="spectrum demo")[0] for s in sensors}
        db.dispose()
        settings = Settings(db_url=db_url, sqlite_synchronous="NORMAL", status_check_s=2.0, online_s=15.0,
                            stale_s=60.0)
        app = create_app(settings)
        server = _Server(app, _bind(port))
        server.start()
        base = f"http://127.0.0.1:{server.sock.getsockname()[1]}"
        summary["url"] = base + "/"
        out.write(f"spectrum demo: dashboard at {base}/#token={viewer}\n")
        out.flush()
        lock = threading.Lock()
        env = dict(os.environ)
        env.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "spectrum-numba-cache"))
        for s in sensors:
            print(f"spectrum demo: sensor {s.sensor} at {s.site} ({s.band}): {s.story}", file=err)
            cmd = [sys.executable, "-m", "spectrum", "monitor", "--source", s.source, "--site", s.site,
                   "--sensor", s.sensor, "--band", s.band, "--uplink", base, "--queue", str(work / f"{s.sensor}.db"),
                   "--status-interval", "30", "--flush-timeout", "5"]
            log = open(work / f"{s.sensor}.log", "wb")
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True,
                                    env=dict(env, SPECTRUM_TOKEN=secrets[s.sensor]), start_new_session=True)
            log.close()
            procs.append((s, proc))
            t = threading.Thread(target=_relay, args=(proc.stdout, s.site, out, lock), daemon=True)
            t.start()
            relays.append(t)
        limit = "until Ctrl-C" if seconds is None else f"for {seconds:g} s (Ctrl-C stops sooner)"
        print(f"spectrum demo: running {limit}; open the URL above in a browser", file=err)
        deadline = None if seconds is None else time.monotonic() + seconds
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            dead = [(s, p) for s, p in procs if p.poll() is not None]
            if dead:
                s, p = dead[0]
                tail = (work / f"{s.sensor}.log").read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"sensor {s.sensor} stopped (exit {p.returncode}): {' / '.join(tail)}")
            stop.wait(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
        print("spectrum demo: stopping the sensors (they deliver what they queued)", file=err)
    finally:
        codes = _stop_sensors(procs)
        for t in relays:
            t.join(2)
        if server is not None:
            try:
                summary.update(_desk_summary(base, viewer))
            except Exception:  # the summary is a courtesy; never fail the clean-up for it
                pass
            server.stop()
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary.update(sensors=len(procs), exit_codes=codes, wall_s=round(time.monotonic() - wall0, 1),
                       cpu_s=round(time.process_time() - cpu0 + child.ru_utime + child.ru_stime, 1),
                       work_dir=str(work))
        if keep_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return summary


def _stop_sensors(procs: list[tuple[DemoSensor, subprocess.Popen]]) -> list[int | None]:
    """SIGINT each monitor once (it closes its events and flushes its queue), then wait."""
    for _, p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 15
    codes = []
    for _, p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        codes.append(p.returncode)
    return codes


SPECTRA_COUNTED = 2000


def _desk_summary(base: str, viewer_token: str) -> dict:
    """What the desk holds at the end, asked over its API like any client would."""
    import httpx

    api = f"{base}/api/v1"
    with httpx.Client(headers={"Authorization": f"Bearer {viewer_token}"}, timeout=10) as client:
        by_site: dict[str, int] = {}
        cursor = None
        while True:
            page = client.get(f"{api}/events", params={"limit": 1000, **({"cursor": cursor} if cursor else {})})
            page.raise_for_status()
            body = page.json()
            for event in body["events"]:
                by_site[event["site"]] = by_site.get(event["site"], 0) + 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        spectra = client.get(f"{api}/spectra", params={"limit": SPECTRA_COUNTED})
        spectra.raise_for_status()
        sensors = client.get(f"{api}/sensors")
        sensors.raise_for_status()
        incidents = client.get(f"{api}/incidents", params={"limit": 1000, "wide_area": "each"})
        incidents.raise_for_status()
    return {
        "incidents": [{k: i[k] for k in ("site", "state", "since", "last_activity", "bursts", "kinds", "duty",
                                         "severity")} for i in reversed(incidents.json()["incidents"])],
        "events": sum(by_site.values()),
        "events_by_site": by_site,
        "spectra": len(spectra.json()["spectra"]),  # at most SPECTRA_COUNTED (the API's page)
        "sensors_heard": sorted(s["sensor"] for s in sensors.json()["sensors"] if s["last_seen"]),
    }
