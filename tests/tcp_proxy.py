"""A real TCP proxy for outage tests: put it in front of PostgreSQL (or any server) and make it
refuse, reset or black-hole connections, as a restarting or hung database would.

It runs its own asyncio loop in a daemon thread, so it keeps working while the code under test
blocks or runs its own loop.  Modes:

- ``pass``: forward bytes both ways (the normal state);
- ``refuse``: the listening socket is closed, new connections get ECONNREFUSED;
- ``reset``: every open connection is closed with an RST (SO_LINGER 0) and new ones are reset
  as soon as they are accepted;
- ``blackhole``: connections are accepted (and open ones kept) but no byte is forwarded either way,
  as behind a dead router or a hung server.

``restart()`` resets every open connection and goes back to ``pass``: what a database restart
looks like to its clients.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

_LINGER_RST = struct.pack("ii", 1, 0)


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``target_host:target_port``, with switchable faults."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._thread.start()
        self._call(self._listen())

    # -- control (from any thread) -------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Switch to ``pass``, ``refuse``, ``reset`` or ``blackhole``."""
        assert mode in {"pass", "refuse", "reset", "blackhole"}, mode
        self._call(self._set_mode(mode))

    def restart(self) -> None:
        """Reset every open connection, then forward again (a database restart, seen from outside)."""
        self.set_mode("reset")
        self.set_mode("pass")

    def close(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    def url_for(self, url: str) -> str:
        """``url`` (an SQLAlchemy URL) pointed at this proxy instead of its own host and port."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    # -- inside the proxy's loop ---------------------------------------------------------------

    def _call(self, coro) -> None:  # noqa: ANN001
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def _set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode == "refuse":
            if self._server is not None:
                self._server.close()
                self._server = None
            return
        await self._listen()
        if mode == "reset":
            for pair in list(self._conns):
                for w in pair:
                    _reset(w)
            self._conns.clear()

    async def _close(self) -> None:
        await self._set_mode("reset")
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "reset":
            _reset(writer)
            return
        if self.mode == "blackhole":
            pair = (writer, None)
            self._conns.add(pair)
            try:
                while await reader.read(65536):
                    pass  # swallow: nothing answers
            finally:
                self._conns.discard(pair)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        pair = (writer, up_writer)
        self._conns.add(pair)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                                 return_exceptions=True)
        finally:
            self._conns.discard(pair)
            for w in pair:
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            while self.mode == "blackhole":
                await asyncio.sleep(0.05)  # held, never delivered while the hole lasts
            if writer.is_closing():
                break
            writer.write(data)
            await writer.drain()
        if not writer.is_closing():
            writer.close()


def _reset(writer: asyncio.StreamWriter | None) -> None:
    """Close with an RST rather than a FIN: the peer sees 'connection reset by peer'."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
        except OSError:
            pass
    writer.transport.abort()


@contextmanager
def proxy_for(url: str, kind: type[TcpProxy] = TcpProxy) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy (``kind``: TcpProxy or a subclass with more faults) in front of the database of
    ``url``; yields the proxy and the URL through it."""
    u = make_url(url)
    proxy = kind(u.host or "127.0.0.1", u.port or 5432)
    try:
        yield proxy, proxy.url_for(url)
    finally:
        proxy.close()
