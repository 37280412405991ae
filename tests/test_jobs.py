"""The jobs on disk: folders the user's alone (0700), made under a hidden name and renamed
into place, so a launch killed half-way leaves no half-made job behind a name; one killed
while its backend took it is listed as Failed, saying what happened, and its name can be
used again.  A job whose files are not readable is one row saying so, the rest as usual."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sm_notebook import backends
from sm_notebook.errors import SpecError
from sm_notebook.jobs import JobsFolder
from sm_notebook.launch import Launcher
from sm_notebook.line.parse import LaunchOptions
from sm_notebook.spec import TrainingSpec
from tests.fakes.fake_backend import FakeBackend

ROOT = Path(__file__).resolve().parents[1]

#: a launch in its own process that stops at PHASE (the frame being written, or the
#: backend taking the job) and says so, to be killed there
KILLED_LAUNCH = textwrap.dedent("""
    import pathlib, sys, time
    from sm_notebook import backends
    from sm_notebook.jobs import JobsFolder
    from sm_notebook.launch import Launcher
    from sm_notebook.line.parse import LaunchOptions
    from sm_notebook.spec import Channel, TrainingSpec
    from tests.fakes.fake_backend import FakeBackend

    root, ready, phase = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]

    def hang():
        ready.touch()
        time.sleep(600)

    class Frame:
        def to_csv(self, path, index):
            pathlib.Path(path).write_text("a\\n1\\n")
            if phase == "frame":
                hang()

    class SlowBackend(FakeBackend):
        def submit(self, *args):
            hang()

    launcher = Launcher(JobsFolder(root), backends.Settings(),
                        factory=lambda mode, settings: SlowBackend())
    spec = TrainingSpec(cell="print(1)\\n", job_name="first",
                        channels=[Channel("train", "dataframe:df")])
    launcher.launch(spec, LaunchOptions(frames={"train": Frame()}))
""")


def kill_launch_at(phase: str, root: Path, tmp_path: Path) -> int:
    """Run a launch of job ``first`` in a process SIGKILLed at ``phase``; its PID."""
    ready = tmp_path / f"ready-{phase}"
    child = subprocess.Popen([sys.executable, "-c", KILLED_LAUNCH, str(root), str(ready),
                              phase], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert child.poll() is None, "the launch ended before it reached the phase"
        assert time.monotonic() < deadline, "the launch never reached the phase"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    return child.pid


def launcher(root: Path) -> Launcher:
    return Launcher(JobsFolder(root), backends.Settings(),
                    factory=lambda mode, settings: FakeBackend())


def test_job_folders_and_the_jobs_directory_are_the_users_alone(ip, jobs_dir):
    ip.run_cell_magic("sm_train", "job --wait", "print(1)\n")
    job = ip.user_ns["job"]
    assert stat.S_IMODE(jobs_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(job.directory.stat().st_mode) == 0o700
    assert sorted(os.listdir(jobs_dir)) == [job.name]  # no hidden folder left


def test_a_launch_killed_while_its_folder_is_made_leaves_no_job_and_no_name_taken(tmp_path):
    root = tmp_path / "jobs"
    kill_launch_at("frame", root, tmp_path)
    jobs = JobsFolder(root)
    assert jobs.records() == [] and not jobs.exists("first")
    assert [p.name.split(".partial-")[0] for p in root.iterdir()] == [".first"]

    job = launcher(root).launch(TrainingSpec(cell="print(1)\n", job_name="first"),
                                LaunchOptions())
    assert job.directory == root / "first"
    assert sorted(os.listdir(root)) == ["first"]  # the dead launch's folder was removed
    assert [(r["name"], r["status"]) for r in jobs.records()] == [("first", "InProgress")]


def test_a_launch_killed_while_its_backend_took_the_job_is_listed_failed_saying_so(tmp_path):
    root = tmp_path / "jobs"
    pid = kill_launch_at("submit", root, tmp_path)
    [row] = JobsFolder(root).records()
    assert (row["name"], row["status"], row["secondary_status"]) == ("first", "Failed",
                                                                      "Failed")
    assert row["failure_reason"].startswith(f"launch interrupted: the process launching it "
                                            f"(pid {pid}) ended at ")
    assert row["failure_reason"].endswith(" before the job was started; nothing ran")
    assert (root / "first" / "inputs" / "train" / "train.csv").read_text() == "a\n1\n"

    job = launcher(root).launch(TrainingSpec(cell="print(2)\n", job_name="first"),
                                LaunchOptions())  # the name is free again
    assert json.loads((job.directory / "job.json").read_text())["spec"]["cell"] == "print(2)\n"
    assert [(r["name"], r["status"]) for r in JobsFolder(root).records()] == [
        ("first", "InProgress")]


def test_a_launch_in_progress_elsewhere_is_not_taken_for_an_interrupted_one(tmp_path):
    root = tmp_path / "jobs"
    jobs = JobsFolder(root)
    staging = jobs.begin("mine")  # this process is launching it
    (staging / "job.json").write_text(json.dumps(
        {"name": "mine", "mode": "local", "created": "2026-01-01T00:00:00+00:00", "spec": {}}))
    other = JobsFolder(root)
    assert other.records() == []  # not made yet
    jobs.claim(staging, "mine")
    other.begin("another")  # removes only what dead launches left
    assert [(r["name"], r["status"]) for r in other.records()] == [("mine", "Unknown")]
    with pytest.raises(SpecError, match="a job named 'mine' already exists"):
        other.new_name(TrainingSpec(cell="print(1)\n", job_name="mine"))


BAD_JOB_FILES = [
    ("not-json", "{oops", r"job\.json: not readable as JSON"),
    ("not-an-object", "[1, 2]", r"job\.json: not a JSON object"),
    ("spec-a-list", {"spec": [1]}, r"job\.json: spec is not a JSON object"),
    ("unknown-mode", {"mode": "weird"}, r"job\.json: unknown mode 'weird'"),
    ("created-a-number", {"created": 5}, r"job\.json: created is not a time \(5\)"),
    ("created-not-a-time", {"created": "yesterday"}, r"job\.json: created is not a time"),
    ("count-a-word", {"spec": {"instance_count": "many"}},
     r"job\.json: instance_count is not a number \('many'\)"),
]


@pytest.mark.parametrize(("case", "content", "said"), BAD_JOB_FILES,
                         ids=[c[0] for c in BAD_JOB_FILES])
def test_one_unreadable_job_is_one_row_and_the_others_list_as_usual(ip, jobs_dir, case,
                                                                    content, said):
    ip.run_cell_magic("sm_train", "good --wait", "print(1)\n")
    bad = jobs_dir / "bad-job"
    bad.mkdir()
    if not isinstance(content, str):
        content = json.dumps({"name": "bad-job", "mode": "local",
                              "created": "2026-01-01T00:00:00+00:00", "spec": {}} | content)
    (bad / "job.json").write_text(content)

    frame = ip.run_line_magic("sm_jobs", "")
    rows = frame.set_index("name")
    good = ip.user_ns["good"].name
    assert list(rows.index) == [good, "bad-job"]
    assert rows.loc[good, "status"] == "Completed"
    assert rows.loc["bad-job", "status"] == "Unreadable"
    assert rows.loc["bad-job", "directory"] == str(bad)
    assert re.match(said, rows.loc["bad-job", "failure_reason"])


def test_unreadable_prices_or_times_in_state_json_are_one_row(ip, jobs_dir):
    ip.run_cell_magic("sm_train", "good --wait", "print(1)\n")
    bad = jobs_dir / "bad-job"
    bad.mkdir()
    (bad / "job.json").write_text(json.dumps({"name": "bad-job", "mode": "sagemaker",
                                              "created": "2026-01-01T00:00:00+00:00",
                                              "spec": {}}))
    (bad / "state.json").write_text(json.dumps({"status": "Completed", "ended": "soon"}))
    rows = ip.run_line_magic("sm_jobs", "").set_index("name")
    assert rows.loc["bad-job", "status"] == "Unreadable"
    assert rows.loc["bad-job", "failure_reason"] == "state.json: ended is not a time ('soon')"
    assert rows.loc[ip.user_ns["good"].name, "status"] == "Completed"
