"""A Unix-socket relay in front of the Docker Engine's socket, to break connections on cue.

Point ``DOCKER_HOST`` at :attr:`SocketRelay.address` and every request reaches the real
engine through it; :meth:`cut` then closes the connections open now (all of them, or
those whose first request names a path such as ``/attach``), as a lost engine connection
does, while new connections are relayed as before.  :meth:`refuse` makes the engine
unreachable until :meth:`accept` is called again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

ENGINE_SOCKET = "/var/run/docker.sock"


@dataclass
class Connection:
    client: socket.socket
    upstream: socket.socket
    request: bytes = b""  # the start of the first request the client sent
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class SocketRelay:
    def __init__(self, path: Path, upstream: str = ENGINE_SOCKET):
        self.path, self.upstream = path, upstream
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(64)
        self.connections: list[Connection] = []
        self.lock = threading.Lock()
        self.refusing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"unix://{self.path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:  # closed
                return
            if self.refusing:
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            conn = Connection(client, upstream)
            with self.lock:
                self.connections.append(conn)
            threading.Thread(target=self._pipe, args=(conn, client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(conn, upstream, client, False),
                             daemon=True).start()

    @staticmethod
    def _pipe(conn: Connection, source: socket.socket, target: socket.socket,
              from_client: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                if from_client and len(conn.request) < 512:
                    conn.request += data[:512]
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()

    def cut(self, request_contains: bytes = b"") -> int:
        """Close the open connections (those whose first request holds the bytes given);
        how many were closed."""
        with self.lock:
            chosen = [c for c in self.connections
                      if not c.closed.is_set() and request_contains in c.request]
            self.connections = [c for c in self.connections if c not in chosen]
        for conn in chosen:
            conn.close()
        return len(chosen)

    def refuse(self) -> None:
        """The engine is gone: open connections are cut and new ones closed at once."""
        self.refusing = True
        self.cut()

    def accept(self) -> None:
        self.refusing = False

    def close(self) -> None:
        self.server.close()
        self.cut()
