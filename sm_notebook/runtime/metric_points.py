"""Parse a job's metrics beside it, from ``job.log`` into ``metric_points.tsv`` (stdlib only).

    python metric_points.py JOB_DIR [--definitions JSON] [--budget SECONDS]

follows ``JOB_DIR/job.log`` as it grows, until its standard input closes (run with stdin
from ``/dev/null`` it parses what is there and ends), applying the job's metric
definitions (``--definitions``, else ``job.json``'s spec, else the built-in ones) with
SageMaker's semantics (``metric_rules.py``).  The points go to ``metric_points.tsv``, whose
records (the package's ``jobdir.py`` reads them; a test checks the two agree) are::

    D <index> <JSON [name, regex]>               a definition, at the top
    P <epoch> <host> <index> <value> <step>      a point (step empty when there is none)
    W <index> <line> <JSON message>              a definition switched off from that line on
    O <log offset> <lines>                       job.log up to here is parsed

A reader takes records only up to the last ``O``: the ones after it are not committed, and
a restarted parser cuts them off and parses again from that ``O``'s offset.

The regexes run in a forked worker; this process is its watchdog.  Each definition is
first searched over a whole chunk of lines as one text (``line_search.py`` keeps the
per-line semantics); a worker stuck in such a search is restarted with that definition
searched line by line, so the budget applies per line.  A per-line call that takes longer
than the budget (a user's ``(a+)+$`` backtracking) gets the worker killed and restarted
from the last ``O``, with that definition switched off from the stuck line on (one ``W``
record, and a line on stderr).  A worker that is behind (it read a full chunk) forks a
helper for the next chunk, whose points it writes after its own; the watchdog watches
both, and ends their process group together.  One parser per folder: it holds an exclusive
lock on the points file; a second one that would follow leaves at once, a second one that
would finish waits for the first.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import mmap
import os
import re
import select
import signal
import sys
import time
from bisect import bisect_right
from datetime import datetime
from itertools import repeat
from pathlib import Path

try:  # imported as part of the package (the kernel, tests)
    from . import log_records, metric_rules
except ImportError:  # run as a file beside the supervisor: its siblings are on the path
    import log_records  # type: ignore[no-redef]
    import metric_rules  # type: ignore[no-redef]

# The job folder's names; the package's jobdir.py names the same (a test checks it).
LOG_FILE = "job.log"
JOB_FILE = "job.json"
METRIC_POINTS_FILE = "metric_points.tsv"
DEFINITION, POINT, SWITCHED_OFF, PARSED = "D", "P", "W", "O"

DEFAULT_BUDGET = 1.0  # seconds one regex call on one line may take
CHUNK = 1 << 21  # bytes of job.log parsed at a time
POLL = 0.05  # seconds between looks at a log that has not grown
FINISH_POLL = 0.005  # seconds between looks at a worker told to finish
MAX_RESTARTS = 3  # a worker dying for another reason (no space, say) is retried this often
# the slots shared with the worker: its mark and what it does, the same for its helper,
# whether to finish, and one per definition, set when that definition is to be searched
# one line at a time
_MARK, _BUSY, _HELPER_MARK, _HELPER_BUSY, _FINISH, _LINE_BY_LINE = range(6)
SLOTS = _LINE_BY_LINE + metric_rules.MAX_DEFINITIONS
_MATCHING, _WRITING = 1, 2
_TAIL = "\t{}\n"  # a P record's end: its line's step
_PARSED_RECORD = re.compile(rb"(?m)^O\t(\d+)\t(\d+)\n")
_SWITCHED_OFF = re.compile(rb"(?m)^W\t(\d+)\t(\d+)\t")


class PointsFile:
    """The writer's view of ``metric_points.tsv``: the definitions, the definitions
    switched off (index → first line they are off), and where parsing got to."""

    def __init__(self, fd: int):
        self.fd = fd
        data = _read_all(fd)
        last = _last_parsed(data)
        end = last.end() if last else 0
        if end < len(data):  # a killed writer's uncommitted tail
            os.ftruncate(fd, end)
            data = data[:end]
        self.definitions: list[tuple[str, str]] = []
        for record in data.split(b"\n"):
            if not record.startswith(b"D\t"):
                break
            name, regex = json.loads(record.split(b"\t", 2)[2])
            self.definitions.append((name, regex))
        self.off = {int(m[1]): int(m[2]) for m in _SWITCHED_OFF.finditer(data)}
        self.offset, self.lines = (int(last[1]), int(last[2])) if last else (0, 0)

    def start(self, definitions: list[tuple[str, str]]) -> None:
        """A new file: the definitions, and nothing parsed yet."""
        self.definitions = definitions
        self.write("".join(f"{DEFINITION}\t{i}\t{json.dumps([n, r])}\n"
                           for i, (n, r) in enumerate(definitions)) + f"{PARSED}\t0\t0\n")

    def switch_off(self, index: int, line: int, message: str) -> None:
        """Record a definition switched off, committed at once (an ``O`` after it)."""
        self.off[index] = line
        self.write(f"{SWITCHED_OFF}\t{index}\t{line}\t{json.dumps(message)}\n"
                   f"{PARSED}\t{self.offset}\t{self.lines}\n")

    def write(self, text: str) -> None:
        data = text.encode()
        while data:
            data = data[os.write(self.fd, data):]


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 24):
        chunks.append(chunk)
    return b"".join(chunks)


def _last_parsed(data: bytes) -> re.Match[bytes] | None:
    """The last whole ``O`` record: what is after it is not committed."""
    pos = len(data)
    while (start := data.rfind(b"O\t", 0, pos)) >= 0:
        found = _PARSED_RECORD.match(data, start)
        if found and (start == 0 or data[start - 1] == 0x0A):  # at a record's start
            return found
        pos = start
    return None


class Worker:
    """Reads ``job.log`` from where the points file says, and writes points and ``O``
    records; runs in a forked child, ``slots`` shared with its watchdog."""

    def __init__(self, job_dir: Path, points: PointsFile, slots: memoryview):
        self.log_path = job_dir / LOG_FILE
        self.points = points
        self.slots = slots
        self.rules = metric_rules.Rules(points.definitions)
        self._epochs: dict[str, str] = {}
        self._fields = [f"{i}\t" for i in range(len(points.definitions))]
        self._helper: Helper | None = None

    def run(self, parent: int) -> None:
        gc.disable()  # nothing here makes cycles, and a collection per batch of matches
        # would walk every line of the chunk in hand
        os.setpgid(0, 0)  # the worker and its helper: one group for the watchdog to end
        offset, lines = self.points.offset, self.points.lines
        log = _open_when_there(self.log_path, self.slots, parent)
        if log is None:
            return
        pair = (os.cpu_count() or 1) > 1
        with log:
            log.seek(offset)
            pending = b""
            while True:
                finishing = self.slots[_FINISH]
                data = log.read(CHUNK)
                if not data:
                    if finishing or os.getppid() != parent:
                        return
                    time.sleep(POLL)
                    continue
                data = pending + data
                cut = data.rfind(b"\n") + 1
                pending = data[cut:]
                if not cut:
                    continue
                offset += cut
                more = log.read(CHUNK) if pair and len(data) >= CHUNK else b""
                if more:  # behind the log: the next chunk goes to a helper meanwhile
                    more = pending + more
                    pending_cut = more.rfind(b"\n") + 1
                    pending = more[pending_cut:]
                    lines = self._pair(data[:cut], offset, lines, more[:pending_cut])
                    offset += pending_cut
                else:
                    lines = self.parse(data[:cut], offset, lines)

    def _pair(self, first: bytes, offset: int, lines: int, second: bytes) -> int:
        """Parse two chunks at once, the second in the helper, whose points are written
        after the first chunk's; the lines now."""
        if not second:
            return self.parse(first, offset, lines)
        if self._helper is None:
            self._helper = Helper(self)
        self._helper.ask(offset, len(second), lines + first.count(b"\n"))
        lines = self.parse(first, offset, lines)
        self.points.write(self._helper.answer())
        self.points.offset, self.points.lines = offset + len(second), \
            lines + second.count(b"\n")
        return self.points.lines

    def serve(self, requests: int, answers: int) -> None:
        """The helper's loop: each request names a span of ``job.log`` (start, length,
        its first line's number); each answer is its records, their length first."""
        with open(self.log_path, "rb") as log, open(requests, "rb") as inbox, \
                open(answers, "wb") as outbox:
            for request in inbox:
                start, length, first_line = map(int, request.split())
                data = os.pread(log.fileno(), length, start)
                if len(data) != length:
                    raise RuntimeError("job.log is shorter than the worker read it")
                text, _ = self.points_text(data, start + length, first_line, _HELPER_MARK)
                out = text.encode()
                outbox.write(len(out).to_bytes(8, "little") + out)
                outbox.flush()

    def parse(self, data: bytes, offset: int, first_line: int) -> int:
        """Points of these whole records, committed with an ``O`` record; the lines now."""
        text, lines = self.points_text(data, offset, first_line, _MARK)
        self.points.write(text)
        self.points.offset, self.points.lines = offset, lines
        return lines

    def points_text(self, data: bytes, offset: int, first_line: int, progress: int
                    ) -> tuple[str, int]:
        """The records of these whole ``job.log`` records' points, ending in their ``O``
        record, and the lines then; ``progress``: the slots of the mark and the state."""
        records = log_records.split_records(data.decode("utf-8", "replace"))
        mark = self.slots[progress:progress + 1]
        self.slots[progress + 1] = _MATCHING
        per_definition = self.rules.values(records.block, first_line, mark,
                                           self.points.off, self.slots[_LINE_BY_LINE:])
        self.slots[progress + 1] = _WRITING
        out = self._records_of(per_definition, records)
        lines = first_line + len(records.block.messages)
        out.append(f"{PARSED}\t{offset}\t{lines}\n")
        self.slots[progress + 1] = 0
        return "".join(out), lines

    def _records_of(self, per_definition: list, records: log_records.Records) -> list[str]:
        """The ``P`` records of these values: each line's time, host and step are written
        once for all its points."""
        messages, runs = records.block.messages, records.runs
        firsts = [run.first_line for run in runs]
        hit = sorted(set().union(*(lines for lines, _, _ in per_definition)))
        steps = metric_rules.step_texts(list(map(messages.__getitem__, hit)))
        tails = dict(zip(hit, map(_TAIL.format, steps), strict=True))
        heads, head, bound = {}, "", -1
        for line in hit:
            if line >= bound:  # into another run of records written together
                at = bisect_right(firsts, line)
                run, bound = runs[at - 1], firsts[at] if at < len(firsts) else sys.maxsize
                head = f"{POINT}\t{self._epoch(run.stamp)}\t{run.host}\t"
            heads[line] = head
        out: list[str] = []
        for field, (lines, values, texts) in zip(self._fields, per_definition, strict=True):
            if "\t" in "".join(texts):  # a value read with a tab around it: written bare
                texts = [repr(v) if "\t" in t else t for v, t in zip(values, texts, strict=True)]
            out.extend(map("".join, zip(map(heads.__getitem__, lines), repeat(field), texts,
                                        map(tails.__getitem__, lines), strict=False)))
        return out

    def _epoch(self, stamp: str) -> str:
        """The record's time as seconds since the epoch (lines written together share a
        stamp, so each is parsed once)."""
        epoch = self._epochs.get(stamp)
        if epoch is None:
            if len(self._epochs) > 10_000:
                self._epochs.clear()
            try:
                epoch = repr(datetime.fromisoformat(stamp).timestamp())
            except ValueError:
                epoch = "nan"
            self._epochs[stamp] = epoch
        return epoch


class Helper:
    """The worker's helper: a process forked once, the first time the worker is behind,
    that parses the chunk after the worker's own (a fork per chunk would cost the worker
    a copy of every page it then writes)."""

    def __init__(self, worker: Worker):
        request_read, self._requests = os.pipe()
        answer_read, answer_write = os.pipe()
        if os.fork() == 0:  # the helper, in the worker's process group
            code = 1
            try:
                os.close(self._requests)
                os.close(answer_read)
                worker.serve(request_read, answer_write)
                code = 0
            finally:
                os._exit(code)
        os.close(request_read)
        os.close(answer_write)
        self._answers = open(answer_read, "rb")  # noqa: SIM115 - open for the worker's life

    def ask(self, start: int, length: int, first_line: int) -> None:
        os.write(self._requests, f"{start} {length} {first_line}\n".encode())

    def answer(self) -> str:
        """The records of the span asked for (the helper gone: an error)."""
        head = self._answers.read(8)
        size = int.from_bytes(head, "little") if len(head) == 8 else -1
        text = self._answers.read(size) if size >= 0 else b""
        if size < 0 or len(text) != size:
            raise RuntimeError("the parser's helper failed")
        return text.decode()


def _open_when_there(path: Path, slots: memoryview, parent: int):
    """``job.log`` opened for reading, once it exists (None: finished before it did)."""
    while True:
        finishing = slots[_FINISH]
        try:
            return open(path, "rb")
        except FileNotFoundError:
            if finishing or os.getppid() != parent:
                return None
            time.sleep(POLL)


class Watchdog:
    """Runs the worker in a forked child and restarts it past a stuck line."""

    def __init__(self, job_dir: Path, fd: int, budget: float = DEFAULT_BUDGET):
        self.job_dir = job_dir
        self.fd = fd
        self.budget = budget
        self.memory = mmap.mmap(-1, 8 * SLOTS)
        self.slots = memoryview(self.memory).cast("q")
        self.warnings: list[str] = []

    def run(self, finished) -> int:
        """Parse until ``finished()`` says the log is complete and all of it is parsed;
        0, or 1 when the worker kept dying."""
        crashes = 0
        while True:
            for slot in (_MARK, _HELPER_MARK):
                self.slots[slot], self.slots[slot + 1] = -1, 0
            pid = os.fork()
            if pid == 0:  # the worker
                code = 1
                try:
                    Worker(self.job_dir, PointsFile(self.fd), self.slots).run(os.getppid())
                    code = 0
                finally:
                    os._exit(code)
            outcome = self._watch(pid, finished)
            if outcome == 0:
                return 0
            if outcome is None:  # stuck: switched off, go on without it
                continue
            crashes += 1
            if crashes > MAX_RESTARTS:
                print(f"metric_points: the parser failed {crashes} times (exit {outcome})",
                      file=sys.stderr)
                return 1

    def _watch(self, pid: int, finished) -> int | None:
        """The worker's exit code, or None once it was killed on a stuck call (the worker
        and its helper are watched alike, each by its own mark)."""
        marks = {_MARK: (None, time.monotonic()), _HELPER_MARK: (None, time.monotonic())}
        while True:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                self._end_group(pid)  # a helper the worker left behind
                return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            if self.slots[_FINISH]:
                time.sleep(FINISH_POLL)
            elif finished(POLL):  # it waits up to POLL: the watch's pace
                self.slots[_FINISH] = 1
            now = time.monotonic()
            for slot, (mark, since) in marks.items():
                if self.slots[slot + 1] != _MATCHING or self.slots[slot] != mark:
                    marks[slot] = (self.slots[slot], now)
                elif now - since > self.budget:
                    self._end_group(pid)
                    os.waitpid(pid, 0)
                    self._switch_off(mark)
                    return None

    @staticmethod
    def _end_group(pid: int) -> None:
        """Kill the worker's process group (the worker is not reaped yet, so its id is
        still its own)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)

    def _switch_off(self, mark: int) -> None:
        if mark < 0:  # stuck scanning the text from a line on: find the line, one by one
            self.slots[_LINE_BY_LINE + ~mark % metric_rules.MAX_DEFINITIONS] = 1
            return
        line, index = divmod(mark, metric_rules.MAX_DEFINITIONS)
        points = PointsFile(self.fd)  # cuts off what the killed worker had not committed
        name = points.definitions[index][0]
        message = (f"metric {name!r} switched off: its pattern took longer than "
                   f"{self.budget:g} s on line {line + 1:,} of the log; its values before "
                   "that line are kept")
        points.switch_off(index, line, message)
        self.warnings.append(message)
        print(f"[sm_notebook] {message}", file=sys.stderr, flush=True)


def definitions_of(job_dir: Path, given: list | None) -> list[tuple[str, str]]:
    """The definitions to use: those given, else ``job.json``'s, else the built-in ones."""
    if given is None:
        try:
            given = json.loads((job_dir / JOB_FILE).read_text())["spec"].get("metrics")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            given = None
    pairs = [(d["name"], d["regex"]) if isinstance(d, dict) else tuple(d)
             for d in given or []]
    return pairs or list(metric_rules.DEFAULT_METRICS)


def parse(job_dir: Path, finished, definitions: list | None = None,
          budget: float = DEFAULT_BUDGET, wait: bool = True) -> int:
    """Parse ``job_dir``'s log into its points file until ``finished(timeout)`` is true
    (it may wait up to ``timeout`` seconds).  ``wait``: wait for a parser already at work
    on the folder (else leave it to that one, returning 0)."""
    path = job_dir / METRIC_POINTS_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return 0
        points = PointsFile(fd)
        if not points.definitions:
            points.start(definitions_of(job_dir, definitions))
        return Watchdog(job_dir, fd, budget).run(finished)
    finally:
        os.close(fd)


def stdin_closed(timeout: float) -> bool:
    """Whether standard input has ended (waiting up to ``timeout`` seconds to see)."""
    try:
        ready, _, _ = select.select([sys.stdin.fileno()], [], [], timeout)
        return bool(ready) and not os.read(sys.stdin.fileno(), 1 << 12)
    except (OSError, ValueError):
        return True


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="metric_points.py", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("job_dir", type=Path)
    parser.add_argument("--definitions", type=json.loads, help="JSON [[name, regex], ...]")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET)
    args = parser.parse_args(argv[1:])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a notebook's Ctrl-C is not for us
    follows = not stdin_closed(0)
    return parse(args.job_dir, stdin_closed, args.definitions, args.budget, wait=not follows)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
