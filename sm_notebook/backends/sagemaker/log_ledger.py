"""Reconcile the two ways a CloudWatch event reaches sm_notebook, so each is handed out once.

CloudWatch Live Tail pushes events within about a second, but it is not a record: above
500 events a second it samples, a slow reader loses the oldest updates, and between two
sessions it sees nothing.  GetLogEvents reads each stream completely and in order, but only
as often as it is asked.  So events are taken from Live Tail as they come and a slow read of
every stream fills in whatever Live Tail missed; this ledger decides, event by event, which
of the two hands it out.

A stream is *in step* once a read caught up with it during the current session: from then
on Live Tail events are handed out at once and remembered, so the read skips them.  Until
then (a new stream, a new session, a sampled update) Live Tail events are held back and the
stream is read promptly; the read hands out everything up to now in order, and the held
events it did not return are handed out after it.  Events a read hands out are remembered
for a while too, because Live Tail may bring them a moment later.

An event is known by its stream, timestamp and message: the same line printed twice in one
millisecond counts twice on both sides, so counts match, not identities.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

LIVE_LAG_MS = 60_000  # Live Tail hands out an event well within this of its ingestion
MAX_REMEMBERED = 50_000  # per stream, per side: a bound if one side stops matching
READ_AFTER = 5_000  # Live Tail events a read has not met yet: read the stream early


@dataclass(frozen=True)
class CloudEvent:
    """One CloudWatch log event, from either source."""

    stream: str
    timestamp: int  # ms, when it was logged
    message: str
    ingestion: int = 0  # ms, when CloudWatch took it in (0: not told)

    @property
    def key(self) -> tuple[int, str]:
        return self.timestamp, self.message

    @classmethod
    def of(cls, stream: str, event: dict[str, Any]) -> CloudEvent:
        """From a GetLogEvents event or a Live Tail result."""
        return cls(stream, event["timestamp"], event["message"], event.get("ingestionTime", 0))


class _Remembered:
    """A multiset of event keys in the order they were added, bounded.  Taking a key takes
    its oldest copy; the order keeps taken copies until they reach its front."""

    def __init__(self, keys: list[tuple[int, str]] | None = None):
        self.counts: Counter[tuple[int, str]] = Counter()  # copies still remembered
        self.queued: Counter[tuple[int, str]] = Counter()  # copies in ``order``
        self.order: deque[tuple[int, tuple[int, str]]] = deque()  # (ingestion, key)
        self.total = 0
        for key in keys or []:
            self.add(key)

    def add(self, key: tuple[int, str], ingestion: int = 0) -> None:
        self.counts[key] += 1
        self.queued[key] += 1
        self.total += 1
        self.order.append((ingestion, key))
        while len(self.order) > MAX_REMEMBERED:
            self._pop_oldest()

    def take(self, key: tuple[int, str]) -> bool:
        """Whether ``key`` was remembered (and now one copy fewer is)."""
        if self.counts[key] <= 0:
            return False
        self._drop(key)
        return True

    def forget_ingested_before(self, ms: int) -> None:
        while self.order and self.order[0][0] < ms:
            self._pop_oldest()

    def oldest_first(self) -> list[tuple[int, str]]:
        """What is still remembered, oldest first."""
        taken = Counter({key: self.queued[key] - self.counts[key] for key in self.queued})
        out = []
        for _, key in self.order:
            if taken[key] > 0:
                taken[key] -= 1
            else:
                out.append(key)
        return out

    def _pop_oldest(self) -> None:
        _, key = self.order.popleft()
        self.queued[key] -= 1
        if self.counts[key] > self.queued[key]:  # the copy leaving was still remembered
            self._drop(key)
        if not self.queued[key]:
            del self.queued[key]

    def _drop(self, key: tuple[int, str]) -> None:
        self.counts[key] -= 1
        self.total -= 1
        if not self.counts[key]:
            del self.counts[key]

    def __len__(self) -> int:
        return self.total


@dataclass
class _Stream:
    in_step: bool = False
    held: list[CloudEvent] = field(default_factory=list)
    live_unread: _Remembered = field(default_factory=_Remembered)  # handed out live
    read_unlive: _Remembered = field(default_factory=_Remembered)  # handed out by a read


class LogLedger:
    """Decides, for every event from Live Tail or a read, whether to hand it out now."""

    def __init__(self) -> None:
        self.streams: dict[str, _Stream] = {}
        self.live = False  # a Live Tail session is running
        self.sampled = 0  # updates Live Tail sampled (their events came from reads)

    def _stream(self, name: str) -> _Stream:
        return self.streams.setdefault(name, _Stream())

    # ---- Live Tail ---------------------------------------------------------------------
    def session_started(self, known: list[str] = ()) -> None:
        """A new session sees nothing of what came before it: every stream (those the
        ledger has met and the ``known`` ones) is read before its Live Tail events are
        handed out."""
        self.live = True
        for name in known:
            self._stream(name)
        for stream in self.streams.values():
            stream.in_step = False

    def session_ended(self) -> None:
        """Reads alone from now on: what is held comes from them anyway.  What reads hand
        out is still remembered: the next session may already be open at the service,
        unknown here yet, and bring those events too."""
        self.live = False
        for stream in self.streams.values():
            stream.in_step = False
            stream.held.clear()

    def from_live(self, events: list[CloudEvent], sampled: bool = False) -> list[CloudEvent]:
        """A Live Tail update: the events to hand out now."""
        out = []
        if sampled:  # part of this second is missing: the reads bring all of it, in order
            self.sampled += 1
            for event in events:
                self._stream(event.stream).in_step = False
        for event in events:
            stream = self._stream(event.stream)
            if stream.read_unlive.take(event.key):
                continue  # a read handed it out already
            if sampled:
                continue
            if not stream.in_step:
                stream.held.append(event)
                continue
            stream.live_unread.add(event.key, event.ingestion)
            out.append(event)
        newest = max((e.ingestion for e in events), default=0)
        if newest:
            for stream in self.streams.values():
                stream.read_unlive.forget_ingested_before(newest - LIVE_LAG_MS)
        return out

    def waiting(self) -> list[str]:
        """Streams to read soon: Live Tail events of theirs wait for it, or many handed
        out live wait to be met by a read (which keeps what is saved small)."""
        return sorted(name for name, s in self.streams.items()
                      if self.live and (not s.in_step or len(s.live_unread) > READ_AFTER))

    # ---- reads -------------------------------------------------------------------------
    def from_read(self, name: str, events: list[CloudEvent], caught_up: bool
                  ) -> list[CloudEvent]:
        """What a GetLogEvents read of one stream returned (in stream order): the events
        to hand out now.  ``caught_up``: the read reached the end of the stream."""
        stream = self._stream(name)
        held = Counter(e.key for e in stream.held)
        out = []
        for event in events:
            if stream.live_unread.take(event.key):
                continue  # handed out live already
            if held[event.key] > 0:  # Live Tail brought it already: the read hands it out
                held[event.key] -= 1
                self._drop_held(stream, event.key)
            else:  # even between sessions: one may have opened that is not known here yet
                stream.read_unlive.add(event.key, event.ingestion)
            out.append(event)
        newest = max((e.ingestion for e in events), default=0)
        if newest:
            stream.read_unlive.forget_ingested_before(newest - LIVE_LAG_MS)
        if caught_up and self.live and not stream.in_step:
            stream.in_step = True
            for event in stream.held:  # came after the read's end
                stream.live_unread.add(event.key, event.ingestion)
                out.append(event)
            stream.held.clear()
        return out

    @staticmethod
    def _drop_held(stream: _Stream, key: tuple[int, str]) -> None:
        for index, event in enumerate(stream.held):
            if event.key == key:
                del stream.held[index]
                return

    # ---- saved beside the job ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """What a re-attached follower needs: the events handed out live that no read has
        met yet (the read would otherwise hand them out again)."""
        return {name: [list(key) for key in s.live_unread.oldest_first()]
                for name, s in self.streams.items() if len(s.live_unread)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogLedger:
        ledger = cls()
        for name, keys in data.items():
            ledger.streams[name] = _Stream(live_unread=_Remembered(
                [(int(ts), str(message)) for ts, message in keys]))
        return ledger
