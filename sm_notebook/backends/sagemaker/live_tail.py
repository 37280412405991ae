"""A CloudWatch Live Tail session on one job's streams, read on a thread of its own.

StartLiveTail is one call that keeps its response open and pushes, every second, the events
ingested in that second (up to 500) for up to three hours.  This thread keeps a session
open for as long as it is wanted, starting a new one when a session ends or breaks, and
queues what it hears for the job's pump; ``log_ledger.py`` makes it exact.  If Live Tail
cannot be used at all (no ``logs:StartLiveTail`` permission, the account's concurrent
session quota, an endpoint without it), ``refused`` says why and the pump polls instead.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from .log_ledger import CloudEvent

RETRY_AFTER = (1.0, 30.0)  # seconds between attempts after a broken session, growing
LONG_SESSION = 60.0  # seconds: a session that lasted this long is followed by the next at once
# Errors that another attempt will not mend: reading stays with GetLogEvents.
REFUSALS = ("AccessDeniedException", "LimitExceededException", "UnrecognizedClientException",
            "InvalidParameterException", "ResourceNotFoundException", "NotImplemented",
            "UnknownOperationException", "InvalidAction")


class LiveTail:
    """Queues ``("start",)``, ``("update", sampled, [CloudEvent])`` and ``("end",)`` for
    every session, then ``("refused", reason)`` if Live Tail cannot be used."""

    def __init__(self, client: Callable[[], Any], group_arn: str, stream_prefix: str):
        self._client = client
        self.group_arn = group_arn
        self.stream_prefix = stream_prefix
        self.items: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.sessions = 0
        self.refused: str | None = None
        self._closed = threading.Event()
        self._response: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"sm_notebook-live-tail-{stream_prefix}")

    def start(self) -> LiveTail:
        self._thread.start()
        return self

    def take(self) -> list[tuple[Any, ...]]:
        """Everything heard since the last call."""
        out = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self.items.get_nowait())
        return out

    def close(self) -> None:
        """End the session (it is billed while open) and the thread."""
        self._closed.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):
                response.close()

    def _run(self) -> None:
        wait = RETRY_AFTER[0]
        while not self._closed.is_set():
            try:
                self._response = self._client().start_live_tail(
                    logGroupIdentifiers=[self.group_arn],
                    logStreamNamePrefixes=[self.stream_prefix])["responseStream"]
            except Exception as exc:
                code = _error_code(exc)
                if code in REFUSALS:
                    self.refused = f"{code}: {exc}"
                    self.items.put(("refused", self.refused))
                    return
                self._closed.wait(wait)  # throttled or offline: try again
                wait = min(RETRY_AFTER[1], wait * 2)
                continue
            if self._closed.is_set():  # closed while the call was on its way
                self._response.close()
                return
            self.sessions += 1
            began = time.monotonic()
            self._listen(self._response)
            if time.monotonic() - began >= LONG_SESSION:  # timed out, as they do: go on
                wait = RETRY_AFTER[0]
            else:  # broke early: wait, longer each time
                self._closed.wait(wait)
                wait = min(RETRY_AFTER[1], wait * 2)

    def _listen(self, stream: Any) -> None:
        """Queue one session's events until it ends."""
        try:
            for item in stream:
                if "sessionStart" in item:
                    self.items.put(("start",))
                elif "sessionUpdate" in item:
                    update = item["sessionUpdate"]
                    sampled = bool((update.get("sessionMetadata") or {}).get("sampled"))
                    events = [CloudEvent.of(result["logStreamName"], result)
                              for result in update.get("sessionResults") or []]
                    self.items.put(("update", sampled, events))
        except Exception:  # timed out after three hours, a server fault, the network
            pass
        finally:
            with contextlib.suppress(Exception):
                stream.close()
            self.items.put(("end",))


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code", type(exc).__name__))
