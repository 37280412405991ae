"""The metric parser beside a job (``runtime/metric_points.py``), run as its own process on
real job folders: what it writes, how it resumes, and the watchdog that switches off a
pattern that would never finish."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from sm_notebook.events import LogEvent
from sm_notebook.jobdir import JobDir, PointsReader
from sm_notebook.metrics import MetricParser
from sm_notebook.points import PARSER

STAMP = "2026-11-24T10:00:00.000000Z"
LOSS = ["loss", r"loss=([0-9.]+)"]
CATASTROPHIC = ["x", r"(a+)+$"]  # the issue's --metric 'x=(a+)+$': exponential on "a…a!"


def folder(tmp_path: Path, lines: list[str]) -> JobDir:
    job = JobDir(tmp_path / "job")
    job.path.mkdir()
    job.append_log(LogEvent(STAMP, "algo-1", line) for line in lines)
    return job


def run_parser(job: JobDir, definitions: list, *extra: str, timeout: float = 60,
               **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PARSER), str(job.path), "--definitions",
                           json.dumps(definitions), *extra], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def by_metric(points: list) -> list:
    """Points grouped by metric, each metric's in the order written (a batch of lines is
    written one definition after the other)."""
    return sorted(points, key=lambda p: p.metric)


def values(job: JobDir) -> list[tuple[str, float, float | None]]:
    return [(p.metric, p.value, p.step) for p in PointsReader(job.metric_points_file).points()]


def test_the_points_of_a_log_are_written_beside_it_and_the_file_is_private(tmp_path):
    job = folder(tmp_path, ["epoch 1 loss=0.5", "noise", "step 7 loss=0.25 acc=3"])
    run = run_parser(job, [LOSS, ["acc", r"acc=(\d+)"]])
    assert run.returncode == 0, run.stderr
    assert values(job) == [("loss", 0.5, 1.0), ("loss", 0.25, 7.0), ("acc", 3.0, 7.0)]
    assert stat.S_IMODE(job.metric_points_file.stat().st_mode) == 0o600
    reader = PointsReader(job.metric_points_file)
    reader.scan()
    assert (reader.log_offset, reader.lines) == (job.log_size(), 3)


def test_a_pattern_that_never_finishes_is_switched_off_and_the_others_go_on(tmp_path):
    lines = ["loss=1", "a" * 40 + "!", "loss=2", "aaa", "loss=3"]  # 2**40 steps at line 2
    job = folder(tmp_path, lines)
    began = time.monotonic()
    run = run_parser(job, [CATASTROPHIC, LOSS], "--budget", "0.3")
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - began < 20
    assert values(job) == [("loss", 1.0, None), ("loss", 2.0, None), ("loss", 3.0, None)]
    reader = PointsReader(job.metric_points_file)
    [warning] = reader.scan()
    assert warning.startswith("metric 'x' switched off: its pattern took longer than 0.3 s "
                              "on line 2 of the log")
    assert run.stderr.count("switched off") == 1
    again = run_parser(job, [CATASTROPHIC, LOSS], "--budget", "0.3")  # nothing new: no-op
    assert again.returncode == 0 and reader.scan() == [] and len(values(job)) == 3


def test_values_of_a_switched_off_pattern_before_its_stuck_line_are_kept(tmp_path):
    job = folder(tmp_path, ["x=1", "x=2", "a" * 40 + "!", "x=3"])
    run = run_parser(job, [["x", r"x=(\d)|(a+)+$"]], "--budget", "0.3")
    assert run.returncode == 0, run.stderr
    assert [v for _, v, _ in values(job)] == [1.0, 2.0]


def test_a_parser_resumes_where_it_stopped_and_cuts_off_what_it_had_not_committed(tmp_path):
    job = folder(tmp_path, ["loss=1", "loss=2"])
    assert run_parser(job, [LOSS]).returncode == 0
    with open(job.metric_points_file, "a") as f:  # a killed writer's half-written chunk
        f.write("P\t0.0\talgo-1\t0\t99\t\nP\t0.0\talg")
    job.append_log([LogEvent(STAMP, "algo-1", "loss=3")])
    assert run_parser(job, [LOSS]).returncode == 0
    assert [v for _, v, _ in values(job)] == [1.0, 2.0, 3.0]  # none twice, 99 gone


def test_a_follower_parses_as_the_log_grows_until_its_stdin_closes(tmp_path):
    job = folder(tmp_path, ["loss=1"])
    follower = subprocess.Popen([sys.executable, str(PARSER), str(job.path),
                                 "--definitions", json.dumps([LOSS])], stdin=subprocess.PIPE)
    try:
        reader = PointsReader(job.metric_points_file)
        seen: list[float] = []
        for n in range(2, 5):
            job.append_log([LogEvent(STAMP, "algo-1", f"loss={n}")])
            deadline = time.monotonic() + 20
            while len(seen) < n and time.monotonic() < deadline:
                seen += [p.value for p in reader.points()]
                time.sleep(0.02)
        assert seen == [1.0, 2.0, 3.0, 4.0]
        other = subprocess.Popen([sys.executable, str(PARSER), str(job.path)],
                                 stdin=subprocess.PIPE)  # would follow: leaves, one is at work
        assert other.wait(timeout=20) == 0
        assert follower.poll() is None
    finally:
        follower.stdin.close()
    assert follower.wait(timeout=20) == 0


def test_the_parser_beside_the_job_finds_what_the_kernel_s_parser_finds(tmp_path):
    # one source of truth: the runtime applies metric_rules, as metrics.MetricParser does
    lines = ["Epoch 3: train_loss: 1.5e-3 accuracy: 0.91", "val loss 0.3 train loss 0.2",
             "{'loss': 0.5, 'eval_loss': 0.7, 'eval_accuracy': 0.8}", "loss_scale: 65536",
             "step: 120 LOSS=.5 acc=97.", "ünïcode ✓ val/acc=0.25", "\ttab\tloss=4"]
    job = folder(tmp_path, lines)
    assert run_parser(job, []).returncode == 0  # no definitions: the built-in ones
    expected = MetricParser().points(job.read_log())
    found = PointsReader(job.metric_points_file).points()
    assert by_metric(found) == by_metric(expected)  # each metric's points in line order
    assert len(expected) == 11


def test_a_log_that_appears_late_is_waited_for(tmp_path):
    job = JobDir(tmp_path / "job")
    job.path.mkdir()
    follower = subprocess.Popen([sys.executable, str(PARSER), str(job.path),
                                 "--definitions", json.dumps([LOSS])], stdin=subprocess.PIPE)
    time.sleep(0.3)
    job.append_log([LogEvent(STAMP, "algo-1", "loss=5")])
    follower.stdin.close()
    assert follower.wait(timeout=20) == 0
    assert [v for _, v, _ in values(job)] == [5.0]
    assert os.stat(job.metric_points_file).st_size > 0


def test_each_metric_s_last_value_is_read_from_the_end_of_the_points_file(tmp_path):
    lines = ["loss=9 acc=1"] + [f"acc={i}" for i in range(2, 3000)] + ["loss=0.5"]
    job = folder(tmp_path, lines)
    assert run_parser(job, [LOSS, ["acc", r"acc=(\d+)"], ["never", r"never=(\d)"]]
                      ).returncode == 0
    reader = PointsReader(job.metric_points_file)
    assert reader.latest() == {"loss": 0.5, "acc": 2999.0}
    assert reader.latest(window=64) == {"loss": 0.5, "acc": 2999.0}  # grown until found
    assert reader.latest(window=64, most=64) == {"acc": 2999.0}  # the window stops there
    assert PointsReader(tmp_path / "absent.tsv").latest() == {}


def test_a_pattern_stuck_while_its_batch_is_scanned_as_one_text_is_found_line_by_line(tmp_path):
    # "x(a+)+$" starts with a literal, so a batch is first scanned as one text; stuck there,
    # it is searched again one line at a time, which names the line it is stuck on
    lines = ["x1 loss=1", "noise", "xa" + "a" * 40 + "!", "loss=2"]
    job = folder(tmp_path, lines)
    run = run_parser(job, [["x", r"x(a+)+$"], LOSS], "--budget", "0.3")
    assert run.returncode == 0, run.stderr
    assert values(job) == [("loss", 1.0, None), ("loss", 2.0, None)]
    [warning] = PointsReader(job.metric_points_file).scan()
    assert "took longer than 0.3 s on line 3 of the log" in warning


def test_a_log_far_ahead_is_parsed_two_chunks_at_a_time_with_the_same_points(tmp_path):
    # 60,000 records of about 80 bytes: more than two chunks, so a forked helper parses
    # every second chunk while the worker parses the first, and writes after it
    from sm_notebook.runtime.metric_points import CHUNK

    lines = [f"step {i} loss={i % 97}.5 note {'x' * (i % 20)}" for i in range(60_000)]
    job = folder(tmp_path, lines)
    assert job.log_size() > 2 * CHUNK
    run = run_parser(job, [LOSS])
    assert run.returncode == 0, run.stderr
    expected = MetricParser([tuple(LOSS)]).points(job.read_log())
    assert PointsReader(job.metric_points_file).points() == expected
    reader = PointsReader(job.metric_points_file)
    reader.scan()
    assert (reader.log_offset, reader.lines) == (job.log_size(), 60_000)


def test_a_pattern_stuck_in_the_helper_s_chunk_is_switched_off_from_its_line(tmp_path):
    lines = [f"x{i} loss={i}" for i in range(60_000)]
    lines[45_000] = "a" * 40 + "!"  # in the second chunk: the helper's
    job = folder(tmp_path, lines)
    run = run_parser(job, [CATASTROPHIC, LOSS], "--budget", "0.3")
    assert run.returncode == 0, run.stderr
    assert [v for _, v, _ in values(job)] == [float(i) for i in range(60_000) if i != 45_000]
    [warning] = PointsReader(job.metric_points_file).scan()
    assert "took longer than 0.3 s on line 45,001 of the log" in warning
