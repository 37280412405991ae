"""``job.logs()``: the on-disk log as a DataFrame with typed columns, read a block at a time.

Building the frame from every line's event (a tuple of four strings each) took about ten
times the log's size at its peak.  Here each block of ``job.log`` is split once: its
timestamps become ``datetime64[ns, UTC]`` at once, its hosts small integer codes of a
category, and only the messages are kept as strings, so the peak stays within a few
times the log's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .events import gc_paused

if TYPE_CHECKING:
    import pandas as pd


def log_frame(blocks: Iterator[bytes], tail: int | None = None) -> pd.DataFrame:
    """Columns ``timestamp`` (UTC), ``host`` (category) and ``message`` (string) from
    blocks of whole ``job.log`` records; ``tail``: only the last so many lines."""
    import numpy as np
    import pandas as pd

    stamps: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    hosts: dict[str, int] = {}
    messages: list[str] = []
    with gc_paused():
        for block in blocks:
            times, block_hosts = [], []
            for record in block.decode("utf-8", "replace").split("\n"):
                parts = record.split("\t", 3)
                if len(parts) == 4:
                    times.append(parts[0])
                    block_hosts.append(hosts.setdefault(parts[1], len(hosts)))
                    messages.append(parts[3])
            if times:
                # nanoseconds whatever resolution pandas infers (pandas 3: microseconds)
                parsed = pd.to_datetime(times, utc=True, format="ISO8601")
                stamps.append(parsed.as_unit("ns").asi8)
                codes.append(np.array(block_hosts, dtype=np.int32))
    if tail is not None:
        keep = max(0, min(tail, len(messages)))
        del messages[: len(messages) - keep]
    count = len(messages)
    stamp = np.concatenate(stamps)[-count:] if count else np.empty(0, dtype=np.int64)
    code = np.concatenate(codes)[-count:] if count else np.empty(0, dtype=np.int32)
    return pd.DataFrame({
        "timestamp": pd.to_datetime(stamp, unit="ns", utc=True),
        "host": pd.Categorical.from_codes(code, categories=list(hosts)),
        "message": pd.array(messages, dtype="string"),
    })
