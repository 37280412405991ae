"""SageMaker as the tests need it, on moto's AWS API server.

moto accepts CreateTrainingJob but creates the job already ``Completed``, lacks
StopTrainingJob, and writes no CloudWatch logs (reference/test-infrastructure.md §1).  This
module patches moto so a job starts ``InProgress``/``Starting`` and can be stopped, and a
``Service`` plays a script per job from a thread: status transitions as the service makes
them, and log events put into the job's ``<job>/algo-N-<epoch>`` streams over HTTP.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import boto3
from moto.core.responses import ActionResult
from moto.sagemaker import models as smm
from moto.sagemaker.responses import SageMakerResponse

ACCOUNT, REGION = "123456789012", "us-east-1"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
_original_init = smm.FakeTrainingJob.__init__


def _init(self, *args: Any, **kwargs: Any) -> None:
    definitions = (kwargs.get("algorithm_specification") or {}).get("MetricDefinitions")
    _original_init(self, *args, **kwargs)
    if definitions is not None:  # moto replaces them with its own
        self.algorithm_specification["MetricDefinitions"] = definitions
    self.training_job_status, self.secondary_status = "InProgress", "Starting"
    self.secondary_status_transitions = [{"Status": "Starting", "StartTime": datetime.now(UTC),
                                          "StatusMessage": "Launching requested ML instances"}]
    self.training_start_time = self.training_end_time = None  # billing starts on instances
    self.final_metric_data_list = []


def _stop_training_job(self: SageMakerResponse) -> ActionResult:
    job = self.sagemaker_backend.training_jobs[self._get_param("TrainingJobName")]
    if job.training_job_status == "InProgress":
        _advance(job, "Stopping", "Stopping", "Stopping the training job")
        job.stop_requested = True
    return ActionResult({})


smm.FakeTrainingJob.__init__ = _init
SageMakerResponse.stop_training_job = _stop_training_job


def _advance(job: Any, status: str, secondary: str, message: str = "",
             failure_reason: str | None = None) -> None:
    if status == "InProgress" and getattr(job, "stop_requested", False):
        return  # a stopping job never goes back to training, however late a step plays
    now = datetime.now(UTC)
    if job.secondary_status_transitions:
        job.secondary_status_transitions[-1]["EndTime"] = now
    job.secondary_status_transitions.append({"Status": secondary, "StartTime": now,
                                             "StatusMessage": message})
    job.training_job_status, job.secondary_status, job.last_modified_time = \
        status, secondary, now
    if job.training_start_time is None and secondary in ("Downloading", "Training"):
        job.training_start_time = now
    if status in ("Completed", "Failed", "Stopped"):
        job.training_end_time = now
    if failure_reason:
        job.failure_reason = failure_reason


def training_jobs() -> dict[str, Any]:
    return smm.sagemaker_backends[ACCOUNT][REGION].training_jobs


class Service:
    """Plays a script of steps for a named job once it has been created."""

    def __init__(self, endpoint: str):
        self.logs = boto3.client("logs", endpoint_url=endpoint, region_name=REGION,
                                 aws_access_key_id="testing", aws_secret_access_key="testing")
        with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
            self.logs.create_log_group(logGroupName=LOG_GROUP)
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def play(self, name: str, steps: list[Callable[[Service, Any], None]]) -> None:
        thread = threading.Thread(target=self._run, args=(name, steps), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _run(self, name: str, steps: list[Callable[[Service, Any], None]]) -> None:
        try:
            deadline = time.monotonic() + 60
            while name not in training_jobs():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"job {name} was never created")
                time.sleep(0.02)
            job = training_jobs()[name]
            for step in steps:
                step(self, job)
        except BaseException as exc:  # surfaced by the fixture
            self.errors.append(exc)

    def put(self, job: Any, host: str, messages: list[str]) -> None:
        stream = f"{job.training_job_name}/{host}-{int(job.creation_time.timestamp())}"
        with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
            self.logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        now = int(time.time() * 1000)
        for start in range(0, len(messages), 10_000):
            self.logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=[
                {"timestamp": now, "message": m} for m in messages[start:start + 10_000]])


def status(state: str, secondary: str, message: str = "", failure: str | None = None):
    return lambda service, job: _advance(job, state, secondary, message, failure)


def logs(host: str, *messages: str):
    return lambda service, job: service.put(job, host, list(messages))


def pause(seconds: float):
    return lambda service, job: time.sleep(seconds)


def until_stopping(timeout: float = 30):
    def wait(service: Service, job: Any) -> None:
        deadline = time.monotonic() + timeout
        while not getattr(job, "stop_requested", False):
            if time.monotonic() > deadline:
                raise TimeoutError("the job was never asked to stop")
            time.sleep(0.05)
    return wait


class CallCounter:
    """CloudWatch Logs and SageMaker calls that follow a job, counted where moto answers
    them (install after any fault injector, so its calls count too)."""

    ACTIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "logs": ("get_log_events", "describe_log_streams", "filter_log_events",
                 "start_live_tail"),
        "sagemaker": ("describe_training_job",)}

    def __init__(self) -> None:
        from moto.logs.responses import LogsResponse

        self.counts: Counter[str] = Counter()
        self.originals = []
        for cls, names in ((LogsResponse, self.ACTIONS["logs"]),
                           (SageMakerResponse, self.ACTIONS["sagemaker"])):
            for name in names:
                original = getattr(cls, name)
                self.originals.append((cls, name, original))
                setattr(cls, name, self._counting(name, original))

    def _counting(self, name: str, original: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(response: Any) -> Any:
            self.counts[name] += 1
            return original(response)
        return call

    def restore(self) -> None:
        for cls, name, original in reversed(self.originals):
            setattr(cls, name, original)


class Throttling:
    """Makes every ``every``-th GetLogEvents call fail with ThrottlingException, as
    CloudWatch does under load (botocore retries it; nothing may be lost or repeated)."""

    def __init__(self, every: int):
        from moto.logs.exceptions import JsonRESTError
        from moto.logs.responses import LogsResponse

        self.every, self.calls, self.throttled = every, 0, 0
        self.original = LogsResponse.get_log_events
        throttling = self

        def get_log_events(response: Any) -> Any:
            throttling.calls += 1
            if throttling.calls % throttling.every == 0:
                throttling.throttled += 1
                raise JsonRESTError("ThrottlingException", "Rate exceeded")
            return throttling.original(response)

        self.target = LogsResponse
        LogsResponse.get_log_events = get_log_events

    def restore(self) -> None:
        self.target.get_log_events = self.original


class CreateFailure:
    """Makes CreateTrainingJob fail with a service error, as AWS does for missing
    permissions, used-up quotas or a role SageMaker cannot assume."""

    def __init__(self, code: str, message: str):
        from moto.core.exceptions import JsonRESTError

        self.original = SageMakerResponse.create_training_job

        def create_training_job(response: Any) -> Any:
            raise JsonRESTError(code, message)

        SageMakerResponse.create_training_job = create_training_job

    def restore(self) -> None:
        SageMakerResponse.create_training_job = self.original


def finals(billable: int, **metrics: float):
    """What the service reports at the end: final metric values and billable seconds."""
    def report(service: Service, job: Any) -> None:
        now = datetime.now(UTC)
        job.final_metric_data_list = [{"MetricName": name, "Value": value, "Timestamp": now}
                                      for name, value in metrics.items()]
        job.billable_time_in_seconds = billable
        job.training_time_in_seconds = billable
    return report


class LiveTail:
    """Makes StartLiveTail stream as CloudWatch does (moto's answers once, with what is
    there, and closes): a session start, then every ``tick`` seconds an update with the
    events put since the last one, at most 500 (sampled, and flagged so, above that),
    until the client closes the stream or ``session_seconds`` pass (then the service's
    SessionTimeoutException).  ``refuse`` answers every call with that error instead."""

    def __init__(self, tick: float = 1.0, session_seconds: float | None = None,
                 refuse: str | None = None):
        from moto.logs.responses import LogsResponse

        self.configure(tick, session_seconds, refuse)
        self.calls = self.open = self.sampled = 0
        self.original = LogsResponse.start_live_tail
        self.target = LogsResponse
        live = self

        def start_live_tail(response: Any) -> Any:
            return live._start(response)

        LogsResponse.start_live_tail = start_live_tail

    def configure(self, tick: float = 1.0, session_seconds: float | None = None,
                  refuse: str | None = None) -> None:
        self.tick, self.session_seconds, self.refuse = tick, session_seconds, refuse

    def wait_closed(self, timeout: float = 10) -> int:
        """Sessions still open after the client let go (the server notices at its next
        update) or ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.open

    def restore(self) -> None:
        self.target.start_live_tail = self.original

    def _start(self, response: Any) -> Any:
        from moto.logs.exceptions import JsonRESTError

        self.calls += 1
        if self.refuse:
            raise JsonRESTError(self.refuse, f"{self.refuse} (the test's)")
        backend = response.logs_backend
        groups = [backend._find_live_tail_log_group(identifier)
                  for identifier in response._get_param("logGroupIdentifiers")]
        prefixes = response._get_param("logStreamNamePrefixes") or []
        return 200, {"Content-Type": "application/vnd.amazon.eventstream"}, \
            self._session(groups[0], prefixes)

    def _session(self, group: Any, prefixes: list[str]):
        import json
        import random

        from moto.core.eventstream import EventStreamEncoder

        encoder = EventStreamEncoder()

        def event(kind: str, body: dict[str, Any], message_type: str = "event") -> bytes:
            key = ":event-type" if message_type == "event" else ":exception-type"
            return encoder.encode_message({":message-type": message_type, key: kind,
                                           ":content-type": "application/json"},
                                          json.dumps(body).encode())

        def matching() -> list[Any]:
            return [s for name, s in list(group.streams.items())
                    if any(name.startswith(p) for p in prefixes)]

        seen = {s.log_stream_name: len(s.events) for s in matching()}  # from now on
        self.open += 1
        began = time.monotonic()
        try:
            yield event("initial-response", {})
            yield event("sessionStart", {"requestId": "r", "sessionId": f"s{self.calls}",
                                         "logGroupIdentifiers": [group.arn],
                                         "logStreamNamePrefixes": prefixes})
            while True:
                time.sleep(self.tick)
                if self.session_seconds and time.monotonic() - began > self.session_seconds:
                    yield event("SessionTimeoutException", {"message": "Session timed out"},
                                "exception")
                    return
                results = []
                for stream in matching():
                    events = list(stream.events)
                    start = seen.get(stream.log_stream_name, 0)
                    seen[stream.log_stream_name] = len(events)
                    results += [{"logStreamName": stream.log_stream_name,
                                 "logGroupIdentifier": group.arn, "message": e.message,
                                 "timestamp": e.timestamp, "ingestionTime": e.ingestion_time}
                                for e in events[start:]]
                sampled = len(results) > 500
                if sampled:
                    self.sampled += 1
                    keep = sorted(random.sample(range(len(results)), 500))
                    results = [results[i] for i in keep]
                yield event("sessionUpdate", {"sessionMetadata": {"sampled": sampled},
                                              "sessionResults": results})
        finally:
            self.open -= 1
