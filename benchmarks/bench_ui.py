"""The dashboard under a flood of log lines, measured from outside a real kernel.

A kernel (jupyter_client, as JupyterLab starts one: ``JPY_SESSION_NAME`` set, so the chart
is plotly's FigureWidget) runs a local job printing about 10,000 lines a second, each
carrying the time it was written.  From the client side: every IOPub message is counted
(the dashboard's comm messages and their bytes a second); ``1+1`` is executed again and
again while the job runs, against the same kernel idle; and each line's first appearance
in a dashboard message gives the latency from being written to being on its way to the
browser.
"""

from __future__ import annotations

import json
import re
import threading
import time

from .common import IOPubReader, Result, exec_ms, median, notebook_kernel, spread

TARGET_EXEC_MS = 100.0
TARGET_LINE_S = 0.5
FLUSH_S = 0.25  # the dashboard's flush interval at its default 4 a second
_WRITTEN = re.compile(r"written (\d+\.\d+)")

SCRIPT = """import time
n, end = 0, time.time() + {seconds}
while time.time() < end:
    t = time.time()
    for _ in range(100):
        print(f"step {{n}} loss={{1 / (n + 1):.5f}} written {{t:.3f}}")
        n += 1
    time.sleep(0.008)
"""


class _IOPub(IOPubReader):
    """Comm traffic and line arrival times, from every IOPub message."""

    def __init__(self, client):
        self.comm_msgs = 0
        self.comm_bytes = 0
        self.first_seen: dict[str, float] = {}
        self.first_line_at: float | None = None  # the first flush that carried a line
        self.chart_at: float | None = None  # the FigureWidget's comm opened
        self.snapshot = threading.Event()
        self.counting = False
        super().__init__(client)

    def handle(self, kind: str, content: dict) -> None:
        now = time.time()
        state = (content.get("data") or {}).get("state") or {}
        if kind == "comm_open" and self.counting and "_widget_layout" in state \
                and self.chart_at is None:
            self.chart_at = now  # plotly's FigureWidget: the chart is on its way
        if kind == "comm_msg" and self.counting:
            self.comm_msgs += 1
            self.comm_bytes += len(json.dumps(content, default=str))
            stamps = _WRITTEN.findall(str(state.get("value", "")))
            if stamps and self.first_line_at is None:
                self.first_line_at = now
            for stamp in stamps:
                self.first_seen.setdefault(stamp, now)
        elif kind == "update_display_data" and "smnb-snapshot" in str(content):
            self.snapshot.set()


def run(seconds: float = 10.0, samples: int = 20) -> list[Result]:
    with notebook_kernel() as client:
        iopub = _IOPub(client)
        try:
            idle = [exec_ms(client) for _ in range(samples)]
            iopub.counting = True
            began = time.time()
            exec_ms(client, f"%%sm_train job --job-name bench-ui\n"
                             f"{SCRIPT.format(seconds=seconds)}")
            busy = []
            while time.time() - began < seconds * 0.9 and len(busy) < samples:
                time.sleep(seconds / (samples + 2))
                busy.append(exec_ms(client))
            iopub.snapshot.wait(timeout=seconds + 60)
            elapsed = time.time() - began
            iopub.counting = False
            said = iopub.answer("job.status, job.line_count")
        finally:
            iopub.stop()
    status, count = [*said, "?", "0"][:2]
    latencies = [seen - float(stamp) for stamp, seen in iopub.first_seen.items()]
    rate = int(count) / seconds if count.isdigit() else 0
    exec_result = Result(
        "dashboard under a ~10,000 lines/s job: kernel `1+1`", median(busy),
        "ms", f"≤ {TARGET_EXEC_MS:g} ms", median(busy) <= TARGET_EXEC_MS,
        "the idle kernel", median(idle))
    exec_result.notes += [
        f"spread: idle {spread(idle)} ms, during the job {spread(busy)} ms "
        f"({len(busy)} samples)",
        f"UI traffic: {iopub.comm_msgs / elapsed:.1f} comm messages/s, "
        f"{iopub.comm_bytes / elapsed / 1000:.1f} kB/s ({iopub.comm_msgs} messages, "
        f"{iopub.comm_bytes / 1e6:.2f} MB over {elapsed:.1f} s; the server's limit is "
        "1,000 messages/s)",
        f"job: {status}, {count} lines in {seconds:g} s ({rate:,.0f} lines/s)"]
    line_result = Result("local mode: a line written → in a dashboard message",
                         median(latencies) * 1000 if latencies else float("inf"), "ms",
                         f"≤ {TARGET_LINE_S * 1000:g} ms",
                         bool(latencies) and median(latencies) <= TARGET_LINE_S)
    if latencies:
        line_result.notes.append(
            f"{len(latencies):,} batches of 100 lines seen (the log shows the last 200 lines "
            f"at each flush, so most batches pass unseen); spread "
            f"{spread([x * 1000 for x in latencies])} ms")
    chart_s = (iopub.chart_at - iopub.first_line_at
               if iopub.chart_at is not None and iopub.first_line_at is not None
               else float("inf"))
    chart_result = Result("dashboard: the chart after the first flush with lines",
                          chart_s * 1000, "ms", f"≤ {FLUSH_S * 1000:g} ms (one flush)",
                          chart_s <= FLUSH_S)
    chart_result.notes.append(
        "from the first dashboard message carrying a log line (every line has a metric) "
        "to the comm of the plotly FigureWidget opening")
    return [exec_result, line_result, chart_result]
