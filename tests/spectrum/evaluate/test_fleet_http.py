"""The fleet load generator's HTTP connection against a small asyncio server: keep-alive reuse,
reconnecting after the server closed an idle connection, ``Connection: close``, and answers it
cannot read raised as failures (counted and retried by the bench), never hanging."""

from __future__ import annotations

import asyncio
import json

import pytest

from spectrum.evaluate.fleet_http import HttpError, SensorConnection


class Desk:
    """Answers each request with ``answer(n)`` bytes (n counts requests); notes connections and
    what arrived."""

    def __init__(self, answer, hang_up_after=()) -> None:
        self.answer, self.hang_up_after, self.connections, self.requests = answer, set(hang_up_after), 0, []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if line)
                body = await reader.readexactly(int(headers["Content-Length"]))
                self.requests.append((lines[0], headers, body))
                reply = self.answer(len(self.requests))
                if reply is None:  # close without answering
                    break
                if reply == b"":  # never answer
                    await asyncio.sleep(3600)
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply or len(self.requests) in self.hang_up_after:
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()


def ok(body: dict, extra: str = "") -> bytes:
    text = json.dumps(body).encode()
    return f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(text)}\r\n{extra}\r\n".encode() + text


def run(desk: Desk, script):
    async def main():
        server = await asyncio.start_server(desk.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conn = SensorConnection("127.0.0.1", port, timeout_s=5.0)
        try:
            return await script(conn)
        finally:
            conn.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def test_keep_alive_and_the_request_as_httpx_sends_it():
    desk = Desk(lambda n: ok({"n": n}))

    async def script(conn):
        return [(await conn.post("/api/v1/heartbeats", b'{"a":1}', {"Authorization": "Bearer t"})).json()
                for _ in range(3)]

    assert run(desk, script) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert desk.connections == 1
    line, headers, body = desk.requests[0]
    assert line == "POST /api/v1/heartbeats HTTP/1.1" and body == b'{"a":1}'
    assert headers["Authorization"] == "Bearer t" and headers["Connection"] == "keep-alive"
    assert headers["User-Agent"].startswith("python-httpx/") and headers["Content-Length"] == "7"


def test_reconnects_after_the_server_closed_the_connection():
    desk = Desk(lambda n: ok({"n": n}, "Connection: close\r\n" if n == 1 else ""))

    async def script(conn):
        first = (await conn.post("/x", b"{}", {})).json()
        await asyncio.sleep(0.05)
        return first, (await conn.post("/x", b"{}", {})).json()

    assert run(desk, script) == ({"n": 1}, {"n": 2})
    assert desk.connections == 2


def test_idle_connection_closed_by_the_server_is_not_reused():
    """As uvicorn does after its keep-alive timeout: closed without a word between requests."""
    desk = Desk(lambda n: ok({"n": n}), hang_up_after={1})

    async def script(conn):
        first = (await conn.post("/x", b"{}", {})).json()
        await asyncio.sleep(0.05)  # the close reaches the client
        return first, (await conn.post("/x", b"{}", {})).json()

    assert run(desk, script) == ({"n": 1}, {"n": 2})
    assert desk.connections == 2


def test_no_answer_within_the_timeout():
    desk = Desk(lambda n: b"" if n == 1 else ok({"n": n}))

    async def script(conn):
        conn.timeout_s = 0.2
        with pytest.raises(HttpError) as failed:
            await conn.post("/x", b"{}", {})
        return failed.value.kind

    assert run(desk, script) == "ReadTimeout"


@pytest.mark.parametrize("reply,kind", [
    (None, "ReadError"),  # closed without an answer
    (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}", "RemoteProtocolError"),  # no length
    (b"SPDY/9 hello\r\n\r\n", "RemoteProtocolError"),
    (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}", "ReadError"),  # cut short, then closed
])
def test_unreadable_answers_raise_and_the_next_request_reconnects(reply, kind):
    desk = Desk(lambda n: reply if n == 1 else ok({"n": n}), hang_up_after={1})

    async def script(conn):
        with pytest.raises(HttpError) as failed:
            await conn.post("/x", b"{}", {})
        return failed.value.kind, (await conn.post("/x", b"{}", {})).json()

    got_kind, second = run(desk, script)
    assert got_kind == kind and second == {"n": 2}
    assert desk.connections == 2
