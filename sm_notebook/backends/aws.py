"""Small helpers shared by the backends that call AWS (no boto3 import here)."""

from __future__ import annotations


def reason(exc: Exception) -> str:
    """``Code: Message`` of a botocore ``ClientError``, else the exception's text."""
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code')}: {error.get('Message')}" if error else str(exc)
