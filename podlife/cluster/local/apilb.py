"""The stable API address of a cluster with several control planes: a TCP forwarder that
sends each new connection to the first API server that accepts it, trying the others when
one is down. TLS passes through untouched (every API server has the same certificate), so
clients see one server that fails over.

Runs as a component inside the control plane's namespace:
    python -m podlife.cluster.local.apilb LISTEN_IP:PORT BACKEND_IP:PORT ...
The first backend that accepts gets the connection, starting each time from the one after
the last used (round robin), so load spreads and a dead one costs one refused connect.
"""

from __future__ import annotations

import asyncio
import sys

#: A backend that does not accept within this long is skipped for this connection.
CONNECT_TIMEOUT_S = 1.0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


class Balancer:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self.next = 0

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for offset in range(len(self.backends)):
            host, port = self.backends[(self.next + offset) % len(self.backends)]
            try:
                opened = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                CONNECT_TIMEOUT_S)
            except (TimeoutError, OSError):
                continue
            self.next = (self.next + offset + 1) % len(self.backends)
            return opened
        return None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened = await self.connect()
        if opened is None:
            writer.close()
            return
        upstream_reader, upstream_writer = opened
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def serve(listen: tuple[str, int], backends: list[tuple[str, int]]) -> None:
    balancer = Balancer(backends)
    server = await asyncio.start_server(balancer.handle, *listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(_address(sys.argv[1]), [_address(a) for a in sys.argv[2:]]))
