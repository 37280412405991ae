"""AWS Batch training queues (``--queue``): a job waits in a queue, then runs as a
training job.

It is submitted as a service job (``SubmitServiceJob``) carrying the very CreateTrainingJob
request a direct job sends, its tags moved to Batch's as V3's ``TrainingQueue`` moves them,
and a retry strategy that retries only what SageMaker marks retryable.  It is followed
through the queue (``DescribeServiceJob``: Submitted → Runnable → Scheduled → Starting, with
the queue's reason) until Batch names the training job it made, and from then on as any
training job is (``follow.py``): logs, metrics, statuses.  A stop terminates the service
job, which stops its training job.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any

from ...clock import utc_now_iso
from ...errors import SpecError
from ...events import StatusEvent
from ...jobdir import JobDir
from ...spec import TrainingSpec
from ..aws import aws_errors
from ..base import Batch, JobRef
from .clients import AwsClients
from .follow import JobFollower

SERVICE_JOB_TYPE = "SAGEMAKER_TRAINING"
#: retried: SageMaker's internal errors (retryable by its own word); anything else ends it
RETRY_STRATEGY = {"attempts": 3, "evaluateOnExit": [
    {"action": "RETRY", "onStatusReason": "Received status from SageMaker:InternalServerError*"},
    {"action": "EXIT", "onStatusReason": "*"}]}
DEFAULT_QUEUE_TIMEOUT = 86400  # seconds an attempt may take, as V3's default
STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "SCHEDULED", "STARTING", "RUNNING",
            "SUCCEEDED", "FAILED")
QUEUED = STATUSES[:5]  # before its training job runs: the queue's part of the timeline
DESCRIBE_EVERY = (1.0, 10.0)  # seconds between DescribeServiceJob: soon after a change
STOP_REASON = "Stopped from sm_notebook"
DECIDE_WITHIN = 60.0  # seconds Batch may take to retry a failed attempt, or to end the job
QUEUE_EXPECTED = "the name or ARN of a SageMaker training job queue (aws batch " \
                 "describe-job-queues lists them)"


def submit_request(training: dict[str, Any], spec: TrainingSpec, name: str) -> dict[str, Any]:
    """The SubmitServiceJob request of a job: its CreateTrainingJob request as the payload,
    the tags moved to Batch's."""
    payload = dict(training)
    tags = payload.pop("Tags", [])
    request: dict[str, Any] = {
        "jobName": name, "jobQueue": spec.queue, "serviceJobType": SERVICE_JOB_TYPE,
        "serviceRequestPayload": json.dumps(payload), "retryStrategy": RETRY_STRATEGY,
        "timeoutConfig": {"attemptDurationSeconds": spec.queue_timeout
                          or DEFAULT_QUEUE_TIMEOUT}}
    if spec.priority is not None:
        request["schedulingPriority"] = spec.priority
    if spec.share is not None:
        request["shareIdentifier"] = spec.share
    if tags:
        request["tags"] = {tag["Key"]: tag["Value"] for tag in tags}
    return request


def training_job_of(described: dict[str, Any]) -> str | None:
    """The training job the service job's latest attempt made (its name), if any."""
    attempt = described.get("latestAttempt") or {}
    arn = (attempt.get("serviceResourceId") or {}).get("value")
    return arn.rsplit("/", 1)[-1] if arn else None


class Queues:
    """One region's Batch client for training queues."""

    def __init__(self, aws: AwsClients, region: str | None):
        self.client = aws.client("batch", region)
        self.region = region

    def check(self, queue: str) -> None:
        """``SpecError`` for a queue that does not exist or is not a training queue."""
        with aws_errors(f"could not look up job queue {queue}"):
            found = self.client.describe_job_queues(jobQueues=[queue]).get("jobQueues", [])
        if not found:
            raise SpecError("--queue", f"no job queue {queue} in {self.region}",
                            QUEUE_EXPECTED)
        kind = found[0].get("jobQueueType") or "ECS"
        if kind != SERVICE_JOB_TYPE:
            raise SpecError("--queue", f"{queue} is a {kind} queue, not a SageMaker training "
                            "queue", QUEUE_EXPECTED)
        if found[0].get("state") != "ENABLED":
            raise SpecError("--queue", f"{queue} is {found[0].get('state')}, and takes no new "
                            "jobs", "an ENABLED SageMaker training queue")

    def submit(self, request: dict[str, Any], uploaded: list[str]) -> dict[str, Any]:
        with aws_errors("SubmitServiceJob failed", uploaded):
            return self.client.submit_service_job(**request)

    def describe(self, job_id: str) -> dict[str, Any]:
        return self.client.describe_service_job(jobId=job_id)

    def terminate(self, job_id: str, name: str) -> None:
        with aws_errors(f"could not stop {name}"):
            self.client.terminate_service_job(jobId=job_id, reason=STOP_REASON)

    def jobs(self, queue: str) -> list[dict[str, Any]]:
        """Every job of the queue, as ``%sm_jobs`` rows, newest first."""
        rows: list[dict[str, Any]] = []
        with aws_errors(f"could not list the jobs of queue {queue}"):
            for status in STATUSES:  # one status a call (none: RUNNING alone)
                request: dict[str, Any] = {"jobQueue": queue, "jobStatus": status}
                while True:
                    page = self.client.list_service_jobs(**request)
                    rows += [queue_row(job, queue) for job in page.get("jobSummaryList", [])]
                    if not page.get("nextToken"):
                        break
                    request["nextToken"] = page["nextToken"]
        return sorted(rows, key=lambda r: r["created"] or "", reverse=True)


def job_status(batch_status: str) -> str:
    """A service job's status in SageMaker's words (the job handle's vocabulary)."""
    return {"SUCCEEDED": "Completed", "FAILED": "Failed"}.get(batch_status, "InProgress")


def _iso(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat()


def queue_row(summary: dict[str, Any], queue: str) -> dict[str, Any]:
    return {"name": summary["jobName"], "mode": "sagemaker",
            "status": job_status(summary.get("status", "")),
            "secondary_status": summary.get("status", "").title(),
            "created": _iso(summary.get("createdAt")),
            "failure_reason": summary.get("statusReason")
            if summary.get("status") == "FAILED" else None,
            "queue": queue, "training_job": training_job_of(summary)}


@dataclass
class QueueCursor:
    """Where following a queued job has got to: the queue, then its training job's."""

    training: str | None = None
    inner: Any = field(default=None, repr=False)  # the training job's follow.Cursor
    next_describe: float = 0.0
    interval: float = DESCRIBE_EVERY[0]
    last: tuple[str, str] | None = None
    done: bool = False
    ended_at: float = 0.0  # when its training job ended, while Batch decides on a retry


class QueueFollower:
    """Follows queued jobs: the service job until it has a training job, then that."""

    def __init__(self, aws: AwsClients, jobs: JobFollower):
        self.aws, self.jobs = aws, jobs

    def poll(self, ref: JobRef, cursor: QueueCursor | None) -> Batch:
        cur = cursor or QueueCursor(training=JobDir(ref.directory).state_dict().get(
            "training_job"))
        statuses: list[StatusEvent] = []
        if cur.training is None and not cur.done and time.monotonic() >= cur.next_describe:
            statuses = self._describe(ref, cur)
        if cur.training is None:
            return Batch([], statuses, cur, cur.done)
        inner = self.jobs.poll(dataclasses.replace(ref, name=cur.training), cur.inner)
        cur.inner = inner.cursor
        done = inner.done and not self._retried(ref, cur)
        return Batch(inner.logs, statuses + inner.statuses, cur, done, inner.lines)

    def _retried(self, ref: JobRef, cur: QueueCursor) -> bool:
        """After its training job ended: whether Batch runs the job again (its retry
        strategy).  If so the queue is followed again, then the new attempt's training
        job, into the same log and timeline (the attempt that failed stays in it)."""
        folder = JobDir(ref.directory)
        state = folder.state_dict()
        if state.get("status") == "Completed":
            return False
        now = time.monotonic()
        cur.ended_at = cur.ended_at or now
        if now < cur.next_describe:
            return True  # asked a moment ago
        cur.next_describe = now + DESCRIBE_EVERY[0]
        try:
            described = Queues(self.aws, ref.handle.get("region")).describe(
                ref.handle["queue_job"])
        except Exception:  # cannot tell: what the training job said stands
            return False
        status = described.get("status")
        if status in ("SUCCEEDED", "FAILED"):
            return False
        if training_job_of(described) == cur.training:  # Batch has not decided yet
            return now - cur.ended_at < DECIDE_WITHIN
        self.jobs.release(cur.inner)
        cur.training, cur.inner, cur.last, cur.ended_at = None, None, None, 0.0
        cur.next_describe = 0.0
        folder.update_state(training_job=None, queue_transitions=state.get("transitions", []),
                            failure_reason=None, ended=None)
        return True

    def release(self, cursor: Any) -> None:
        if isinstance(cursor, QueueCursor) and cursor.inner is not None:
            self.jobs.release(cursor.inner)

    def _describe(self, ref: JobRef, cur: QueueCursor) -> list[StatusEvent]:
        try:
            described = Queues(self.aws, ref.handle.get("region")).describe(
                ref.handle["queue_job"])
        except Exception:  # throttled or offline: the next round asks again
            cur.next_describe = time.monotonic() + cur.interval
            return []
        status, reason = described.get("status", ""), described.get("statusReason", "")
        changed = (status, reason) != cur.last
        cur.interval = DESCRIBE_EVERY[0] if changed else min(DESCRIBE_EVERY[1],
                                                              cur.interval * 2)
        cur.next_describe = time.monotonic() + cur.interval
        if not changed:
            return []
        cur.last = (status, reason)
        now, training = utc_now_iso(), training_job_of(described)
        folder = JobDir(ref.directory)
        updates: dict[str, Any] = {
            "transitions": queue_transitions(folder.state_dict(), status, reason, training,
                                             now),
            "status": "InProgress", "secondary_status": status.title(), "message": reason}
        updates["queue_transitions"] = updates["transitions"]
        if training is not None:
            updates["training_job"] = cur.training = training
        elif status == "FAILED":  # it never ran: refused, timed out or stopped while queued
            stopped = bool(described.get("isTerminated")) and reason == STOP_REASON
            updates.update(status="Stopped" if stopped else "Failed", ended=now,
                           failure_reason=None if stopped else reason)
            cur.done = True
        state = folder.update_state(**updates)
        return [StatusEvent(now, state["status"], state["secondary_status"], reason,
                            state.get("failure_reason"))]


def queue_transitions(state: dict[str, Any], status: str, reason: str,
                      training: str | None, now: str) -> list[dict[str, Any]]:
    """The queue's part of the timeline with a new status: the last one ended, and this
    one added while the job waits (its training job's own transitions follow it)."""
    queued = list(state.get("queue_transitions", []))
    title = status.title()
    if queued and queued[-1]["Status"] != title:
        queued[-1] = {**queued[-1], "EndTime": now}
    waiting = status in QUEUED or (status == "FAILED" and training is None)
    if waiting and (not queued or queued[-1]["Status"] != title):
        queued.append({"Status": title, "StartTime": now, "StatusMessage": reason})
    return queued
