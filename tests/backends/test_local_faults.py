"""Local jobs under faults, with real processes: PIDs that now name strangers, a lost
supervisor, what a script leaves running, a disk that fills, and who may read the files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from sm_notebook.backends.base import JobRef
from sm_notebook.backends.local import LocalBackend
from sm_notebook.backends.supervised import alive
from sm_notebook.jobdir import JobDir, parse_records
from sm_notebook.runtime import processes
from tests.backends.test_local_jobs import _no_stray_processes, train, wait_for  # noqa: F401
from tests.test_artifacts import tmpfs


@pytest.fixture
def strangers():
    """Two unrelated processes, each leading its own process group and session, as
    processes that were given a dead job's PIDs would."""
    started = [subprocess.Popen(["sleep", "120"], start_new_session=True) for _ in range(2)]
    time.sleep(0.05)  # a start time is kept in 10 ms ticks: the job's own must fall later
    yield started
    for process in started:
        process.kill()
        process.wait()


def stale(directory: Path, supervisor: int, script: int, identities: bool = True) -> None:
    """Rewrite a finished job's state as if it were still running, its PIDs now taken by
    other processes (as after a reboot or PID reuse); the identities recorded stay those
    of the job's own, long gone, processes (or none, as an older version wrote)."""
    state = json.loads((directory / "state.json").read_text())
    dropped = ["ended", "exit_code", "model_artifacts", "output_artifacts"]
    if not identities:
        dropped += [processes.SUPERVISOR_IDENTITY, processes.SCRIPT_IDENTITY]
    for key in dropped:
        state.pop(key, None)
    state.update(status="InProgress", secondary_status="Training", supervisor_pid=supervisor,
                 pid=script)
    (directory / "state.json").write_text(json.dumps(state))


@pytest.mark.parametrize("identities", [True, False], ids=["reused", "unrecorded"])
def test_stop_and_attach_never_signal_a_process_that_took_a_job_s_pid(ip, strangers,
                                                                      identities):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    job = train(ip, "--job-name stale --wait", "print('ran')\n")
    stale(job.directory, strangers[0].pid, strangers[1].pid, identities)
    magics.jobs.clear()

    LocalBackend().stop(JobRef("stale", job.directory, {}))  # what job.stop() asks of it
    attached = ip.run_line_magic("sm_attach", "stale")

    assert [s.poll() for s in strangers] == [None, None]  # both still run, unsignalled
    assert (attached.status, attached.failure_reason.split(":")[:2]) == (
        "Failed", ["InternalError", " supervisor lost"])
    on_disk = json.loads((job.directory / "state.json").read_text())
    assert (on_disk["status"], on_disk["failure_reason"]) == ("Failed",
                                                              attached.failure_reason)
    attached.stop()
    assert [s.poll() for s in strangers] == [None, None]


def test_the_supervisor_records_who_it_and_the_script_are(ip):
    job = train(ip, "", "import time\nprint('up', flush=True)\ntime.sleep(600)\n")
    wait_for(lambda: job.line_count > 0)
    state = json.loads((job.directory / "state.json").read_text())
    assert state[processes.SUPERVISOR_IDENTITY] == processes.identity(state["supervisor_pid"])
    assert state[processes.SCRIPT_IDENTITY] == processes.identity(state["pid"])
    job.stop()
    assert job.wait(timeout=30) == "Stopped"


DETACHED = """
import os, subprocess, sys, time
data = os.environ["SM_OUTPUT_DATA_DIR"]
background = subprocess.Popen(["sleep", "300"])  # still holds the job's output pipes
first = os.fork()
if first == 0:  # a daemon: a new session, a second fork, its output nowhere
    os.setsid()
    if os.fork() == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        open(os.path.join(data, "daemon.pid"), "w").write(str(os.getpid()))
        os.execvp("sleep", ["sleep", "300"])
    os._exit(0)
os.waitpid(first, 0)
while not os.path.exists(os.path.join(data, "daemon.pid")):
    time.sleep(0.01)
open(os.path.join(data, "background.pid"), "w").write(str(background.pid))
print("launched both", flush=True)
"""


def test_what_the_script_leaves_running_is_ended_with_the_job_and_said(ip):
    job = train(ip, "--wait", DETACHED)

    data = job.directory / "opt/ml/output/data"
    left = [int((data / f"{name}.pid").read_text()) for name in ("daemon", "background")]
    assert job.status == "Completed", job.failure_reason
    wait_for(lambda: not any(alive(pid) for pid in left), timeout=10)
    notice = [m for m in job.logs().message if m.startswith("sm_notebook: the script left")]
    assert notice == [f"sm_notebook: the script left 2 process(es) running; ended them as the "
                      f"service does when the instance goes: {min(left)} (sleep), "
                      f"{max(left)} (sleep)"]


def test_a_script_that_leaves_nothing_running_gets_no_notice(ip):
    job = train(ip, "--wait", "import subprocess\nsubprocess.run(['true'])\nprint('done')\n")
    assert list(job.logs().message) == ["done"]


@pytest.fixture
def full_disk(jobs_dir: Path):
    """The jobs folder on a real 2 MiB filesystem."""
    with tmpfs(jobs_dir, "2m") as where:
        yield where


def test_a_disk_that_fills_fails_the_job_saying_so_stops_the_script_and_keeps_the_log(
        ip, full_disk):
    cell = ("import itertools\n"
            "for i in itertools.count():\n"
            "    print(f'line {i} ' + 'x' * 200, flush=True)\n")
    job = train(ip, "", cell)

    assert job.wait(timeout=60) == "Failed"  # not InProgress forever
    assert job.failure_reason == (f"InternalError: the supervisor could not write "
                                  f"{job.directory / 'job.log'}: No space left on device; "
                                  "the script was stopped")
    state = json.loads((job.directory / "state.json").read_text())
    assert state["status"] == "Failed" and not alive(state["pid"])
    records = parse_records((job.directory / "job.log").read_bytes())
    assert len(records) > 1000  # what was written stays, every record whole, in order
    assert [r.message for r in records] == [f"line {i} " + "x" * 200
                                            for i in range(len(records))]
    assert not (job.directory / "space.reserve").exists()


def test_the_supervisor_s_files_are_the_user_s_alone_and_the_script_keeps_its_umask(ip):
    cell = ("import os\n"
            "open(os.path.join(os.environ['SM_MODEL_DIR'], 'weights'), 'w').write('w')\n")
    job = train(ip, "--wait", cell)
    umask = os.umask(0)
    os.umask(umask)

    artifacts = job.directory / "artifacts"
    for path in (job.directory / "state.json", job.directory / "job.log",
                 job.directory / "supervisor.err", artifacts / "model.tar.gz",
                 artifacts / "output.tar.gz"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    weights = job.directory / "opt/ml/model/weights"
    assert stat.S_IMODE(weights.stat().st_mode) == 0o666 & ~umask


def test_a_line_the_supervisor_takes_back_does_not_keep_the_follower_from_the_end(tmp_path):
    """A full disk: the supervisor's write got half a record out, then it cut the log back
    to the last whole record; a follower that read the half in between still ends."""
    from sm_notebook.backends.supervised import Cursor, SupervisedFolder

    folder = JobDir(tmp_path)
    whole = b"a whole record\n"
    folder.log_file.write_bytes(whole + b"half a rec")
    cursor = Cursor(folder)
    SupervisedFolder._read_log(cursor)
    assert cursor.pending == b"half a rec" and cursor.offset == len(whole) + 10
    os.truncate(folder.log_file, len(whole))  # taken back, as supervisor._append does
    SupervisedFolder._read_log(cursor)
    assert (cursor.pending, cursor.offset) == (b"", folder.log_size())
    with open(folder.log_file, "ab") as log:
        log.write(b"the next record\n")
    count, _tail = SupervisedFolder._read_log(cursor)
    assert count == 1 and cursor.pending == b""  # read from where the log now ends


def test_a_process_is_alive_until_it_ends_and_a_zombie_or_a_vanished_one_is_not(monkeypatch):
    from sm_notebook.backends import supervised

    child = subprocess.Popen(["sleep", "120"])
    assert alive(child.pid)
    child.kill()
    deadline = time.monotonic() + 10
    while alive(child.pid):  # killed, not yet reaped: a zombie
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child.wait()
    assert not alive(child.pid)

    def vanished(*_args, **_kwargs):  # it ends between the signal check and the /proc read
        raise ProcessLookupError(3, "No such process")

    monkeypatch.setattr(supervised, "open", vanished, raising=False)
    assert not alive(os.getpid())
