"""Local process jobs, run for real through ``%%sm_train`` in a real IPython shell."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from sm_notebook.backends.supervised import alive
from sm_notebook.errors import JobFailedError, SmNotebookError


def train(ip, line: str, cell: str, name: str = "job"):
    """Run ``%%sm_train NAME LINE`` and return the bound job."""
    ip.run_cell_magic("sm_train", f"{name} {line}", cell)
    return ip.user_ns[name]


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_completed_job_packs_model_and_output_data(ip):
    job = train(ip, "--wait", """
import os
open(os.path.join(os.environ["SM_MODEL_DIR"], "weights.txt"), "w").write("w")
os.makedirs(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "plots"))
open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "plots", "p.txt"), "w").write("p")
print("done")
""")
    assert (job.status, job.secondary_status) == ("Completed", "Completed")
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.getnames() == ["weights.txt"]
    with tarfile.open(job.output_artifacts) as tar:
        assert sorted(tar.getnames()) == ["plots", "plots/p.txt"]
    transitions = [t["Status"] for t in job.transitions]
    assert transitions == ["Starting", "Training", "Uploading", "Completed"]
    assert all("EndTime" in t for t in job.transitions)
    assert job.failure_reason is None
    assert (job.directory / "opt/ml/output/success").exists()


def test_failing_script_reports_the_last_traceback_with_its_line(ip):
    with pytest.raises(JobFailedError, match="ValueError: bad data"):
        train(ip, "--wait", "import sys\nprint('starting')\n\nraise ValueError('bad data')\n")
    job = ip.user_ns["job"]
    assert job.status == "Failed"
    assert "ValueError: bad data (train.py, line 5)" in job.failure_reason  # as in the cell
    assert "exit code 1" in job.failure_reason
    assert job.logs()["message"].iloc[0] == "starting"
    assert job.model_artifacts is None  # it saved nothing: no empty archive to mislead


def test_a_completed_job_that_saved_nothing_still_has_its_archives(ip):
    job = train(ip, "--wait", "print('nothing to save')\n")
    for archive in (job.model_artifacts, job.output_artifacts):
        with tarfile.open(archive) as tar:
            assert tar.getnames() == []


def test_failure_file_written_by_the_script_is_the_failure_reason(ip):
    cell = """
import os, sys
with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
    f.write("CustomError: the data had no labels")
sys.exit(3)
"""
    with pytest.raises(JobFailedError):
        train(ip, "--wait", cell)
    assert ip.user_ns["job"].failure_reason == "CustomError: the data had no labels"


def test_stop_sends_sigterm_to_the_whole_process_group_and_keeps_the_model(ip):
    cell = """
import os, signal, subprocess, sys, time
child = subprocess.Popen(["sleep", "300"])
open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "child.pid"), "w").write(str(child.pid))
def on_term(*_):
    open(os.path.join(os.environ["SM_MODEL_DIR"], "last.ckpt"), "w").write("saved")
    print("got SIGTERM, saved")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""
    job = train(ip, "", cell)
    wait_for(lambda: any(e.message == "ready" for e in job.recent_lines()))
    child_pid = int((job.directory / "opt/ml/output/data/child.pid").read_text())
    job.stop()
    assert job.wait(timeout=30) == "Stopped"
    assert job.secondary_status == "Stopped"
    assert "got SIGTERM, saved" in list(job.logs()["message"])
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.getnames() == ["last.ckpt"]
    wait_for(lambda: not alive(child_pid), timeout=10)


def test_a_script_ignoring_sigterm_is_killed_after_the_grace_period(ip):
    ip.run_line_magic("config", "SmTrainMagics.stop_grace = 1.0")
    try:
        job = train(ip, "", "import signal, time\nsignal.signal(signal.SIGTERM, "
                    "signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(600)\n")
        wait_for(lambda: job.line_count > 0)
        started = time.monotonic()
        job.stop()
        assert job.wait(timeout=30) == "Stopped"
        assert time.monotonic() - started < 10
    finally:
        ip.run_line_magic("config", "SmTrainMagics.stop_grace = 30.0")


def test_a_job_stopped_the_moment_it_is_launched_ends_stopped(ip):
    job = train(ip, "--quiet", "import time\ntime.sleep(60)\n")
    job.stop()  # the supervisor may not take signals yet: it reads the request instead
    assert job.wait(timeout=60) == "Stopped"
    assert job.failure_reason is None


def test_max_run_stops_the_job_as_the_service_does(ip):
    job = train(ip, "--max-run 1", "import time\nprint('working', flush=True)\ntime.sleep(600)\n")
    assert job.wait(timeout=60) == "Stopped"
    assert job.secondary_status == "MaxRuntimeExceeded"


def test_a_process_killed_by_sigkill_is_reported_as_out_of_memory(ip):
    with pytest.raises(JobFailedError, match="OutOfMemory"):
        train(ip, "--wait", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")


def test_100000_numbered_lines_all_arrive_in_order_without_duplicates(ip):
    cell = "for i in range(100000):\n    print(f'line {i}')\n"
    job = train(ip, "--wait", cell)
    assert job.status == "Completed"
    assert job.line_count == 100_000
    messages = job.logs()["message"].tolist()
    assert messages == [f"line {i}" for i in range(100_000)]
    window = job.recent_lines()
    assert len(window) == 10_000 and window[-1].message == "line 99999"


def test_stdout_and_stderr_are_both_kept_with_their_stream(ip):
    job = train(ip, "--wait", "import sys\nprint('out', flush=True)\n"
                "print('err', file=sys.stderr, flush=True)\n")
    streams = {e.message: e.stream for e in job.recent_lines()}
    assert streams == {"out": "stdout", "err": "stderr"}


def test_progress_lines_invalid_utf8_and_unterminated_lines(ip):
    cell = r"""
import sys, time
out = sys.stdout.buffer
for i in range(5):
    out.write(f"\rprogress {i}/4".encode()); out.flush()
out.write(b"\n")
out.write(b"bad bytes \xff\xfe here\n")
out.write(b"windows line\r\n")
out.write(b"no newline at the end")
"""
    job = train(ip, "--wait", cell)
    messages = job.logs()["message"].tolist()
    assert messages[0] == "progress 0/4"  # first progress state is shown at once
    assert messages[1] == "progress 4/4"  # the final state is always kept
    assert "progress 2/4" not in messages  # rapid rewrites are coalesced
    assert messages[2:] == ["bad bytes \ufffd\ufffd here", "windows line",
                            "no newline at the end"]


def test_interrupting_wait_stops_a_local_job_and_says_so(ip, capsys, ctrl_c_once_running):
    with pytest.raises(SmNotebookError, match=r"interrupted; job .* is Stopped"):
        train(ip, "--wait", "import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    assert ip.user_ns["job"].status == "Stopped"
    assert "stopping local job" in capsys.readouterr().err


STYLE_VIEWS = {  # what a script sees of --hp use-amp=true --hp opt=adam, by SDK
    "v3": ("SM_HP_USE_AMP", ["--epochs", "3", "--lr", "0.1", "--use-amp", "true", "--opt", "adam"],
           {"epochs": "3", "lr": "0.1", "use-amp": "true", "opt": "adam"}),
    "v2": ("SM_HP_USE-AMP", ["--epochs", "3", "--lr", "0.1", "--opt", "adam", "--use-amp", "True"],
           {"epochs": "3", "lr": "0.1", "use-amp": "true", "opt": '"adam"'}),
}


@pytest.mark.parametrize("style", list(STYLE_VIEWS))
def test_the_script_sees_the_sagemaker_contract(ip, run_dir, style):
    (run_dir / "data" / "train").mkdir(parents=True)
    (run_dir / "data" / "train" / "a.csv").write_text("1,2\n")
    (run_dir / "val.csv").write_text("3,4\n")
    cell = """
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith("SM_") or k == "TRAINING_JOB_NAME"}
env["argv"] = sys.argv[1:]
env["cwd"] = os.getcwd()
env["train_files"] = sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
env["val_files"] = sorted(os.listdir(os.environ["SM_CHANNEL_VALIDATION"]))
config = os.environ["SM_INPUT_CONFIG_DIR"]
for name in ("hyperparameters", "inputdataconfig", "resourceconfig"):
    env[name] = json.load(open(os.path.join(config, name + ".json")))
json.dump(env, open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "env.json"), "w"))
"""
    job = train(ip, "--input train=data/train --input validation=val.csv --content-type "
                "train=text/csv --hp epochs=3 --hp lr=0.1 --hp use-amp=true --hp opt=adam "
                f"--env MY_SETTING=on --hp-style {style} --wait", cell)
    variable, argv, stored = STYLE_VIEWS[style]
    env = json.loads((job.directory / "opt/ml/output/data/env.json").read_text())
    root = job.directory / "opt/ml"
    assert env["TRAINING_JOB_NAME"] == job.name
    assert env["SM_MODEL_DIR"] == str(root / "model")
    assert env["SM_CHANNEL_TRAIN"] == str(root / "input/data/train")
    assert env["train_files"] == ["a.csv"] and env["val_files"] == ["val.csv"]
    assert env["SM_CHANNELS"] == '["train","validation"]'
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "lr": 0.1, "use-amp": True, "opt": "adam"}
    assert env[variable] == "true"
    assert {"SM_HP_USE_AMP", "SM_HP_USE-AMP"} - {variable} & set(env) == set()  # one spelling
    assert env["argv"] == argv
    assert env["cwd"] == str(root / "code")
    assert env["hyperparameters"] == stored
    assert env["inputdataconfig"]["train"]["ContentType"] == "text/csv"
    assert env["resourceconfig"]["current_host"] == "algo-1"
    assert env["resourceconfig"]["hosts"] == ["algo-1"]
    assert json.loads(env["SM_TRAINING_ENV"])["hyperparameters"]["use-amp"] is True


def test_source_dir_and_dependencies_are_laid_out_beside_the_cell(ip, run_dir):
    src = run_dir / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "__init__.py").write_text("VALUE = 41\n")
    (src / "train.py").write_text("raise SystemExit('replaced by the cell')\n")
    (src / ".git").mkdir()
    (src / "__pycache__").mkdir()
    (run_dir / "helpers.py").write_text("def plus_one(x):\n    return x + 1\n")
    job = train(ip, "--source-dir src --dependencies helpers.py --wait",
                "import os, pkg, helpers\nprint(helpers.plus_one(pkg.VALUE))\n"
                "print(sorted(os.listdir('.')))\n")
    messages = [e.message for e in job.recent_lines()]
    assert messages == ["42", "['helpers.py', 'pkg', 'train.py']"]


def test_an_entry_script_from_source_dir_runs_when_the_cell_holds_only_comments(ip, run_dir):
    (run_dir / "src").mkdir()
    (run_dir / "src" / "fit.py").write_text("print('from the file')\n")
    job = train(ip, "--source-dir src --entry-script fit.py --wait", "# runs src/fit.py\n")
    assert [e.message for e in job.recent_lines()] == ["from the file"]


def test_requirements_that_are_installed_pass_and_are_shipped(ip, run_dir):
    (run_dir / "requirements.txt").write_text("ipython>=8\n# a comment\npandas\n")
    job = train(ip, "--requirements requirements.txt --wait", "print('ok')\n")
    assert job.status == "Completed"
    assert (job.directory / "opt/ml/code/requirements.txt").read_text().startswith("ipython")


def test_output_directory_receives_a_copy_of_the_artifacts(ip, run_dir):
    job = train(ip, "--output results --wait", "import os\nopen(os.path.join("
                "os.environ['SM_MODEL_DIR'], 'm'), 'w').write('1')\n")
    copy = run_dir / "results" / job.name / "output" / "model.tar.gz"
    assert job.model_artifacts == str(copy) and copy.is_file()


def test_another_python_interpreter_runs_the_script(ip):
    python = "/usr/bin/python3"
    job = train(ip, f"--python {python} --wait", "import sys\nprint(sys.executable)\n")
    assert job.recent_lines()[0].message == python


def test_a_job_survives_the_kernel_and_attach_resumes_without_duplicates(ip, jobs_dir, run_dir):
    script = run_dir / "driver.py"
    script.write_text(
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\nip.run_line_magic('load_ext', 'sm_notebook')\n"
        "ip.run_cell_magic('sm_train', 'job --job-name survivor', "
        "'import time\\nfor i in range(30):\\n    print(f\"tick {i}\", flush=True)\\n"
        "    time.sleep(0.05)\\n')\n"
        "import os\nos._exit(0)  # the 'kernel' dies at once\n")
    subprocess.run([sys.executable, str(script)], check=True, timeout=60,
                   env={**os.environ, "SM_NOTEBOOK_JOBS_DIR": str(jobs_dir)})
    job = ip.run_line_magic("sm_attach", "survivor")
    assert job.wait(timeout=60) == "Completed"
    assert [e.message for e in job.recent_lines()] == [f"tick {i}" for i in range(30)]
    assert job.logs()["message"].tolist() == [f"tick {i}" for i in range(30)]
    frame = ip.run_line_magic("sm_jobs", "")
    assert frame.loc[frame["name"] == "survivor", "status"].item() == "Completed"


def test_a_job_whose_supervisor_dies_is_marked_failed(ip):
    job = train(ip, "", "import time\nprint('up', flush=True)\ntime.sleep(600)\n")
    wait_for(lambda: job.line_count > 0)
    state = json.loads((job.directory / "state.json").read_text())
    os.kill(state["supervisor_pid"], signal.SIGKILL)
    assert job.wait(timeout=30) == "Failed"
    assert job.failure_reason.startswith("InternalError: supervisor lost: the job's supervisor "
                                         "process ended unexpectedly")
    wait_for(lambda: not alive(state["pid"]), timeout=10)


@pytest.fixture(autouse=True)
def _no_stray_processes():
    yield
    # every test above waits for or stops its job; nothing may keep running afterwards
    leftovers = subprocess.run(["pgrep", "-f", "runtime/supervisor.py"], capture_output=True,
                               text=True).stdout.split()
    deadline = time.monotonic() + 10
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.1)
        leftovers = subprocess.run(["pgrep", "-f", "runtime/supervisor.py"],
                                   capture_output=True, text=True).stdout.split()
    assert leftovers == [], "a supervisor process outlived its test"


def test_a_dataframe_input_reaches_the_script_as_a_csv_file(ip):
    import pandas as pd

    ip.user_ns["frame"] = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    cell = ("import os\n"
            "folder = os.environ['SM_CHANNEL_TRAIN']\n"
            "for name in sorted(os.listdir(folder)):\n"
            "    print(name, open(os.path.join(folder, name)).read().replace(chr(10), '|'))\n")
    job = train(ip, "--input train=$frame --wait", cell)

    assert list(job.logs().message) == ["train.csv a,b|1,x|2,y|"]
    assert job.spec.channels[0].source == str(job.directory / "inputs/train/train.csv")


def test_big_files_in_the_code_are_pointed_out(ip, run_dir, capsys):
    (run_dir / "src").mkdir()
    with open(run_dir / "src" / "data.csv", "wb") as f:
        f.truncate(60 << 20)  # 60 MB that belong in an input channel
    train(ip, "--source-dir src --wait", "print(1)\n")

    assert ("note: the code holds 1 file(s) over 50 MB (data.csv: 60 MB), shipped with every "
            "job; data belongs in --input") in capsys.readouterr().out


def test_an_argparse_error_is_the_failure_reason_with_the_exit_code(ip):
    cell = ("import argparse\nparser = argparse.ArgumentParser()\n"
            "parser.add_argument('--epochs', type=int)\nparser.parse_args(['--epochs', 'many'])\n")
    with pytest.raises(JobFailedError):
        train(ip, "--wait", cell)
    assert ip.user_ns["job"].failure_reason == (
        "AlgorithmError: train.py: error: argument --epochs: invalid int value: 'many'; "
        "exit code 2")


def test_a_hard_coded_opt_ml_path_is_pointed_out_at_launch_and_in_the_failure(ip, capsys):
    hint = "local mode points SM_* at the job folder; /opt/ml paths need --mode container"
    cell = "import os\nrows = open('/opt/ml/input/data/train/data.csv').read()\n"
    with pytest.raises(JobFailedError):
        train(ip, "--wait", cell)
    assert f"note: train.py, line 3 names /opt/ml: {hint}\n" in capsys.readouterr().out
    assert ip.user_ns["job"].failure_reason == (
        "AlgorithmError: FileNotFoundError: [Errno 2] No such file or directory: "
        f"'/opt/ml/input/data/train/data.csv' (train.py, line 3); exit code 1 — {hint}")

    fine = ("import os  # data sits in /opt/ml/input on SageMaker\n"
            "print(os.environ.get('SM_MODEL_DIR', '/opt/ml/model'))\n")
    train(ip, "--wait", fine)
    assert "names /opt/ml" not in capsys.readouterr().out  # the SM_* default works here


@pytest.mark.parametrize(("end", "status", "reason"), [
    ("", "Completed", None),
    ("raise SystemExit('broken')\n", "Failed", "AlgorithmError: broken; exit code 1"),
])
def test_attach_to_a_finished_job_shows_its_final_state_at_once(ip, capsys, end, status,
                                                                 reason):
    cell = f"print('loss=0.5')\nprint('loss=0.25')\n{end}"
    magics = ip.magics_manager.registry["SmTrainMagics"]
    with contextlib.suppress(JobFailedError):
        train(ip, "--job-name ended --metric loss='loss=([0-9.]+)' --wait", cell)
    magics.jobs.clear()  # as a restarted kernel has no handle
    del ip.user_ns["job"]
    capsys.readouterr()

    job = ip.run_line_magic("sm_attach", "ended")

    assert (job.done, job.status, job.secondary_status) == (True, status, status)
    assert [e.message for e in job.recent_lines()][:2] == ["loss=0.5", "loss=0.25"]
    assert list(job.logs().message) == [e.message for e in job.recent_lines()]
    assert list(job.metrics().value) == [0.5, 0.25]
    assert job.failure_reason == reason
    out = capsys.readouterr().out
    assert "started" not in out
    assert out.startswith(f"attached to a finished job: ended · local · {status} · ")
    assert f"log: {job.log_path}" in out


def test_a_job_printing_fast_is_counted_whole_while_the_kernel_reads_only_the_window(ip):
    """A poll hands the job at most the window's tail of what it read and counts the rest,
    so the kernel's work follows what is shown; the count and the window stay exact."""
    from sm_notebook.backends.supervised import TAIL_LINES

    lines = 3 * TAIL_LINES + 123
    job = train(ip, "--wait --quiet", f"for i in range({lines}):\n    print('line', i)\n")
    assert job.status == "Completed"
    assert job.line_count == lines
    window = [e.message for e in job.recent_lines()]
    assert window[-1] == f"line {lines - 1}"
    assert window == [f"line {i}" for i in range(lines - len(window), lines)]  # no gaps
    assert len(job.logs()) == lines  # the log on disk has them all


def test_a_poll_behind_by_many_lines_hands_out_the_window_s_tail_and_counts_the_rest(tmp_path):
    from sm_notebook.backends.base import JobRef
    from sm_notebook.backends.supervised import TAIL_LINES, SupervisedFolder
    from sm_notebook.events import LogEvent
    from sm_notebook.jobdir import JobDir

    folder = JobDir(tmp_path)
    total = TAIL_LINES * 2 + 5
    folder.append_log(LogEvent("2026-12-03T00:00:00Z", "algo-1", f"line {i}")
                      for i in range(total))
    batch = SupervisedFolder([]).poll(JobRef("j", tmp_path, {}), None)
    assert batch.lines == total
    assert [e.message for e in batch.logs] == [f"line {i}" for i in range(total - TAIL_LINES,
                                                                          total)]
