"""Fetch this sensor's campaign from the desk (conditional requests) and keep a copy on disk.

``GET /api/v1/campaigns/assigned`` with the sensor's token answers the campaign (and an
``ETag``), 304 when it is unchanged since the tag sent in ``If-None-Match``, or 404 when no
campaign applies. The last campaign received is written (atomically) to ``disk_path``, next to
the uplink queue, so a sensor started while the desk is unreachable runs it, and says so
(``origin`` is ``"disk"`` until the desk answers again).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import httpx

from spectrum.errors import ConfigError

log = logging.getLogger("spectrum.live.campaign_client")
ASSIGNED_PATH = "/api/v1/campaigns/assigned"


def disk_path_for(queue_path: str | Path) -> Path:
    """Where the campaign copy lives for an uplink queue: ``spectrum-uplink.campaign.json``."""
    queue_path = Path(queue_path)
    return queue_path.with_name(queue_path.stem + ".campaign.json")


class CampaignClient:
    """The campaign assigned to this sensor, as last heard from the desk or read from disk.

    Parameters
    ----------
    url : str
        The service, e.g. ``http://127.0.0.1:8000``.
    token : str
        The sensor's token.
    disk_path : path
        The campaign copy (read at start, written on every change).
    timeout_s : float
        Per request, seconds.
    transport : httpx.BaseTransport, optional
        For tests.

    Attributes
    ----------
    campaign : dict or None
        The campaign to run (None: none assigned, or none known yet).
    origin : str or None
        ``"desk"`` (the desk answered the last request) or ``"disk"`` (it did not; the copy runs).
    problem : str or None
        Why the last request failed.
    """

    def __init__(self, url: str, token: str, disk_path: str | Path, timeout_s: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        base = url.rstrip("/").removesuffix("/api/v1")
        self.disk_path = Path(disk_path)
        self._client = httpx.Client(base_url=base, timeout=timeout_s, transport=transport,
                                    headers={"Authorization": f"Bearer {token}"})
        self._lock = threading.Lock()
        self.campaign: dict | None = None
        self.etag: str | None = None
        self.origin: str | None = None
        self.problem: str | None = None
        self._load()

    def _load(self) -> None:
        if not self.disk_path.exists():
            return
        try:
            saved = json.loads(self.disk_path.read_text(encoding="utf-8"))
            campaign, tag = saved["campaign"], saved.get("etag")
            if not isinstance(campaign, dict):
                raise TypeError("campaign is not an object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{self.disk_path}: not a campaign copy this sensor wrote ({exc}); "
                              "delete it to start afresh") from None
        self.campaign, self.etag, self.origin = campaign, tag, "disk"

    def _save(self) -> None:
        tmp = self.disk_path.with_name(self.disk_path.name + ".tmp")
        if self.campaign is None:
            self.disk_path.unlink(missing_ok=True)
            return
        tmp.write_text(json.dumps({"etag": self.etag, "campaign": self.campaign}), encoding="utf-8")
        os.replace(tmp, self.disk_path)  # never a half-written copy

    def fetch(self) -> bool:
        """Ask the desk once; True when the campaign to run changed.

        A failure (network, server error, refused token) keeps the campaign in hand and sets
        ``origin`` to ``"disk"``; it never raises.
        """
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            response = self._client.get(ASSIGNED_PATH, headers=headers)
        except httpx.HTTPError as exc:
            return self._unreachable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        status = response.status_code
        if status == 304:
            return self._reached(self.campaign, self.etag)
        if status == 404:
            return self._reached(None, None)
        if status == 200:
            try:
                campaign = response.json()
                if not isinstance(campaign, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                return self._unreachable(f"the desk's answer is not a campaign: {exc}")
            return self._reached(campaign, response.headers.get("ETag"))
        return self._unreachable(f"HTTP {status}: {response.text[:200]}")

    def _reached(self, campaign: dict | None, tag: str | None) -> bool:
        with self._lock:
            changed = campaign != self.campaign
            self.campaign, self.etag, self.problem = campaign, tag, None
            self.origin = "desk" if campaign is not None else None
        if changed:
            try:
                self._save()
            except OSError as exc:  # the campaign still runs; only the copy for a restart is missing
                log.warning("cannot write the campaign copy %s: %s", self.disk_path, exc)
        return changed

    def _unreachable(self, problem: str) -> bool:
        with self._lock:
            if self.problem is None:
                log.warning("campaign: the desk did not answer (%s); running the %s", problem,
                            "copy on disk" if self.campaign else "plan given at start")
            self.problem = problem
            if self.campaign is not None:
                self.origin = "disk"
        return False

    def close(self) -> None:
        self._client.close()
