"""Outgoing webhooks: subscriptions, and a sender that never blocks ingest.

A delivery is a ``POST`` of JSON ``{"delivery", "change", "incident", "sent"}`` with headers
``X-Spectrum-Delivery`` (unique id; retries reuse it, so receivers can drop duplicates),
``X-Spectrum-Timestamp`` (Unix seconds) and ``X-Spectrum-Signature: sha256=HEX``, the
HMAC-SHA256 of ``TIMESTAMP + "." + BODY`` under the subscription's secret (the scheme of
Stripe's and GitHub's webhooks: the timestamp in the signature stops replays).

``notify`` only queues; a pool of sender threads posts with a timeout and retries failures
(network errors, timeouts, non-2xx answers) with exponential backoff. After the last attempt
the delivery is logged at ERROR level with its whole body, so nothing is lost silently; a
delivery still waiting at shutdown is logged the same way.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from service.db import Database, now_us
from service.incident_models import WebhookRow
from service.service_errors import ServiceError

log = logging.getLogger("spectrum.service.webhooks")
NOTIFIED = ("opened", "escalated", "linked", "closed")


class WebhookError(ServiceError):
    """A webhook subscription that cannot be used (e.g. a URL that is not http or https)."""


def check_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL with a host; else WebhookError naming it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"url {url[:200]!r}: a webhook must be an absolute http:// or https:// URL")
    return url


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=HEX`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def add_webhook(db: Database, url: str, changes: list[str], created_by: str, secret: str | None = None) -> WebhookRow:
    """Store a subscription (the secret is generated when not given)."""
    check_url(url)
    bad = [c for c in changes if c not in NOTIFIED]
    if bad or not changes:
        raise WebhookError(f"changes {changes!r}: expected some of {', '.join(NOTIFIED)}")
    row = WebhookRow(id=secrets.token_hex(6), url=url, secret=secret or secrets.token_urlsafe(32),
                     changes=",".join(changes), created_us=now_us(), created_by=created_by, revoked_us=None)
    with db.write() as session:
        session.add(row)
    return row


def list_webhooks(db: Database) -> list[WebhookRow]:
    """Subscriptions in force, oldest first."""
    with db.read() as session:
        return list(session.scalars(select(WebhookRow).where(WebhookRow.revoked_us.is_(None))
                                    .order_by(WebhookRow.created_us)))


def remove_webhook(db: Database, webhook_id: str) -> bool:
    """Revoke a subscription; False when no subscription in force has this id."""
    with db.write() as session:
        row = session.get(WebhookRow, webhook_id)
        if row is None or row.revoked_us is not None:
            return False
        row.revoked_us = now_us()
        return True


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    url: str = field(compare=False)
    secret: str = field(compare=False)
    body: bytes = field(compare=False)
    delivery_id: str = field(compare=False)
    attempt: int = field(compare=False, default=0)


class Notifier:
    """Queue of deliveries and the threads that send them.

    Parameters
    ----------
    db : Database
    timeout_s : float
        Per attempt (connect and read).
    max_attempts : int
        Attempts before a delivery is given up (and logged).
    backoff_s : float
        Wait before the second attempt; doubles each time.
    workers : int
        Sender threads: a slow receiver holds one, the others keep sending.
    """

    def __init__(self, db: Database, timeout_s: float = 5.0, max_attempts: int = 6, backoff_s: float = 1.0,
                 workers: int = 2) -> None:
        self.db, self.timeout_s, self.max_attempts, self.backoff_s = db, timeout_s, max_attempts, backoff_s
        self._heap: list[_Delivery] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self._stop = False
        self._threads = [threading.Thread(target=self._run, name=f"spectrum-webhook-{i}", daemon=True)
                         for i in range(workers)]
        self._subs: list[WebhookRow] | None = None
        self.delivered_total = 0
        self.failed_attempts_total = 0
        self.given_up_total = 0
        self._started = False

    def subscriptions_changed(self) -> None:
        with self._cond:
            self._subs = None

    def notify(self, change: str, incident: dict) -> int:
        """Queue one delivery per subscription that wants ``change``; never blocks on the network."""
        if change not in NOTIFIED:
            return 0
        subs = self._subs
        if subs is None:
            subs = list_webhooks(self.db)
            with self._cond:
                self._subs = subs
        queued = 0
        for sub in subs:
            if change not in sub.changes.split(","):
                continue
            delivery_id = str(uuid.uuid4())
            body = json.dumps({"delivery": delivery_id, "change": change, "incident": incident,
                               "sent": time.time()}, separators=(",", ":")).encode()
            self._push(_Delivery(time.monotonic(), next(self._order), sub.url, sub.secret, body, delivery_id))
            queued += 1
        return queued

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _push(self, d: _Delivery) -> None:
        with self._cond:
            if not self._started:  # threads only once there is something to send
                self._started = True
                for t in self._threads:
                    t.start()
            heapq.heappush(self._heap, d)
            self._cond.notify()

    def _next(self) -> _Delivery | None:
        with self._cond:
            while not self._stop:
                if self._heap and self._heap[0].due <= time.monotonic():
                    return heapq.heappop(self._heap)
                wait = self._heap[0].due - time.monotonic() if self._heap else None
                self._cond.wait(wait)
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client:
            while (d := self._next()) is not None:
                self._send(client, d)

    def _send(self, client: httpx.Client, d: _Delivery) -> None:
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Spectrum-Delivery": d.delivery_id,
                   "X-Spectrum-Timestamp": stamp, "X-Spectrum-Signature": sign(d.secret, stamp, d.body)}
        try:
            answer = client.post(d.url, content=d.body, headers=headers)
            ok, why = answer.is_success, f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            ok, why = False, f"{type(exc).__name__}: {exc}"
        if ok:
            self.delivered_total += 1
            return
        self.failed_attempts_total += 1
        d.attempt += 1
        if d.attempt >= self.max_attempts:
            self.given_up_total += 1
            log.error("webhook %s to %s given up after %d attempts (%s); body: %s", d.delivery_id, d.url,
                      d.attempt, why, d.body.decode())
            return
        d.due = time.monotonic() + self.backoff_s * 2 ** (d.attempt - 1)
        log.warning("webhook %s to %s failed (%s); attempt %d in %.1f s", d.delivery_id, d.url, why,
                    d.attempt + 1, d.due - time.monotonic())
        self._push(d)

    def close(self) -> None:
        """Stop the senders; log every delivery still waiting (with its body)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for t in self._threads:
            if t.is_alive():
                t.join(self.timeout_s + 1)
        for d in self._heap:
            log.error("webhook %s to %s not delivered before shutdown; body: %s", d.delivery_id, d.url, d.body.decode())
        self._heap.clear()
