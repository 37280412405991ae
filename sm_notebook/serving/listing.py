"""``%sm_endpoints``: every endpoint of a jobs directory, its status asked now, so a
SageMaker endpoint that still bills is never forgotten silently."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .endpoints import Endpoint
from .record import ENDPOINTS, records

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["endpoint", "mode", "status", "job", "url", "script", "instance_type",
           "hourly_price", "created"]


def endpoints_frame(jobs_root: Path) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for folder, record in records(jobs_root / ENDPOINTS):
        row = record.to_row()
        try:
            row["status"] = Endpoint(folder).state()
        except Exception as exc:  # an engine or AWS that cannot be asked: say so, go on
            row["status"] = f"{record.status} (not checked: {type(exc).__name__})"
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame
