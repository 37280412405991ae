"""Follow a training job's CloudWatch log streams: every ``<job>/algo-N-<epoch>`` stream,
discovered as it appears, paged with ``nextForwardToken`` until the token repeats, lines of
all streams interleaved by timestamp with their host tags.

Positions (one token per stream) only move past a page once it has been handed out, so a
throttled or failed call loses nothing and repeats nothing; they are plain data, saved
beside ``job.log`` so a re-attached job resumes where the last one stopped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...events import LogEvent
from .log_ledger import CloudEvent

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
PAGE_LIMIT = 10_000  # get_log_events' largest page
_HOST = re.compile(r"/(algo-\d+)-\d+$")


def host_of(stream: str) -> str:
    """``job/algo-2-1700000000`` → ``algo-2`` (the stream name without the job)."""
    m = _HOST.search(stream)
    return m.group(1) if m else stream.split("/", 1)[-1]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LogPositions:
    """Where each stream has been read up to (``None``: not read yet)."""

    tokens: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": dict(self.tokens)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogPositions:
        return cls(dict(data.get("tokens", {})))


class LogFollower:
    """Reads new events of a job's streams through a boto3 ``logs`` client."""

    def __init__(self, client: Any, job_name: str, positions: LogPositions | None = None,
                 page_limit: int | None = None):
        self.client = client
        self.job_name = job_name
        self.positions = positions or LogPositions()
        self.page_limit = page_limit or PAGE_LIMIT
        self.errors: list[Exception] = []  # failed calls of the last read, for the caller

    def discover(self) -> list[str]:
        """Every stream of the job (paged); new ones start from their head."""
        names: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP,
                                  "logStreamNamePrefix": f"{self.job_name}/"}
        try:
            while True:
                page = self.client.describe_log_streams(**kwargs)
                names += [s["logStreamName"] for s in page.get("logStreams", [])]
                token = page.get("nextToken")
                if not token or token == kwargs.get("nextToken"):
                    break
                kwargs["nextToken"] = token
        except self.client.exceptions.ResourceNotFoundException:
            return []  # the group appears with the account's first job logs
        for name in names:
            self.positions.tokens.setdefault(name, None)
        return names

    def read(self, names: list[str] | None = None) -> dict[str, tuple[list[CloudEvent], bool]]:
        """The events written since the last read of each stream (all known streams, or
        ``names``), in stream order, and whether the read reached the stream's end."""
        self.errors = []
        return {name: self._read_stream(name)
                for name in sorted(names if names is not None else self.positions.tokens)}

    def _read_stream(self, name: str) -> tuple[list[CloudEvent], bool]:
        events: list[CloudEvent] = []
        self.positions.tokens.setdefault(name, None)
        token = self.positions.tokens[name]
        while True:
            kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamName": name,
                                      "startFromHead": True, "limit": self.page_limit}
            if token:
                kwargs["nextToken"] = token
            try:
                page = self.client.get_log_events(**kwargs)
            except Exception as exc:  # throttled, or the network: retried next round
                self.errors.append(exc)
                return events, False  # the token still matches the events already taken
            page_events = page.get("events", [])
            events += [CloudEvent.of(name, ev) for ev in page_events]
            following = page.get("nextForwardToken")
            if not following or following == token:
                return events, True
            token = following
            self.positions.tokens[name] = token  # this page is in ``events`` now
            if len(page_events) < self.page_limit:  # caught up: the rest comes next round
                return events, True


def log_events(events: list[CloudEvent], interleave: bool = True) -> list[LogEvent]:
    """CloudWatch events as the job's log lines, tagged with their host; ``interleave``
    orders several streams' events by timestamp (each stream's own order kept)."""
    if interleave:
        rank = {name: index for index, name in enumerate(sorted({e.stream for e in events}))}
        events = sorted(events, key=lambda e: (e.timestamp, rank[e.stream]))
    out = []
    for event in events:
        host = host_of(event.stream)
        for line in event.message.rstrip("\n").split("\n") or [""]:
            out.append(LogEvent(_iso(event.timestamp), host, line.rstrip("\r"), "stdout"))
    return out
