"""Bearer tokens: creation, lookup and revocation (no HTTP here; see ``service.deps``).

A token is ``secrets.token_urlsafe(32)``: 256 random bits. Only its SHA-256 is stored. A
slow password hash (bcrypt, argon2) defends low-entropy secrets against guessing after a
database leak; a 256-bit random secret cannot be guessed, so one fast hash is as safe and
keeps the per-request check to one indexed lookup. Lookup is by the hash, so timing reveals
nothing about the token, and the final comparison is constant-time anyway.

The service keeps valid tokens' lookups (:class:`PrincipalCache`): a token revoked through the
API is refused at once by the worker that revoked it, by the others (and after ``spectrum token
revoke``) within ``auth_cache_s``: each worker re-checks its cached tokens that often.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from service.db import Database, now_us
from service.service_errors import ServiceError
from service.models import TokenRow

ROLES = ("sensor", "viewer", "operator", "admin")  # operator: viewer + acts on incidents


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, role, and (sensor tokens only) its site and sensor."""

    token_id: str
    role: str
    site: str | None = None
    sensor: str | None = None
    label: str | None = None  # the token's name, shown in the incident audit log


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token's secret."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Database, role: str, site: str | None = None, sensor: str | None = None,
                 label: str | None = None) -> tuple[str, TokenRow]:
    """Create a token; return its secret (shown once) and its stored row.

    Raises
    ------
    ServiceError
        Unknown role; a sensor token without both site and sensor; site/sensor on another role.
    """
    if role not in ROLES:
        raise ServiceError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    if role == "sensor" and not (site and sensor):
        raise ServiceError("a sensor token needs --site and --sensor (it may write only for them)")
    if role != "sensor" and (site or sensor):
        raise ServiceError(f"--site/--sensor apply to sensor tokens only, not to role {role!r}")
    secret = secrets.token_urlsafe(32)
    row = TokenRow(id=secrets.token_hex(6), token_hash=hash_token(secret), role=role, site=site, sensor=sensor,
                   label=label, created_us=now_us(), revoked_us=None)
    with db.write() as session:
        session.add(row)
        if role == "sensor":
            from service.store import ensure_sensors

            ensure_sensors(db, session, {(site, sensor)}, event_us=None)
    return secret, row


def create_sensor_tokens(db: Database, origins: list[tuple[str, str]]) -> list[str]:
    """One sensor token per ``(site, sensor)``, all in one transaction (a fleet set up at once);
    return their secrets in the same order."""
    secrets_out, rows = [], []
    for site, sensor in origins:
        if not (site and sensor):
            raise ServiceError("a sensor token needs a site and a sensor")
        secret = secrets.token_urlsafe(32)
        secrets_out.append(secret)
        rows.append(TokenRow(id=secrets.token_hex(6), token_hash=hash_token(secret), role="sensor", site=site,
                             sensor=sensor, label=None, created_us=now_us(), revoked_us=None))
    with db.write() as session:
        session.add_all(rows)
        if origins:
            from service.store import ensure_sensors

            ensure_sensors(db, session, set(origins), event_us=None)
    return secrets_out


def list_tokens(db: Database) -> list[TokenRow]:
    """All tokens, oldest first (revoked ones included, marked)."""
    with db.read() as session:
        return list(session.scalars(select(TokenRow).order_by(TokenRow.created_us)))


def revoke_token(db: Database, token_id: str) -> TokenRow:
    """Revoke a token by its public id (idempotent).

    Raises
    ------
    ServiceError
        No token has this id.
    """
    with db.write() as session:
        row = session.get(TokenRow, token_id)
        if row is None:
            raise ServiceError(f"no token with id {token_id!r} (see `spectrum token list`)")
        if row.revoked_us is None:
            row.revoked_us = now_us()
        return row


def revoked_among(db: Database, token_ids: set[str]) -> set[str]:
    """Which of these token ids are revoked or no longer exist."""
    with db.read() as session:
        live = set(session.scalars(select(TokenRow.id).where(TokenRow.id.in_(list(token_ids)),
                                                            TokenRow.revoked_us.is_(None))))
    return set(token_ids) - live


def authenticate(db: Database, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token, else None."""
    return authenticate_digest(db, hash_token(token))


def _token_lookup(db: Database):
    t = TokenRow
    return (select(t.id, t.role, t.site, t.sensor, t.label, t.revoked_us, t.token_hash)
            .where(t.token_hash == bindparam("digest")))


def authenticate_digest(db: Database, digest: str) -> Principal | None:
    """:func:`authenticate` for a token already hashed with :func:`hash_token`."""
    with db.engine.connect() as conn:  # a plain connection and columns: no ORM session per request
        row = conn.execute(db.prepared(_token_lookup), {"digest": digest}).one_or_none()
    if row is None or row.revoked_us is not None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Principal(token_id=row.id, role=row.role, site=row.site, sensor=row.sensor, label=row.label)


class PrincipalCache:
    """Principals of valid tokens by token hash, so most requests skip the token lookup.

    Revocation still bites: where a token is revoked through the API, :meth:`forget` drops it
    at once; a revocation made elsewhere (the CLI, another worker) is found by :meth:`sweep`,
    which the app runs every ``check_s`` seconds (one query for all the cached tokens). An
    entry is trusted only within ``2 * check_s`` of its lookup or of the start of the last
    sweep that succeeded, so if sweeps fail, entries expire and every request is looked up
    again. Only valid tokens are kept: an unknown or revoked token is looked up, and counted
    as a failure, every time. ``check_s`` 0 keeps nothing.
    """

    MAX_ENTRIES = 100_000  # bounded memory: when full, start again empty
    KEEP_S = 600.0  # entries this old are dropped and looked up again: the sweeps carry active tokens only

    def __init__(self, check_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.check_s = check_s
        self.clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}  # digest -> (looked up at, principal)
        self._swept_at = float("-inf")  # start of the last successful sweep
        self._lock = threading.Lock()  # lookups, sweeps and revocations run in different threads

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        looked_up, principal = entry
        now = self.clock()
        if now - looked_up >= self.KEEP_S or now - max(looked_up, self._swept_at) >= 2 * self.check_s:
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return principal

    def put(self, digest: str, principal: Principal) -> None:
        if self.check_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (self.clock(), principal)

    def forget(self, token_ids: set[str]) -> None:
        """Drop these tokens (revoked): each is looked up again on its next request."""
        with self._lock:
            self._entries = {d: e for d, e in self._entries.items() if e[1].token_id not in token_ids}

    def sweep(self, db: Database) -> set[str]:
        """Forget the cached tokens revoked (or deleted) since they were looked up; return them."""
        started = self.clock()
        with self._lock:
            self._entries = {d: e for d, e in self._entries.items() if started - e[0] < self.KEEP_S}
            held = {principal.token_id for _, principal in self._entries.values()}
        revoked: set[str] = set()
        ids = sorted(held)
        for i in range(0, len(ids), 1000):  # bounded IN lists
            revoked |= revoked_among(db, set(ids[i:i + 1000]))
        self.forget(revoked)
        self._swept_at = started  # whatever was cached when this sweep began is confirmed
        return revoked
