"""Container jobs when the connection to the real Docker Engine breaks: the supervisor
talks to the engine through a relay (tests/fakes/socket_relay.py) that cuts it mid-job."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sm_notebook.backends.container.engine import spares
from tests.backends import test_container_jobs as containers
from tests.backends.test_container_jobs import LABEL, PLAIN, _counting_cell, train
from tests.backends.test_local_jobs import wait_for
from tests.fakes.socket_relay import SocketRelay

engine = containers.engine  # autouse: the engine is up, and nothing is left behind


@pytest.fixture
def relay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ip):
    """Every engine connection of the job (and the kernel's) goes through a relay."""
    relayed = SocketRelay(tmp_path / "engine.sock")
    monkeypatch.setenv("DOCKER_HOST", relayed.address)
    ip.run_line_magic("config", "SmTrainMagics.stop_grace = 1.0")
    yield relayed
    ip.run_line_magic("config", "SmTrainMagics.stop_grace = 30.0")
    spare = spares.spares.pop(relayed.address, None)
    if spare is not None:  # the idle spare this address got
        spare.kill()
        spare.wait()
    relayed.close()


def started(job, lines: int = 30) -> None:
    wait_for(lambda: job.line_count >= lines, timeout=60)


def test_a_lost_engine_connection_fails_the_job_and_removes_its_container(ip, relay, engine):
    job = train(ip, f"--image {PLAIN} --quiet", _counting_cell(300, 0.05))
    started(job)

    assert relay.cut() > 0  # every open connection: the output stream and the wait

    assert job.wait(timeout=60) == "Failed"
    assert job.failure_reason.startswith("InternalError: ")
    assert "Docker Engine" in job.failure_reason and "the job was stopped" in job.failure_reason
    assert job.line_count < 300 and job.model_artifacts is None  # not Completed, not packed
    labelled = {"label": f"{LABEL}={job.name}"}
    assert engine.containers.list(all=True, filters=labelled) == []


def test_an_output_stream_that_ends_while_the_container_runs_fails_the_job(ip, relay, engine):
    job = train(ip, f"--image {PLAIN} --quiet", _counting_cell(300, 0.05))
    started(job)

    assert relay.cut(b"/attach") == 1  # the output alone; waiting on the container goes on

    assert job.wait(timeout=60) == "Failed"
    assert job.failure_reason == (
        "InternalError: the Docker Engine's output stream of algo-1 broke (it ended while "
        "the container was still running); the job was stopped")
    assert job.line_count < 300
    assert engine.containers.list(all=True, filters={"label": f"{LABEL}={job.name}"}) == []


def test_a_container_is_removed_once_the_engine_is_back(ip, relay, engine):
    job = train(ip, f"--image {PLAIN} --quiet", _counting_cell(300, 0.05))
    started(job)
    relay.refuse()  # the engine is gone for a while
    wait_for(lambda: job.status in ("Stopping", "Failed"), timeout=30)
    assert engine.containers.list(filters={"label": f"{LABEL}={job.name}"}) != []
    relay.accept()

    assert job.wait(timeout=90) == "Failed"
    assert engine.containers.list(all=True, filters={"label": f"{LABEL}={job.name}"}) == []


def test_the_container_supervisor_s_files_are_the_user_s_alone(ip, engine):
    job = train(ip, f"--image {PLAIN} --wait", "print('done')\n")

    assert job.status == "Completed", job.failure_reason
    for name in ("state.json", "job.log", "supervisor.err", "artifacts/model.tar.gz"):
        assert stat.S_IMODE((job.directory / name).stat().st_mode) == 0o600, name
