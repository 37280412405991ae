"""AWS Batch's service jobs for SageMaker training queues, served over real HTTP for the
tests (moto has no service jobs; AWS is not reachable from CI).

Answers as botocore's ``batch`` model (rest-json, 2016-08-10) expects, so plain boto3
reaches it through ``AWS_ENDPOINT_URL_BATCH``: DescribeJobQueues, SubmitServiceJob,
DescribeServiceJob, ListServiceJobs and TerminateServiceJob, each ``POST /v1/<name>``;
refusals are 400 ``ClientException`` (``__type``/``message`` body and the
``x-amzn-ErrorType`` header).

A submitted job moves on its own thread, one status every ``step_seconds``: SUBMITTED,
PENDING, RUNNABLE, SCHEDULED, STARTING (here the training job is created in moto from the
payload, under the payload's ``TrainingJobName``), RUNNING (DescribeTrainingJob polled
every step), then SUCCEEDED (training ``Completed``) or FAILED (``Failed``/``Stopped``,
the training job's ``FailureReason`` as statusReason).  A failed attempt is retried as
``retryStrategy`` says (attempts left; the first ``evaluateOnExit`` rule whose
``onStatusReason`` glob matches decides, RETRY when none matches, as Batch documents); a
retry goes back to RUNNABLE and trains as ``<TrainingJobName>-a<attempt>``.

Simplified where the tests need no more: a refused CreateTrainingJob fails the job at once
(no retry), a terminated job is FAILED at once (its training job is asked to stop, not
waited for), ``clientToken`` is ignored, and a queue's ``status`` is only echoed.  Real
Batch names the training job ``AWSBatch<TrainingJobName><hash>``: read its name from the
attempt's ``serviceResourceId``, never from the payload.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tests.fakes.sagemaker_service import ACCOUNT, REGION, _advance, training_jobs

ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}"
FROM_SAGEMAKER = "Received status from SageMaker: "
REASONS = {
    "SUBMITTED": "Job submitted to the job queue",
    "PENDING": "Waiting for the scheduler to evaluate the job",
    "RUNNABLE": "Waiting for capacity in the service environment",
    "SCHEDULED": "Capacity acquired; submitting the request to SageMaker",
    "STARTING": FROM_SAGEMAKER + "Training job created",
    "RUNNING": FROM_SAGEMAKER + "Training job in progress",
    "SUCCEEDED": FROM_SAGEMAKER + "Training job completed",
}
FAILED_REASON = FROM_SAGEMAKER + "Training job failed"  # a Failed job without FailureReason
STOPPED_REASON = FROM_SAGEMAKER + "Training job stopped"
STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "SCHEDULED", "STARTING", "RUNNING",
            "SUCCEEDED", "FAILED")
OPERATIONS = {"/v1/describejobqueues": "DescribeJobQueues",
              "/v1/submitservicejob": "SubmitServiceJob",
              "/v1/describeservicejob": "DescribeServiceJob",
              "/v1/listservicejobs": "ListServiceJobs",
              "/v1/terminateservicejob": "TerminateServiceJob"}
ECHOED = ("retryStrategy", "schedulingPriority", "shareIdentifier", "quotaShareName",
          "preemptionConfiguration", "timeoutConfig", "tags")


class ClientException(Exception):
    """A request the service refuses (HTTP 400)."""


def now_ms() -> int:
    return int(time.time() * 1000)


def glob_matches(pattern: str, text: str) -> bool:
    """Batch's ``onStatusReason``/``JOB_NAME`` globs: ``*`` is any run, all else literal."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text,
                        re.DOTALL) is not None


@dataclass
class Queue:
    name: str
    job_queue_type: str
    state: str
    status: str
    priority: int

    @property
    def arn(self) -> str:
        return f"{ARN}:job-queue/{self.name}"

    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "jobQueueName": self.name, "jobQueueArn": self.arn, "state": self.state,
            "status": self.status, "statusReason": "JobQueue Healthy",
            "priority": self.priority, "jobQueueType": self.job_queue_type, "tags": {},
            "computeEnvironmentOrder": [], "jobStateTimeLimitActions": []}
        environment = f"{ARN}:{{}}/{self.name}-environment"
        if self.job_queue_type == "SAGEMAKER_TRAINING":
            detail["serviceEnvironmentOrder"] = [
                {"order": 1, "serviceEnvironment": environment.format("service-environment")}]
        else:
            detail["computeEnvironmentOrder"] = [
                {"order": 1, "computeEnvironment": environment.format("compute-environment")}]
        return detail


@dataclass
class Job:
    job_id: str
    name: str
    queue_arn: str
    request: dict[str, Any]
    payload: dict[str, Any]
    created_at: int = field(default_factory=now_ms)
    status: str = "SUBMITTED"
    reason: str = REASONS["SUBMITTED"]
    attempts: list[dict[str, Any]] = field(default_factory=list)
    scheduled_at: int | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    terminated: bool = False
    training_name: str | None = None  # the open attempt's training job
    forced_failure: bool = False  # fail_first_attempt has been applied

    @property
    def arn(self) -> str:
        return f"{ARN}:service-job/{self.job_id}"

    @property
    def done(self) -> bool:
        return self.status in ("SUCCEEDED", "FAILED")

    def summary(self) -> dict[str, Any]:
        """ServiceJobSummary, as ListServiceJobs answers it."""
        summary: dict[str, Any] = {
            "jobArn": self.arn, "jobId": self.job_id, "jobName": self.name,
            "serviceJobType": self.request["serviceJobType"], "status": self.status,
            "statusReason": self.reason, "createdAt": self.created_at,
            "isTerminated": self.terminated, **self._capacity()}
        if self.attempts:
            summary["latestAttempt"] = {
                "serviceResourceId": dict(self.attempts[-1]["serviceResourceId"])}
        for key, value in (("scheduledAt", self.scheduled_at), ("startedAt", self.started_at),
                           ("stoppedAt", self.stopped_at),
                           ("shareIdentifier", self.request.get("shareIdentifier")),
                           ("quotaShareName", self.request.get("quotaShareName"))):
            if value is not None:
                summary[key] = value
        return summary

    def detail(self) -> dict[str, Any]:
        """DescribeServiceJob's answer (``startedAt`` only once an attempt started)."""
        detail = self.summary()
        detail.update(jobQueue=self.queue_arn,
                      serviceRequestPayload=self.request["serviceRequestPayload"],
                      attempts=[{**a, "serviceResourceId": dict(a["serviceResourceId"])}
                                for a in self.attempts])
        detail.update({key: self.request[key] for key in ECHOED if key in self.request})
        return detail

    def _capacity(self) -> dict[str, Any]:
        count = (self.payload.get("ResourceConfig") or {}).get("InstanceCount")
        if not isinstance(count, int):
            return {}
        return {"capacityUsage": [{"capacityUnit": "NUM_INSTANCES", "quantity": float(count)}]}


class BatchService:
    """Serves service jobs on loopback; each job's training job goes to moto at
    ``moto_endpoint``.  ``requests`` records each call's body (``operation`` added),
    ``errors`` what went wrong off the request path (a test asserts it stays empty)."""

    def __init__(self, moto_endpoint: str, step_seconds: float = 0.2):
        self.step_seconds = step_seconds
        self.requests: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self._queues: dict[str, Queue] = {}
        self._jobs: dict[str, Job] = {}
        self._holds: dict[str, str] = {}
        self._first_failures: dict[str, tuple[str, bool]] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closing = False
        self.sagemaker = boto3.client("sagemaker", endpoint_url=moto_endpoint,
                                      region_name=REGION, aws_access_key_id="testing",
                                      aws_secret_access_key="testing")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        server = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        server.start()
        self._server_thread = server

    # -- what a test arranges --------------------------------------------------------------

    def add_queue(self, name: str, job_queue_type: str = "SAGEMAKER_TRAINING",
                  state: str = "ENABLED", status: str = "VALID", priority: int = 1) -> str:
        """A job queue as CreateJobQueue would leave it; returns its ARN."""
        with self._lock:
            self._queues[name] = Queue(name, job_queue_type, state, status, priority)
            return self._queues[name].arn

    def hold(self, job_name: str, status: str) -> None:
        """Jobs named so stop at ``status`` (once reached) until released or re-held."""
        assert status in STATUSES[:6], status
        with self._changed:
            self._holds[job_name] = status
            self._changed.notify_all()

    def release(self, job_name: str) -> None:
        with self._changed:
            self._holds.pop(job_name, None)
            self._changed.notify_all()

    def fail_first_attempt(self, job_name: str, reason: str, retryable: bool = True) -> None:
        """At its first RUNNING poll, the first attempt's training job fails in moto with
        ``reason`` as FailureReason (so the attempt's statusReason); the retry strategy
        then decides, unless ``retryable`` is false: then the job is FAILED regardless."""
        with self._lock:
            self._first_failures[job_name] = (reason, retryable)

    def close(self) -> None:
        """Stops serving and the jobs' threads (they end where they are)."""
        with self._changed:
            if self._closing:
                return
            self._closing = True
            self._changed.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self._server_thread.join(timeout=5)
        for thread in list(self.threads):
            thread.join(timeout=5)

    # -- HTTP --------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                operation = OPERATIONS.get(self.path.split("?")[0].rstrip("/"))
                try:
                    body = json.loads(raw or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError("the request body is not a JSON object")
                except ValueError as exc:
                    self._answer(400, {"__type": "ClientException", "message": str(exc)})
                    return
                with service._lock:
                    service.requests.append({"operation": operation or self.path, **body})
                if operation is None:
                    self._answer(404, {"__type": "UnknownOperationException",
                                       "message": f"no operation at POST {self.path}"})
                    return
                try:
                    answer = getattr(service, f"_{operation}")(body)
                except ClientException as exc:
                    self._answer(400, {"__type": "ClientException", "message": str(exc)})
                except Exception as exc:  # a bug here: answered as the service would, kept
                    service.errors.append(exc)
                    self._answer(500, {"__type": "ServerException", "message": repr(exc)})
                else:
                    self._answer(200, answer)

            def _answer(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                if code >= 400:
                    self.send_header("x-amzn-ErrorType", payload["__type"])
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    # -- operations (called with the lock free) --------------------------------------------

    def _DescribeJobQueues(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            asked = body.get("jobQueues") or []
            queues = [q for q in (self._find_queue(a) for a in asked) if q] if asked \
                else list(self._queues.values())
            page, token = _page([q.detail() for q in queues], body)
        return {"jobQueues": page, **token}

    def _SubmitServiceJob(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("jobName")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", name):
            raise ClientException(f"jobName {name!r} must be 1 to 128 letters, numbers, "
                                  "hyphens or underscores")
        if body.get("serviceJobType") != "SAGEMAKER_TRAINING":
            raise ClientException(f"serviceJobType {body.get('serviceJobType')!r} is not "
                                  "supported; the supported type is SAGEMAKER_TRAINING")
        try:
            payload = json.loads(body.get("serviceRequestPayload") or "")
        except (TypeError, ValueError):
            payload = None
        if not isinstance(payload, dict):
            raise ClientException("serviceRequestPayload must be a JSON object")
        strategy = body.get("retryStrategy")
        if strategy is not None and not 1 <= int(strategy.get("attempts", 0)) <= 10:
            raise ClientException("retryStrategy.attempts must be between 1 and 10")
        if not 0 <= int(body.get("schedulingPriority", 0)) <= 9999:
            raise ClientException("schedulingPriority must be between 0 and 9999")
        with self._lock:
            queue = self._find_queue(body.get("jobQueue") or "")
            if queue is None:
                raise ClientException(f"Job queue {body.get('jobQueue')} does not exist")
            if queue.job_queue_type != "SAGEMAKER_TRAINING":
                raise ClientException(
                    f"Job queue {queue.arn} has jobQueueType {queue.job_queue_type}; "
                    "service jobs can only be submitted to a SAGEMAKER_TRAINING job queue")
            if queue.state != "ENABLED":
                raise ClientException(f"Job queue {queue.arn} is {queue.state} and accepts "
                                      "no new jobs")
            job = Job(str(uuid.uuid4()), name, queue.arn, dict(body), payload)
            self._jobs[job.job_id] = job
            thread = threading.Thread(target=self._run, args=(job,), daemon=True,
                                      name=f"batch-job-{name}")
            self.threads.append(thread)
        thread.start()
        return {"jobArn": job.arn, "jobName": job.name, "jobId": job.job_id}

    def _DescribeServiceJob(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._job(body.get("jobId")).detail()

    def _ListServiceJobs(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            jobs = list(self._jobs.values())
            if body.get("jobQueue"):
                queue = self._find_queue(body["jobQueue"])
                if queue is None:
                    raise ClientException(f"Job queue {body['jobQueue']} does not exist")
                jobs = [j for j in jobs if j.queue_arn == queue.arn]
            status, filters = body.get("jobStatus"), body.get("filters") or []
            if len(filters) > 1:
                raise ClientException("Only one filter can be used at a time")
            if filters:
                jobs = _filtered(jobs, filters[0])
                if filters[0].get("name") not in ("SHARE_IDENTIFIER", "QUOTA_SHARE_NAME"):
                    status = None  # ignored with the other filters, as documented
            elif status is None:
                status = "RUNNING"  # the documented default
            if status is not None:
                jobs = [j for j in jobs if j.status == status]
            order = {job_id: i for i, job_id in enumerate(self._jobs)}
            jobs.sort(key=lambda j: (j.created_at, order[j.job_id]), reverse=True)
            page, token = _page([j.summary() for j in jobs], body)
        return {"jobSummaryList": page, **token}

    def _TerminateServiceJob(self, body: dict[str, Any]) -> dict[str, Any]:
        reason = body.get("reason")
        if not reason:
            raise ClientException("reason is required")
        with self._changed:
            job = self._job(body.get("jobId"))
            if job.done:
                return {}
            training = job.training_name
            self._finish(job, "FAILED", reason, terminated=True)
        if training is not None:
            self._stop_training(training)
        return {}

    # -- the jobs' threads -------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        try:
            if not self._pause(job, "SUBMITTED"):
                return
            path = ("PENDING", "RUNNABLE", "SCHEDULED", "STARTING")
            while True:
                for status in path:
                    if not self._enter(job, status):
                        return
                    if status == "STARTING" and not self._start_attempt(job):
                        return
                    if not self._pause(job, status):
                        return
                if not self._enter(job, "RUNNING") or not self._follow(job):
                    return
                path = ("RUNNABLE", "SCHEDULED", "STARTING")  # a retry: to RUNNABLE again
        except Exception as exc:
            self.errors.append(exc)
            with self._changed:
                self._finish(job, "FAILED", f"simulator error: {exc!r}")

    def _enter(self, job: Job, status: str) -> bool:
        with self._changed:
            if job.done or self._closing:
                return False
            job.status, job.reason = status, REASONS[status]
            if status == "SCHEDULED":
                job.scheduled_at = now_ms()
            self._changed.notify_all()
            return True

    def _pause(self, job: Job, status: str) -> bool:
        """Waits out a hold at ``status``, then a step; false once the job has ended."""
        deadline = None
        with self._changed:
            while True:
                if job.done or self._closing:
                    return False
                if self._holds.get(job.name) == status:
                    deadline = None
                    self._changed.wait(0.1)
                    continue
                if deadline is None:
                    deadline = time.monotonic() + self.step_seconds
                left = deadline - time.monotonic()
                if left <= 0:
                    return True
                self._changed.wait(left)

    def _start_attempt(self, job: Job) -> bool:
        with self._lock:
            number = len(job.attempts) + 1
            payload = dict(job.payload)
            if number > 1:
                suffix = f"-a{number}"
                payload["TrainingJobName"] = \
                    f"{str(payload.get('TrainingJobName', ''))[:63 - len(suffix)]}{suffix}"
        try:
            arn = self.sagemaker.create_training_job(**payload)["TrainingJobArn"]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            refusal = f"{error.get('Code')}: {error.get('Message')}"
        except (BotoCoreError, TypeError) as exc:  # a payload botocore cannot send
            refusal = str(exc)
        else:
            refusal = None
        with self._changed:
            if refusal is not None:
                self._finish(job, "FAILED", refusal)
                return False
            started = now_ms()
            job.attempts.append({"serviceResourceId": {"name": "TrainingJobArn", "value": arn},
                                 "startedAt": started})
            job.started_at = job.started_at or started
            if not job.done:
                job.training_name = payload["TrainingJobName"]
                job.reason = REASONS["STARTING"]
                self._changed.notify_all()
                return True
            job.attempts[-1].update(stoppedAt=job.stopped_at, statusReason=job.reason)
        self._stop_training(payload["TrainingJobName"])  # terminated while it was created
        return False

    def _follow(self, job: Job) -> bool:
        """Polls the attempt's training job each step; true when a retry is to start."""
        while self._pause(job, "RUNNING"):
            with self._lock:
                name = job.training_name
                failure = self._first_failures.get(job.name) \
                    if len(job.attempts) == 1 and not job.forced_failure else None
                if failure is not None:
                    job.forced_failure = True
                    _advance(training_jobs()[name], "Failed", "Failed", failure[0],
                             failure_reason=failure[0])
            assert name is not None
            described = self.sagemaker.describe_training_job(TrainingJobName=name)
            state = described["TrainingJobStatus"]
            with self._changed:
                if job.done:
                    return False
                if state == "Completed":
                    self._finish(job, "SUCCEEDED", REASONS["SUCCEEDED"])
                    return False
                if state not in ("Failed", "Stopped"):
                    continue
                reason = described.get("FailureReason") or \
                    (STOPPED_REASON if state == "Stopped" else FAILED_REASON)
                forced = self._first_failures.get(job.name) if job.forced_failure \
                    and len(job.attempts) == 1 else None
                if (forced is None or forced[1]) and self._retries(job, reason):
                    job.attempts[-1].update(stoppedAt=now_ms(), statusReason=reason)
                    job.training_name = None
                    return True
                self._finish(job, "FAILED", reason)
                return False
        return False

    def _retries(self, job: Job, reason: str) -> bool:
        strategy = job.request.get("retryStrategy") or {}
        if len(job.attempts) >= int(strategy.get("attempts", 1)):
            return False
        for rule in strategy.get("evaluateOnExit") or []:
            if glob_matches(rule.get("onStatusReason", "*"), reason):
                return str(rule.get("action", "")).upper() == "RETRY"
        return True  # no rule matched: Batch retries

    def _stop_training(self, name: str) -> None:
        described = self.sagemaker.describe_training_job(TrainingJobName=name)
        if described["TrainingJobStatus"] == "InProgress":
            self.sagemaker.stop_training_job(TrainingJobName=name)

    # -- state, under the lock -----------------------------------------------------------

    def _finish(self, job: Job, status: str, reason: str, terminated: bool = False) -> None:
        if job.done:
            return
        job.status, job.reason, job.terminated = status, reason, terminated
        job.stopped_at = now_ms()
        if job.attempts and "stoppedAt" not in job.attempts[-1]:
            job.attempts[-1].update(stoppedAt=job.stopped_at, statusReason=reason)
        self._changed.notify_all()

    def _find_queue(self, name_or_arn: str) -> Queue | None:
        name = name_or_arn.removeprefix(f"{ARN}:job-queue/")
        return self._queues.get(name)

    def _job(self, job_id: Any) -> Job:
        job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise ClientException(f"Service job {job_id} does not exist")
        return job


def _filtered(jobs: list[Job], rule: dict[str, Any]) -> list[Job]:
    """ListServiceJobs' one filter: JOB_NAME (case-insensitive, ``*`` glob),
    SHARE_IDENTIFIER/QUOTA_SHARE_NAME, BEFORE_/AFTER_CREATED_AT (epoch ms)."""
    name, values = rule.get("name"), [str(v) for v in rule.get("values") or []]
    if name == "JOB_NAME":
        return [j for j in jobs if any(glob_matches(v.lower(), j.name.lower()) for v in values)]
    if name in ("SHARE_IDENTIFIER", "QUOTA_SHARE_NAME"):
        key = "shareIdentifier" if name == "SHARE_IDENTIFIER" else "quotaShareName"
        return [j for j in jobs if j.request.get(key) in values]
    if name in ("BEFORE_CREATED_AT", "AFTER_CREATED_AT") and values and values[0].isdigit():
        bound = int(values[0])
        return [j for j in jobs
                if (j.created_at < bound if name == "BEFORE_CREATED_AT" else j.created_at > bound)]
    raise ClientException(f"filter {name!r} with values {values} is not supported")


def _page(items: list[dict[str, Any]], body: dict[str, Any]) -> tuple[list[Any], dict[str, str]]:
    size = int(body.get("maxResults") or 100)
    if not 1 <= size <= 100:
        raise ClientException("maxResults must be between 1 and 100")
    token = body.get("nextToken") or "0"
    if not token.isdigit() or int(token) > len(items):
        raise ClientException(f"nextToken {token!r} is not valid")
    start = int(token)
    rest = {"nextToken": str(start + size)} if start + size < len(items) else {}
    return items[start:start + size], rest
