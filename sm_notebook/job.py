"""``Job``: the handle a notebook holds, its state, buffers and the pump that feeds them.

A daemon thread per job moves events from the backend into the job; renderers look at
the job at their own rate.  The full log stays on disk (``job.log``, written by the
backend); memory keeps a bounded window of lines.  Metric points are parsed beside the
job, not here (``points.py``): the job reads them from the folder when they are asked
for, so following a job costs the kernel what it shows, not what the job prints.  The job
knows nothing of how it is shown: the magics register its HTML view with IPython.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifacts import safe_extract
from .backends.base import Backend, Batch, DownloadsArtifacts, JobRef
from .catalog.pricing import state_cost
from .clock import iso_to_epoch, utc_now_iso
from .errors import JobFailedError, SmNotebookError
from .events import TERMINAL, LogEvent, StatusEvent
from .jobdir import JobDir, PointsReader
from .logwindow import LogWindow
from .metrics import MetricPoint
from .points import MetricPoints
from .spec import TrainingSpec

if TYPE_CHECKING:
    import pandas as pd

    from .serving.predictor import Predictor

DEFAULT_LOG_WINDOW = 10_000
MAX_METRIC_POINTS = 1_000_000
POLL_MIN, POLL_MAX = 0.01, 0.1
# Until the first line arrives (at most this long) the job is polled faster: that line is
# what the user waits for after launching.
POLL_FIRST_LINE_MAX, FIRST_LINE_WINDOW = 0.02, 10.0
#: lines in one poll that mean a job prints fast: the pump then polls every POLL_MAX, and a
#: poll hands out only the window's tail, so the kernel's work stays bounded
FLOOD_LINES = 1_000
CATCH_UP_TIMEOUT = 30.0  # seconds an attach may spend reading what an ended job left
WARNINGS_INTERVAL = 0.5  # seconds between looks for metric definitions switched off
LOG_COLUMNS = ("timestamp", "host", "stream", "message")


class Job:
    """A training job: ``status``, ``wait()``, ``stop()``, ``logs()``, ``metrics()``, ..."""

    def __init__(self, spec: TrainingSpec, name: str, directory: Path, backend: Backend,
                 ref: JobRef, log_window: int = DEFAULT_LOG_WINDOW, created: str | None = None):
        self.spec = spec
        self.name = name
        self.mode = spec.mode
        self.directory = directory
        self.folder = JobDir(directory)
        self.created = created
        self.notes: list[str] = []  # what launching it taught (said once, at launch)
        self._backend = backend
        self._ref = ref
        self._lock = threading.Lock()
        self._lines = LogWindow(log_window)
        self._metrics: list[MetricPoint] = []
        self._metrics_truncated = False
        self.metric_count = 0  # points ever read (the memory keeps the newest)
        self._points = MetricPoints(self.folder, [(m.name, m.regex) for m in spec.metrics])
        self._points_lock = threading.Lock()  # one reader of the points file at a time
        self._warnings_due = 0.0
        self.line_count = 0
        self.status = "InProgress"
        self.secondary_status = "Starting"
        self.status_message = ""
        self.failure_reason: str | None = None
        self._observed: list[StatusEvent] = []
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._detached = threading.Event()
        self._listeners: list[Callable[[Job], None]] = []
        self._thread: threading.Thread | None = None
        self._cursor: Any = None

    # ---- public handle ------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def model_artifacts(self) -> str | None:
        """Path (or URI) of ``model.tar.gz``, once the job has packed it."""
        return self.describe().get("model_artifacts")

    @property
    def output_artifacts(self) -> str | None:
        return self.describe().get("output_artifacts")

    @property
    def final_metrics(self) -> dict[str, float]:
        """The service's final value of each metric (SageMaker's ``FinalMetricDataList``);
        ``metrics()`` has every value parsed from the log."""
        return {m["metric"]: m["value"] for m in self.describe().get("final_metrics") or []}

    @property
    def billable_seconds(self) -> int | None:
        """Seconds SageMaker bills for (after spot savings); None outside sagemaker mode."""
        return self.describe().get("billable_seconds")

    @property
    def hourly_price(self) -> float | None:
        """On-demand USD per instance-hour from the AWS price list (sagemaker mode), or
        None when it is not known."""
        return self.describe().get("hourly_price")

    @property
    def cost(self) -> float | None:
        """Estimated USD for the job's instances: billable time (the time since training
        started, while it runs) × instance count × ``hourly_price``; storage, transfer and
        discounts are not counted.  None when the price is not known."""
        return state_cost(self.describe(), self.spec.instance_count, time.time())

    @property
    def transitions(self) -> list[dict[str, Any]]:
        """Secondary-status transitions (``Status``, ``StartTime``, ``EndTime``, message)."""
        return list(self.describe().get("transitions", []))

    @property
    def log_path(self) -> Path:
        return self.folder.log_file

    def extract_model(self, target: str | Path | None = None) -> Path:
        """Unpack ``model.tar.gz`` (default: ``<job dir>/model``), refusing unsafe paths;
        a model in S3 is downloaded first."""
        return safe_extract(self.model_tarball(), target or self.directory / "model")

    def wait(self, timeout: float | None = None, raise_on_failure: bool = False) -> str:
        """Block until the job ends; return its final status.

        Raises ``TimeoutError`` after ``timeout`` seconds, and :class:`JobFailedError` for a
        failed job when ``raise_on_failure``.
        """
        if not self._done.wait(timeout):
            raise TimeoutError(f"job {self.name} still {self.status} after {timeout} s")
        if self._detached.is_set():
            raise SmNotebookError(f"job {self.name} was detached while {self.status}; "
                                  f"job = %sm_attach {self.name} follows it again")
        if raise_on_failure and self.status == "Failed":
            raise JobFailedError(f"job {self.name} failed: {self.failure_reason}")
        return self.status

    def detach(self) -> None:
        """Stop following the job (it keeps running); ``%sm_attach NAME`` follows it again."""
        self._detached.set()

    def stop(self) -> None:
        """Ask the job to stop (SIGTERM, then SIGKILL after the grace period, locally); a
        detached handle can still stop the job it no longer follows."""
        if self.status not in TERMINAL:
            self._backend.stop(self._ref)

    def deploy(self, mode: str | None = None, instance_type: str | None = None,
               instance_count: int = 1, image: str | None = None,
               entry_script: str | None = None, framework: str | None = None,
               env: dict[str, str] | None = None, wait: bool = True, **more: Any
               ) -> Predictor | str:
        """Serve the trained model with the script's own handlers (``model_fn``,
        ``input_fn``, ``predict_fn``, ``output_fn`` or ``transform_fn``) and return its
        predictor: ``predictor.predict(data)``, ``.url``, ``.logs()``, ``.delete()``.

        ``mode`` is the job's own by default: ``local`` (a server on 127.0.0.1 with this
        Python), ``container`` (``docker run IMAGE serve``) or ``sagemaker`` (an endpoint;
        ``instance_type=`` or ``serverless={"memory": 2048, "concurrency": 5}``).  Also
        ``name=``, ``port=``, ``role=``, ``bucket=``, ``region=``, ``timeout=`` and
        ``dry_run=True`` (the plan, as text: nothing starts)."""
        from .serving.deploy import DeployOptions, deploy

        try:
            options = DeployOptions(mode=mode, instance_type=instance_type,
                                    instance_count=instance_count, image=image,
                                    entry_script=entry_script, framework=framework,
                                    env=dict(env or {}), wait=wait, **more)
        except TypeError as exc:
            raise SmNotebookError(f"deploy: {exc}") from None
        return deploy(self, options)

    def model_tarball(self) -> Path:
        """``model.tar.gz`` on this machine (downloaded first when it is in S3)."""
        artifact = self.model_artifacts
        if not artifact:
            raise SmNotebookError(f"job {self.name} has no model artifacts to serve "
                                f"(status {self.status})")
        if isinstance(self._backend, DownloadsArtifacts) and artifact.startswith("s3://"):
            artifact = self._backend.download(self._ref, artifact, self.folder.artifacts)
        if not Path(artifact).is_file():
            raise SmNotebookError(f"job {self.name} has no model artifacts to serve "
                                f"({artifact} is missing)")
        return Path(artifact)

    def describe(self) -> dict[str, Any]:
        """Everything known about the job: name, mode, spec, status, times, artifacts.

        The folder's state gives times, artifacts and prices; the status fields are the
        ones this handle has seen (``status``, ``secondary_status``, ``status_message``,
        ``failure_reason``), so ``describe()`` never contradicts the properties."""
        info: dict[str, Any] = {"name": self.name, "mode": self.mode,
                                "directory": str(self.directory), "created": self.created,
                                "log_file": str(self.log_path)}
        info.update(self._backend.describe(self._ref))
        info.update(status=self.status, secondary_status=self.secondary_status)
        if self.status_message:
            info["message"] = self.status_message
        if self.failure_reason:
            info["failure_reason"] = self.failure_reason
        info["spec"] = self.spec.to_dict()
        return info

    def logs(self, tail: int | None = None) -> pd.DataFrame:
        """The full log from disk: ``timestamp`` (UTC), ``host``, ``stream`` (categories)
        and ``message``, read a block at a time into typed columns, so memory stays
        within a few times the log's size."""
        from .logframe import log_frame

        return log_frame(self.folder.log_blocks(), tail)

    def metrics(self, wide: bool = False) -> pd.DataFrame:
        """Metric points parsed from the log: columns ``timestamp, host, metric, value,
        step`` (``step``: what the chart plots by, or empty); ``wide``: one column per
        metric, indexed by step."""
        from .metricframe import metric_frame

        return metric_frame(self.metric_points(), wide)

    def latest_metrics(self) -> dict[str, float]:
        """Each metric's last value so far, in definition order."""
        return PointsReader(self.folder.metric_points_file).latest()

    def metric_points(self) -> list[MetricPoint]:
        self._read_points()
        if self._metrics_truncated:  # memory kept the newest only: read the file again
            return PointsReader(self.folder.metric_points_file).points()
        with self._lock:
            return list(self._metrics)

    def metric_points_since(self, seen: int) -> tuple[list[MetricPoint], int]:
        """The points parsed after the first ``seen`` (those still in memory), and how many
        there are now: what a renderer has not drawn yet, at the cost of what is new."""
        self._read_points()
        with self._lock:
            first = self.metric_count - len(self._metrics)
            return self._metrics[max(0, seen - first):], self.metric_count

    def recent_lines(self, n: int | None = None) -> list[LogEvent]:
        with self._lock:
            return self._lines.last(n)

    def add_listener(self, listener: Callable[[Job], None]) -> None:
        """``listener(job)`` is called from the pump after each batch and once at the end."""
        self._listeners.append(listener)

    # ---- pump ----------------------------------------------------------------------------
    def catch_up(self, timeout: float = CATCH_UP_TIMEOUT) -> bool:
        """Poll in the caller's thread while the job reports that it has ended, until all
        it left is read: a job attached after its end is returned with its final status,
        log and metrics, not as Starting.  A running job is left to the pump (which goes
        on from here).  True when the job is done."""
        deadline = time.monotonic() + timeout
        try:
            batch = self._poll()
            while self.status in TERMINAL and not batch.done and time.monotonic() < deadline:
                time.sleep(POLL_MIN)
                batch = self._poll()
        except Exception:  # the pump polls again, and reports what goes wrong
            return False
        if batch.done:
            self._end()
        return batch.done

    def _poll(self) -> Batch:
        batch = self._backend.poll(self._ref, self._cursor)
        self._cursor = batch.cursor
        self.apply(batch)
        return batch

    def start(self) -> Job:
        if self.done:  # caught up already (an attach after the end)
            return self
        self._thread = threading.Thread(target=self._pump, name=f"sm_notebook-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def _pump(self) -> None:
        delay = POLL_MIN
        eager_until = time.monotonic() + FIRST_LINE_WINDOW
        parsing = False
        try:
            while not self._detached.is_set():
                batch = self._poll()
                if batch.done:
                    break
                if not parsing and self.line_count:  # after the first line: its start
                    self._points.follow()           # does not compete with the script's
                    parsing = True
                self._look_for_warnings()
                busy = batch.logs or batch.statuses
                flood = (batch.lines or len(batch.logs)) >= FLOOD_LINES
                eager = self.line_count == 0 and time.monotonic() < eager_until
                ceiling = POLL_FIRST_LINE_MAX if eager else POLL_MAX
                delay = (POLL_MAX if flood else POLL_MIN if busy
                         else min(ceiling, delay * 1.5))
                time.sleep(delay)
        except Exception as exc:  # report, never die silently
            self.error = exc
            self.status, self.secondary_status = "Failed", "Failed"
            self.failure_reason = f"sm_notebook lost track of the job: {exc!r}"
        finally:
            self._end()

    def _end(self) -> None:
        with contextlib.suppress(Exception):
            self._backend.release(self._cursor)
        with contextlib.suppress(Exception):  # the points are complete before it is done
            self._points.finish(CATCH_UP_TIMEOUT, wait=not self._detached.is_set())
            self._look_for_warnings(now=True)
        self._done.set()
        self._notify()

    def apply(self, batch: Batch) -> None:
        """Fold a batch of events into the job's state (pump thread)."""
        if batch.logs:
            with self._lock:
                self._lines.extend(batch.logs)
                self.line_count += len(batch.logs) if batch.lines is None else batch.lines
        for st in batch.statuses:
            self.status, self.secondary_status = st.status, st.secondary_status
            self.status_message = st.message
            if st.failure_reason:
                self.failure_reason = st.failure_reason
            self._observed.append(st)
        if batch.logs or batch.statuses:
            self._notify()

    def _read_points(self) -> None:
        """Take in the points the parser beside the job has committed since last time."""
        with self._points_lock:
            points = self._points.points()
        if not points:
            return
        with self._lock:
            self._metrics.extend(points)
            self.metric_count += len(points)
            if len(self._metrics) > MAX_METRIC_POINTS:
                del self._metrics[: len(self._metrics) - MAX_METRIC_POINTS]
                self._metrics_truncated = True

    def _look_for_warnings(self, now: bool = False) -> None:
        """A definition the parser switched off (its pattern too slow) is said once: in
        ``notes`` and as a line of the log window."""
        if not now and time.monotonic() < self._warnings_due:
            return
        self._warnings_due = time.monotonic() + WARNINGS_INTERVAL
        with self._points_lock:
            warnings = self._points.warnings()
        for message in warnings:
            self.notes.append(message)
            with self._lock:
                last = self._lines.last(1)
                host = last[-1].host if last else "algo-1"
                self._lines.append(LogEvent(utc_now_iso(), host, f"sm_notebook: {message}",
                                            "stderr"))
                self.line_count += 1

    def _notify(self) -> None:
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):  # a renderer must never break the pump
                listener(self)

    # ---- display ----------------------------------------------------------------------
    def elapsed(self) -> float | None:
        state = self.describe()
        start = state.get("created") or self.created
        if not start:
            return None
        end = state.get("ended")
        end_t = iso_to_epoch(end) if end else time.time()
        return max(0.0, end_t - iso_to_epoch(start))

    def __repr__(self) -> str:
        extra = f", failure_reason={self.failure_reason!r}" if self.failure_reason else ""
        return (f"<Job {self.name} mode={self.mode} status={self.status}"
                f" ({self.secondary_status}){extra}>")


__all__ = ["TERMINAL", "Job"]
