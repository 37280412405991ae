"""Following a SageMaker job: its status, its CloudWatch log streams, its price.

``poll`` describes the job at an adaptive interval and follows its streams
(``cloudwatch.py``), with Live Tail when allowed (``live_tail.py``) and a ledger that
hands each line out once (``log_ledger.py``).  Every line goes to ``job.log`` and every
status to ``state.json``, with the stream positions beside them, so a re-attached job
replays the log from disk and carries on from the saved positions: nothing lost, nothing
twice.  One follower of a job writes at a time (``log_store.py``); the others read its
folder as local mode reads a supervisor's (``supervised.py``) until they take over.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...catalog.pricing import PriceCache
from ...clock import utc_now_iso
from ...events import TERMINAL, LogEvent, StatusEvent
from ...jobdir import JobDir
from ..base import Batch, JobRef
from ..supervised import Cursor as FolderCursor
from ..supervised import SupervisedFolder
from .clients import AwsClients
from .cloudwatch import LOG_GROUP, LogFollower, LogPositions, log_events
from .description import state_from
from .live_tail import LiveTail
from .log_ledger import LogLedger
from .log_store import SavedLog, WriterLock, take
from .prices import PriceLookup

DRAINED = "drained"  # in positions.json: the job ended and every line is in job.log
# Seconds a new handle waits for the writer lock: a handle just detached (its state.json
# perhaps behind the service) lets go within its last poll, and then this one describes.
LOCK_WAIT = 2.0
LOG_POLL = 1.0  # seconds between log reads without Live Tail
SAFETY_READ = 60.0  # seconds between reads of every stream while Live Tail runs
# Describe often while starting or changing, then less and less: up to every 30 s with Live
# Tail (V2's pace; lines that stop coming ask sooner), every 10 s when polling anyway.
DESCRIBE_EVERY = (2.0, 30.0)
DESCRIBE_POLLING_MAX = 10.0
LIVE_START_GRACE = 5.0  # seconds a Live Tail session may take to start before reads go on
QUIET = 5.0  # seconds without a line after lines: describe once, it may have ended
REDISCOVER_EVERY = 30.0  # seconds: new streams after every host has one (a restart)
PRICES_FILE = "prices.json"  # beside the job directories: the price list's answers
PRICE_WAIT = 5.0  # seconds an ended job waits for its price before it is done
DRAIN_AFTER = 2.0  # seconds after the end before the last read: CloudWatch lags a little


@dataclass
class Cursor:
    """Where following a SageMaker job has got to (timers, streams, Live Tail)."""

    writing: bool = False  # this follower holds the lock: it reads CloudWatch and writes
    lock: WriterLock | None = field(default=None, repr=False)
    tail: FolderCursor | None = field(default=None, repr=False)  # while another writes
    on_disk: Counter[LogEvent] = field(default_factory=Counter, repr=False)  # log_store's
    next_logs: float = 0.0
    next_describe: float = 0.0
    describe_interval: float = DESCRIBE_EVERY[0]
    next_discovery: float = 0.0
    last_status: tuple[Any, ...] | None = None
    terminal: bool = False
    terminal_at: float = 0.0
    drained: bool = False
    next_waiting: float = 0.0
    last_line_at: float = 0.0
    quiet_checked: bool = False
    live_refused: bool = False
    live_since: float = 0.0
    discovered_at_end: bool = False
    saved_positions: tuple[dict[str, Any], Counter[LogEvent]] | None = None
    follower: Any = field(default=None, repr=False)
    ledger: LogLedger = field(default_factory=LogLedger, repr=False)
    live: LiveTail | None = field(default=None, repr=False)
    price: PriceLookup | None = field(default=None, repr=False)
    price_recorded: bool = False


class JobFollower:
    """Follows SageMaker jobs through one backend's clients; see the module docstring."""

    def __init__(self, aws: AwsClients, live_tail: bool = True):
        self.aws = aws
        self.live_tail = live_tail
        self.reader = SupervisedFolder([])  # follows another follower's writing

    def poll(self, ref: JobRef, cursor: Cursor | None) -> Batch:
        cur = cursor or Cursor(lock=WriterLock(ref.directory))
        if not cur.writing:
            wait = LOCK_WAIT if cursor is None else 0.0
            if not cur.lock.take(wait):  # another follower writes: read what it writes
                if cur.tail is None:
                    cur.tail = FolderCursor(JobDir(ref.directory))
                read = self.reader.poll(ref, cur.tail)
                return Batch(read.logs, read.statuses, cur, False, read.lines)
            replayed, statuses, done = self._take_over(ref, cur)
            if done:  # it was followed to its end: nothing left to ask the service
                self.release(cur)
                return Batch(replayed, statuses, cur, True)
        else:
            replayed, statuses = [], []
        now = time.monotonic()
        if not cur.terminal and (now >= cur.next_describe or self._gone_quiet(cur, now)):
            statuses += self._describe(ref, cur)
        fresh = self._live_events(ref, cur, now)
        names = self._reads_due(ref, cur, now)
        if names is None or names:
            read = self._read(cur, names)
            fresh += read
            if cur.terminal and cur.live is None:  # the drain: until a read finds nothing
                cur.drained = now - cur.terminal_at >= DRAIN_AFTER and not read \
                    and not cur.follower.errors
        if fresh:
            cur.last_line_at, cur.quiet_checked = now, False
        done = cur.terminal and cur.drained
        fresh = self._keep(ref, cur, fresh, done)
        if not cur.price_recorded and cur.last_status is not None:
            self._price(ref, cur, finishing=done)
        if done:
            self.release(cur)  # a reader takes over, finds it drained, and is done too
        return Batch(replayed + fresh, statuses, cur, done)

    def _take_over(self, ref: JobRef, cur: Cursor
                   ) -> tuple[list[LogEvent], list[StatusEvent], bool]:
        """Become the writer where the saved positions leave off, handing out the lines on
        disk this follower has not shown yet; whether the job was drained."""
        cur.writing = True
        shown = cur.tail.offset - len(cur.tail.pending) if cur.tail is not None else 0
        if cur.tail is not None and cur.tail.last is not None:
            cur.last_status = cur.tail.last[:3]  # the reader showed that status already
        resumed = SavedLog(ref.directory).resume(shown)
        cur.on_disk = resumed.on_disk
        saved = resumed.positions
        cur.follower = LogFollower(self.aws.client("logs", ref.handle.get("region")),
                                   ref.name, LogPositions.from_dict(saved))
        cur.ledger = LogLedger.from_dict(saved.get("live_unread", {}))
        state = JobDir(ref.directory).state_dict()
        if not (saved.get(DRAINED) and state.get("status") in TERMINAL):
            return resumed.replay, [], False
        cur.terminal = cur.drained = True
        return resumed.replay, self._status_change(cur, state), True

    def _live_events(self, ref: JobRef, cur: Cursor, now: float) -> list[LogEvent]:
        """Start Live Tail once the job is known, end it after the end, and pass what it
        heard through the ledger."""
        wanted = self.live_tail and not cur.terminal and not cur.live_refused
        arn = JobDir(ref.directory).state_dict().get("arn") \
            if wanted and cur.live is None else None
        if arn:
            region = ref.handle.get("region")
            partition, account = arn.split(":")[1], arn.split(":")[4]
            cur.live = LiveTail(lambda: self.aws.live_tail_client(region),
                                f"arn:{partition}:logs:{region}:{account}:log-group:"
                                f"{LOG_GROUP}", f"{ref.name}/").start()
            cur.live_since = now
        if cur.live is None:
            return []
        out = []
        for item in cur.live.take():
            if item[0] == "start":  # blind to what came before: read every stream first
                self._discover(cur)
                cur.ledger.session_started(list(cur.follower.positions.tokens))
                cur.next_logs = now + SAFETY_READ
            elif item[0] == "update":
                out += cur.ledger.from_live(item[2], sampled=item[1])
            else:  # the session ended (another follows) or Live Tail is refused
                cur.ledger.session_ended()
                cur.live_refused = item[0] == "refused"
                cur.next_logs = min(cur.next_logs, now + LOG_POLL)  # reads carry on meanwhile
        if cur.live_refused or (cur.terminal and now - cur.terminal_at >= DRAIN_AFTER):
            self._end_live(cur)
        return log_events(out, interleave=False)

    def _reads_due(self, ref: JobRef, cur: Cursor, now: float) -> list[str] | None:
        """Which streams to read now: ``None`` for all of them (after finding new ones),
        a list for some, an empty list for none."""
        live = cur.ledger.live
        if cur.terminal:  # Live Tail brings the last lines; then reads drain the streams
            if cur.live is not None or now < cur.next_logs:
                return []
            cur.next_logs = now + LOG_POLL
            if not cur.discovered_at_end:
                cur.discovered_at_end = True
                self._discover(cur)
            return None
        if cur.live is not None and not live and cur.live.sessions == 0 \
                and now - cur.live_since < LIVE_START_GRACE:
            return []  # the session is on its way, and reads every stream when it starts
        if now >= cur.next_logs:
            cur.next_logs = now + (SAFETY_READ if live else LOG_POLL)
            expected = ref.handle.get("instance_count", 1)
            if now >= cur.next_discovery or (
                    not live and len(cur.follower.positions.tokens) < expected):
                cur.next_discovery = now + (SAFETY_READ if live else REDISCOVER_EVERY)
                self._discover(cur)
            return None
        waiting = cur.ledger.waiting()
        if waiting and now >= cur.next_waiting:
            cur.next_waiting = now + LOG_POLL
            return waiting
        return []

    @staticmethod
    def _discover(cur: Cursor) -> None:
        with contextlib.suppress(Exception):  # retried next round
            cur.follower.discover()

    def _read(self, cur: Cursor, names: list[str] | None) -> list[LogEvent]:
        out = []
        for name, (events, caught_up) in cur.follower.read(names).items():
            out += cur.ledger.from_read(name, events, caught_up)
        return log_events(out)

    @staticmethod
    def _gone_quiet(cur: Cursor, now: float) -> bool:
        """Lines stopped coming: often the end, so the status is asked once, early."""
        if cur.last_line_at and not cur.quiet_checked and now - cur.last_line_at >= QUIET:
            cur.quiet_checked = True
            return True
        return False

    @staticmethod
    def _keep(ref: JobRef, cur: Cursor, fresh: list[LogEvent], done: bool
              ) -> list[LogEvent]:
        """New lines to ``job.log``, then where each stream was read to; the new lines
        (not those a crash left on disk past the saved positions, brought again)."""
        if cur.on_disk:
            fresh = [event for event in fresh if not take(cur.on_disk, event)]
        positions = {**cur.follower.positions.to_dict(),
                     "live_unread": cur.ledger.to_dict(), DRAINED: done}
        saving = (positions, Counter(cur.on_disk))
        if fresh or saving != cur.saved_positions:
            SavedLog(ref.directory).save(fresh, positions, cur.on_disk)
            cur.saved_positions = saving
        return fresh

    def release(self, cursor: Any) -> None:
        """End the Live Tail session (billed while open) and let another follower write,
        when the job is no longer followed."""
        if cursor is None:
            return
        self._end_live(cursor)
        if cursor.lock is not None:
            cursor.lock.release()
        cursor.writing = False  # polled again, it takes over again (and finds it drained)

    @staticmethod
    def _end_live(cur: Cursor) -> None:
        if cur.live is not None:
            cur.live.close()
            cur.live = None
            cur.ledger.session_ended()
            cur.next_logs = 0.0  # reads alone from now: the next one at once

    def _describe(self, ref: JobRef, cur: Cursor) -> list[StatusEvent]:
        ceiling = DESCRIBE_EVERY[1] if cur.live is not None else DESCRIBE_POLLING_MAX
        try:
            job = self.aws.client("sagemaker", ref.handle.get("region")).describe_training_job(
                TrainingJobName=ref.name)
        except Exception:  # throttled or offline: the next round tries again
            cur.next_describe = time.monotonic() + cur.describe_interval
            return []
        found, folder = state_from(job), JobDir(ref.directory)
        queued = folder.state_dict().get("queue_transitions")
        if queued:  # a job that waited in a Batch queue: the wait heads its timeline
            found["transitions"] = [*queued, *found["transitions"]]
        state = folder.update_state(**found)
        changed = self._status_change(cur, state)
        cur.describe_interval = DESCRIBE_EVERY[0] if changed else min(
            ceiling, cur.describe_interval * 3)
        cur.next_describe = time.monotonic() + cur.describe_interval
        if changed and state["status"] in TERMINAL and not cur.terminal:
            cur.terminal, cur.terminal_at = True, time.monotonic()
            cur.next_logs = 0.0  # without Live Tail, the lines written last at once
        return changed

    @staticmethod
    def _status_change(cur: Cursor, state: dict[str, Any]) -> list[StatusEvent]:
        """A status event when ``state.json``'s status differs from the last one shown."""
        key = (state.get("status"), state.get("secondary_status"), state.get("failure_reason"))
        if key == cur.last_status:
            return []
        cur.last_status = key
        return [StatusEvent(state.get("last_modified") or utc_now_iso(), state["status"],
                            state.get("secondary_status", ""), state.get("message", ""),
                            state.get("failure_reason"))]

    def _price(self, ref: JobRef, cur: Cursor, finishing: bool) -> None:
        """Once the job is described: look its instance type's price up (on a thread),
        then keep it in ``state.json`` (``hourly_price``, None when unknown).  A job that
        ends before the answer waits a little for it, so its last state has the cost."""
        if cur.price is None:
            state = JobDir(ref.directory).state_dict()
            if "hourly_price" in state:  # a re-attached job: known already
                cur.price_recorded = True
                return
            cur.price = PriceLookup(self.aws.session(None), ref.handle.get("region"),
                                    state.get("instance_type"),
                                    PriceCache(ref.directory.parent / PRICES_FILE))
        if not cur.price.wait(PRICE_WAIT if finishing else 0):
            return
        JobDir(ref.directory).update_state(hourly_price=cur.price.result)
        cur.price_recorded = True
