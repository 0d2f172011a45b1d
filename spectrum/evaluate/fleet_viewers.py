"""The fleet load benchmark's desk viewers: a few live streams (``GET /api/v1/stream``) held
open in a process of their own, noting when each event message arrives.

``python -m spectrum.evaluate.fleet_viewers CONFIG OUT`` opens one stream per viewer token of
the JSON file CONFIG (``url``, ``tokens``), prints ``ready`` once every stream has said ``connected``, and reads until stdin is
closed; then it writes to OUT, per stream, each ``(event id, closed, monotonic time)`` first
seen, how many messages of each kind came, and the ``notice`` that ended it, if any.
Times are ``time.monotonic()``, one clock for every process of the machine, so the bench can
set them against the moments the sensors posted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

CONNECT_TIMEOUT_S = 60.0


class StreamLog:
    """What one stream delivered."""

    def __init__(self) -> None:
        self.first_seen_s: dict[tuple[str, bool], float] = {}
        self.kinds: Counter = Counter()
        self.status: int | None = None
        self.notice: str | None = None
        self.error: str | None = None
        self.connected = asyncio.Event()

    def as_dict(self) -> dict:
        return {"events": [[i, closed, t] for (i, closed), t in self.first_seen_s.items()],
                "kinds": dict(self.kinds), "status": self.status, "notice": self.notice, "error": self.error}


async def watch(client: httpx.AsyncClient, url: str, token: str, log: StreamLog) -> None:
    try:
        async with client.stream("GET", f"{url}/api/v1/stream", headers={"Authorization": f"Bearer {token}"}) as r:
            log.status = r.status_code
            if r.status_code != 200:
                log.error = f"HTTP {r.status_code}"
                return
            kind = None
            async for line in r.aiter_lines():
                if line == ": connected":
                    log.connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    arrived_s = time.monotonic()
                    log.kinds[kind] += 1
                    if kind == "event":
                        event = json.loads(line[6:])["event"]
                        log.first_seen_s.setdefault((event["id"], event["end"] is not None), arrived_s)
                    elif kind == "notice":
                        log.notice = json.loads(line[6:]).get("reason")
    except httpx.HTTPError as exc:
        log.error = f"{type(exc).__name__}: {exc}"
    finally:
        log.connected.set()  # never leave the start waiting on a stream that failed


async def wait_healthy(client: httpx.AsyncClient, url: str) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        try:
            if (await client.get(f"{url}/healthz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer /healthz")
        await asyncio.sleep(0.1)


async def run_viewers(url: str, tokens: list[str]) -> list[dict]:
    logs = [StreamLog() for _ in tokens]
    timeout = httpx.Timeout(10.0, read=None)  # a stream may be quiet for long
    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=len(tokens) + 1)) as client:
        await wait_healthy(client, url)
        tasks = [asyncio.create_task(watch(client, url, token, log)) for token, log in zip(tokens, logs)]
        await asyncio.wait_for(asyncio.gather(*(log.connected.wait() for log in logs)), CONNECT_TIMEOUT_S)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the bench closes stdin
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [log.as_dict() for log in logs]


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[0]).read_text())
    Path(argv[1]).write_text(json.dumps(asyncio.run(run_viewers(config["url"], config["tokens"]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
