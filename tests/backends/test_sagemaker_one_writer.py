"""One writer per SageMaker job's log: however many handles and kernels follow a job, and
whichever of them dies when, every CloudWatch line is in ``job.log`` exactly once.

The follower holding the job folder's lock reads CloudWatch and writes the log; the
others read what it writes and take over when it goes.  ``positions.json`` records the
length of the log it matches; a writer starting over awaits the lines past it from the
reads rather than writing them twice (the log is only ever appended to).  The
job runs on moto's server with the project's SageMaker and CloudWatch simulators; the
kernels are real ``ipykernel`` processes reaching it over HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from sm_notebook.backends.sagemaker.log_store import POSITIONS_FILE, SavedLog, WriterLock
from sm_notebook.events import LogEvent
from sm_notebook.jobdir import JobDir, read_json, write_json
from tests.backends import test_sagemaker_jobs as sagemaker
from tests.fakes.sagemaker_service import logs, pause, status
from tests.kernel import Kernel

service = sagemaker.service  # moto's server with the simulators, as the other tests use it
HOSTS = ("algo-1", "algo-2")


def _lines(count: int, start: int = 0) -> list:
    """Steps: ``count`` numbered lines on each host, written while the job is followed."""
    return [logs(host, *(f"{host} line {i}" for i in range(start, start + count)))
            for host in HOSTS]


def _bursts(bursts: int, per_burst: int, gap: float) -> list:
    steps = [status("InProgress", "Training", "Training in progress")]
    for burst in range(bursts):
        steps += [*_lines(per_burst, burst * per_burst), pause(gap)]
    return [*steps, status("Completed", "Completed", "Training job completed")]


def _on_disk(directory: Path) -> Counter[str]:
    """How often each line is in the job's log file."""
    return Counter(event.message for event in JobDir(directory).read_log())


def _each_once(per_host: int) -> Counter[str]:
    return Counter(f"{host} line {i}" for host in HOSTS for i in range(per_host))


def _wait_for(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


# ---- the lock and the saved log, on their own --------------------------------------------
def test_one_lock_holder_at_a_time_even_within_one_process(tmp_path):
    first, second = WriterLock(tmp_path), WriterLock(tmp_path)
    assert first.take() and first.take()  # taking it again is a no-op
    assert not second.take()
    first.release()
    assert second.take()
    second.release()


def test_a_lock_holder_that_dies_frees_the_lock_without_a_stale_file(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from pathlib import Path\n"
         "from sm_notebook.backends.sagemaker.log_store import WriterLock\n"
         f"lock = WriterLock(Path({str(tmp_path)!r}))\n"
         "assert lock.take()\n"
         "print('held', flush=True)\n"
         "time.sleep(600)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        lock = WriterLock(tmp_path)
        assert not lock.take()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert lock.take()  # the OS let go of it with the process; nothing to clean up
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def _event(n: int) -> LogEvent:
    return LogEvent("2026-11-23T10:00:00.000000Z", "algo-1", f"line {n}")


def _messages(events) -> list[str]:
    return sorted(event.message for event in events)


def test_lines_appended_after_the_last_positions_are_kept_and_awaited_from_the_reads(
        tmp_path):
    saved = SavedLog(tmp_path)
    saved.save([_event(1), _event(2)], {"tokens": {"s": "f/2"}}, Counter())
    JobDir(tmp_path).append_log([_event(3)])  # appended, then the follower died
    before = JobDir(tmp_path).log_file.read_bytes()

    resumed = SavedLog(tmp_path).resume(shown=0)

    assert resumed.positions == {"tokens": {"s": "f/2"}}
    assert _messages(resumed.replay) == ["line 1", "line 2", "line 3"]
    assert _messages(resumed.on_disk.elements()) == ["line 3"]  # the reads bring it again
    assert JobDir(tmp_path).log_file.read_bytes() == before  # never cut: read by offset


def test_lines_still_awaited_survive_a_second_crash(tmp_path):
    JobDir(tmp_path).append_log([_event(1), _event(2)])
    SavedLog(tmp_path).save([], {"tokens": {}}, Counter([_event(2)]))
    JobDir(tmp_path).append_log([_event(3)])

    resumed = SavedLog(tmp_path).resume(shown=0)

    assert _messages(resumed.on_disk.elements()) == ["line 2", "line 3"]


def test_a_log_without_positions_is_all_awaited_from_the_start(tmp_path):
    JobDir(tmp_path).append_log([_event(1)])  # the first lines, then a crash

    resumed = SavedLog(tmp_path).resume(shown=0)

    assert resumed.positions == {}
    assert _messages(resumed.on_disk.elements()) == ["line 1"]


def test_a_reader_taking_over_replays_only_what_it_had_not_shown(tmp_path):
    SavedLog(tmp_path).save([_event(1), _event(2)], {"tokens": {}}, Counter())
    one_line = len(_event(1).to_record())
    JobDir(tmp_path).append_log([_event(3)])  # the writer died before saving positions

    behind = SavedLog(tmp_path).resume(shown=one_line)  # it had shown line 1 only
    ahead = SavedLog(tmp_path).resume(shown=3 * one_line)  # it had shown all three

    assert _messages(behind.replay) == ["line 2", "line 3"]
    assert ahead.replay == []
    assert _messages(behind.on_disk.elements()) == _messages(ahead.on_disk.elements()) == [
        "line 3"]


def test_positions_written_before_log_lengths_were_kept_await_nothing(tmp_path):
    JobDir(tmp_path).append_log([_event(1)])
    write_json(tmp_path / POSITIONS_FILE, {"tokens": {"s": "f/1"}})  # an older release's

    resumed = SavedLog(tmp_path).resume(shown=0)

    assert (_messages(resumed.replay), resumed.on_disk) == (["line 1"], Counter())


# ---- followers of one job ------------------------------------------------------------------
def test_two_handles_following_one_job_in_one_kernel_write_each_line_once(ip, service):
    service.play("two-handles", _bursts(bursts=3, per_burst=500, gap=0.6))
    job = sagemaker.train(ip, "two-handles", "--instance-count 2 --quiet")
    _wait_for(lambda: job.line_count > 0, what="the first lines")
    other = ip.magics_manager.registry["SmTrainMagics"].launcher().attach("two-handles")
    other.start()

    assert job.wait(timeout=120) == "Completed"
    assert other.wait(timeout=120) == "Completed"

    assert _on_disk(job.folder.path) == _each_once(1_500)
    for handle in (job, other):  # each shows every line once, in each host's order
        assert handle.line_count == 3_000
        frame = handle.logs()
        for host in HOSTS:
            assert list(frame.message[frame.host == host]) == [
                f"{host} line {i}" for i in range(1_500)]
    assert [e.message for e in other.recent_lines()] == [
        e.message for e in job.recent_lines()]


def _saved_matches_log(directory: Path) -> bool:
    return read_json(directory / POSITIONS_FILE).get("log_bytes") == \
        JobDir(directory).log_size() > 0


def test_a_reader_taking_over_after_a_crash_mid_save_shows_each_line_once(
        ip, service, jobs_dir):
    from sm_notebook.backends.sagemaker.backend import SageMakerBackend

    go_on, finish = threading.Event(), threading.Event()
    service.play("cut-under-a-reader", [
        status("InProgress", "Training", "Training in progress"), *_lines(500),
        lambda _service, _job: go_on.wait(60), *_lines(500, start=500),
        lambda _service, _job: finish.wait(60), *_lines(500, start=1_000), pause(0.5),
        status("Completed", "Completed", "Training job completed")])
    writer = sagemaker.train(ip, "cut-under-a-reader", "--instance-count 2 --quiet")
    directory = writer.folder.path
    _wait_for(lambda: writer.line_count == 1_000 and _saved_matches_log(directory),
              what="the first lines saved")
    before = (directory / POSITIONS_FILE).read_bytes()
    go_on.set()
    _wait_for(lambda: writer.line_count == 2_000 and _saved_matches_log(directory),
              what="the second lines saved")
    backend = SageMakerBackend()  # a second follower, polled by hand
    ref = backend.attach("cut-under-a-reader", directory)
    shown: list[str] = []
    cursor = None

    def poll() -> bool:
        nonlocal cursor
        batch = backend.poll(ref, cursor)
        cursor = batch.cursor
        shown.extend(event.message for event in batch.logs)
        return batch.done

    _wait_for(lambda: poll() or len(shown) == 2_000, what="the reader to read the log")
    writer.detach()
    _wait_for(lambda: writer.done, what="the writer to let go")
    # What the writer would have left had it died after appending the second lines and
    # before saving their positions: the positions of the first.
    (directory / POSITIONS_FILE).write_bytes(before)
    finish.set()

    _wait_for(poll, timeout=120, what="the new writer to finish")

    assert _on_disk(directory) == _each_once(1_500)
    assert Counter(shown) == _each_once(1_500)


def test_an_attach_while_a_detached_handle_finishes_its_last_poll_waits_and_is_final(
        ip, service, jobs_dir):
    service.play("letting-go", [status("InProgress", "Training", "Training in progress"),
                                logs("algo-1", "only line"), pause(0.3),
                                status("Failed", "Failed", "Training job failed",
                                       failure="AlgorithmError: exit code: 1")])
    job = sagemaker.train(ip, "letting-go", "--quiet")
    _wait_for(lambda: job.line_count == 1, what="the line")
    job.detach()
    _wait_for(lambda: job.done, what="the detached handle to let go")
    ip.magics_manager.registry["SmTrainMagics"].jobs.clear()
    for thread in service.threads:
        thread.join(timeout=60)  # the job fails while nobody follows it: state.json lags
    last_poll = WriterLock(jobs_dir / "letting-go")  # as a handle that is letting go
    assert last_poll.take()
    threading.Timer(0.5, last_poll.release).start()

    again = ip.run_line_magic("sm_attach", "letting-go")

    assert (again.done, again.status) == (True, "Failed")
    assert list(again.logs().message) == ["only line"]


@pytest.fixture
def kernels(aws, jobs_dir, run_dir):
    """Starts real kernels that share this test's jobs folder and moto server."""
    started: list[Kernel] = []

    def start() -> Kernel:
        started.append(Kernel(run_dir))
        return started[-1]

    yield start
    for kernel in started:
        kernel.close()


def _launch_in(kernel: Kernel, name: str, options: str = "") -> None:
    kernel.run(f"%%sm_train job --mode sagemaker --image {sagemaker.IMAGE} --role "
               f"{sagemaker.ROLE} --job-name {name} --instance-count 2 --quiet {options}\n"
               "print('hello')\n")


def test_kernels_following_one_job_write_each_line_once_and_take_over_from_a_dead_writer(
        ip, service, kernels, jobs_dir):
    service.play("three-followers", _bursts(bursts=6, per_burst=250, gap=1.0))
    writer, reader = kernels(), kernels()
    _launch_in(writer, "three-followers")
    directory = jobs_dir / "three-followers"
    _wait_for(lambda: JobDir(directory).log_size() > 0, what="the writer's first lines")
    reader.run("job = %sm_attach three-followers")
    here = ip.run_line_magic("sm_attach", "three-followers")

    os.kill(writer.pid, signal.SIGKILL)  # mid-stream, wherever it was
    _wait_for(writer.dead, what="the writer kernel to die")

    seen = reader.follow_to_the_end()
    assert here.wait(timeout=150) == "Completed"
    assert _on_disk(directory) == _each_once(1_500)
    assert (seen["status"], seen["count"], here.line_count) == ("Completed", 3_000, 3_000)
    assert Counter(seen["lines"]) == _each_once(1_500)
    assert [e.message for e in here.recent_lines()] == seen["lines"]


def test_a_kernel_killed_between_appending_lines_and_saving_positions_duplicates_nothing(
        ip, service, kernels, jobs_dir):
    service.play("killed-mid-save", [
        status("InProgress", "Training", "Training in progress"), *_lines(1_500), pause(4.0),
        *_lines(500, start=1_500), pause(0.5),
        status("Completed", "Completed", "Training job completed")])
    kernel = kernels()
    # The kernel dies the moment it would replace positions.json after lines were appended
    # to job.log: the lines are on disk, the positions that cover them are not.
    kernel.run("import os, signal\n"
               "from pathlib import Path\n"
               "_replace = os.replace\n"
               "def replace(source, target, *args, **kwargs):\n"
               "    target = Path(target)\n"
               f"    if target.name == {POSITIONS_FILE!r} and "
               "(target.parent / 'job.log').stat().st_size:\n"
               "        os.kill(os.getpid(), signal.SIGKILL)\n"
               "    return _replace(source, target, *args, **kwargs)\n"
               "os.replace = replace\n")
    _launch_in(kernel, "killed-mid-save", "--metric 'n=line ([0-9]+)'")
    _wait_for(kernel.dead, what="the kernel to die at its first save")
    directory = jobs_dir / "killed-mid-save"
    on_disk = _on_disk(directory)
    assert on_disk and set(on_disk.values()) == {1}  # lines appended, then the kill
    assert read_json(directory / POSITIONS_FILE).get("log_bytes", 0) < \
        JobDir(directory).log_size()  # the positions cover less than the log

    before = JobDir(directory).log_file.read_bytes()

    again = ip.run_line_magic("sm_attach", "killed-mid-save")

    assert again.wait(timeout=120) == "Completed"
    assert JobDir(directory).log_file.read_bytes().startswith(before)  # only appended to
    assert _on_disk(directory) == _each_once(2_000)
    assert again.line_count == 4_000
    assert Counter(again.logs().message) == _each_once(2_000)
    points = again.metrics()  # parsed beside the job, by byte offset: each line once too
    assert Counter(zip(points.host, points.value, strict=True)) == Counter(
        (host, float(i)) for host in HOSTS for i in range(2_000))
