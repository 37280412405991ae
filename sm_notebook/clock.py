"""Timestamps as the job folder and SageMaker write them: ISO-8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_to_epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()
