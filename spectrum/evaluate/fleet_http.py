"""One simulated sensor's HTTP/1.1 connection to the desk, for the fleet load benchmark.

The load generator plays a thousand sensors in one process, and with ``httpx.AsyncClient``
(httpx, httpcore, h11 and anyio per request) it spent about as much CPU per request as the
server it measured, on the same cores. This is only what the uplink's requests need, on
asyncio streams: ``POST`` with a JSON body over one keep-alive connection, the answer read by
its ``Content-Length``. The server sees the same requests: the header lines ``httpx`` sends
(``python-httpx`` user agent included), one connection per sensor, reconnecting when the
server closed it while idle.

Failures raise :class:`HttpError` named like httpx's (``ConnectError``, ``ReadError``,
``ReadTimeout``, ...), so the bench's failure counts read as before.
"""

from __future__ import annotations

import asyncio
import json

import httpx

USER_AGENT = f"python-httpx/{httpx.__version__}"  # what a sensor's uplink sends


class HttpError(Exception):
    """The request failed before a complete answer arrived; ``kind`` names how (httpx's names)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class Answer:
    """Status and body of one answer."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content = status, body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


class SensorConnection:
    """One keep-alive connection to ``host:port``, opened when needed; one request at a time."""

    def __init__(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._fixed = (f"Host: {host}:{port}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
                       f"Connection: keep-alive\r\nUser-Agent: {USER_AGENT}\r\n").encode()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """Send one request and read its answer (raises :class:`HttpError`)."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._exchange(path, body, headers)
        except TimeoutError:
            self.close()
            raise HttpError("ReadTimeout", f"no answer within {self.timeout_s:g} s") from None
        except HttpError:
            self.close()
            raise

    async def _exchange(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        if self._reader is None or self._reader.at_eof():  # closed by the server while idle: reconnect
            self.close()
            try:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                raise HttpError("ConnectError", str(exc)) from None
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = b"".join((f"POST {path} HTTP/1.1\r\n".encode(), self._fixed, head.encode(),
                            f"Content-Length: {len(body)}\r\n\r\n".encode(), body))
        try:
            self._writer.write(request)
            await self._writer.drain()
        except OSError as exc:
            raise HttpError("WriteError", str(exc)) from None
        try:
            status, length, close = _parse_head(await self._reader.readuntil(b"\r\n\r\n"))
            content = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
            raise HttpError("ReadError", str(exc) or type(exc).__name__) from None
        if close:
            self.close()
        return Answer(status, content)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """(status, Content-Length, whether the server closes the connection) of an answer's head."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError("RemoteProtocolError", f"bad status line {lines[0][:80]!r}")
    length, close = None, parts[0] == "HTTP/1.0"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            if not value.strip().isdigit():
                raise HttpError("RemoteProtocolError", f"bad Content-Length {value.strip()[:20]!r}")
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
        elif name == "transfer-encoding":
            raise HttpError("RemoteProtocolError", "chunked answers are not expected from the ingest endpoints")
    if length is None:
        raise HttpError("RemoteProtocolError", "answer without Content-Length")
    return int(parts[1]), length, close
