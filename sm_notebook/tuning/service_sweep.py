"""A sweep that is a SageMaker tuning job: its status and trials as the service reports
them (``DescribeHyperParameterTuningJob``, ``ListTrainingJobsForHyperParameterTuningJob``),
as the same :class:`~.sweep_dir.Trial` rows a local sweep's driver writes."""

from __future__ import annotations

import time
from typing import Any

from .sweep_dir import Trial

STATUSES = {"Completed": "Completed", "InProgress": "InProgress", "Failed": "Failed",
            "Stopping": "Stopping", "Stopped": "Stopped"}


def _epoch(value: Any) -> float | None:
    return value.timestamp() if hasattr(value, "timestamp") else None


def typed(values: dict[str, str], ranges: list[dict[str, Any]]) -> dict[str, Any]:
    """The service's string values as the ranges' types (ints, floats, categories)."""
    kinds = {r["name"]: r["kind"] for r in ranges}
    out: dict[str, Any] = {}
    for name, text in values.items():
        kind = kinds.get(name, "cat")
        try:
            out[name] = int(float(text)) if kind == "int" else float(text) \
                if kind in ("float", "log") else text.strip('"')
        except ValueError:
            out[name] = text
    return out


class ServiceTrials:
    """The tuning job ``name`` in ``region``, asked at most every ``ASK_EVERY`` seconds
    (a dashboard refreshing twice a second must not throttle the account's API)."""

    ASK_EVERY = 5.0

    def __init__(self, name: str, region: str, ranges: list[dict[str, Any]]):
        from ..backends.sagemaker.clients import AwsClients
        from ..backends.sagemaker.tuning import TuningJobs

        self.name, self.ranges = name, ranges
        self.jobs = TuningJobs(AwsClients(), region)
        self._asked: dict[str, tuple[float, Any]] = {}

    def _ask(self, what: str, call: Any) -> Any:
        now = time.monotonic()
        at, answer = self._asked.get(what, (-self.ASK_EVERY, None))
        if now - at >= self.ASK_EVERY or answer is None:
            answer = call()
            self._asked[what] = (now, answer)
        return answer

    def status(self) -> str:
        described = self._ask("status", lambda: self.jobs.describe(self.name))
        status = described["HyperParameterTuningJobStatus"]
        return STATUSES.get(status, status)

    def trials(self) -> list[Trial]:
        rows = []
        for number, summary in enumerate(self._ask("trials", lambda: self.jobs.trials(
                self.name)), start=1):
            final = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            rows.append(Trial(
                number, summary["TrainingJobName"],
                typed(summary.get("TunedHyperParameters") or {}, self.ranges),
                STATUSES.get(summary.get("TrainingJobStatus", ""), "InProgress"),
                final.get("Value"), _epoch(summary.get("TrainingStartTime")),
                _epoch(summary.get("TrainingEndTime")), summary.get("FailureReason")))
        return rows

    def stop(self) -> None:
        self.jobs.stop(self.name)
        self._asked.clear()
