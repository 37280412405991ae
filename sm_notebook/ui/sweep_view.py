"""The sweep's view under its cell (issue 15): a placeholder until the sweep dashboard
lands; headless runs get the plain-text summary."""

from __future__ import annotations

from typing import Any


def show(sweep: Any, settings: Any = None) -> None:
    """Nothing more than the summary the magic prints, for now."""
