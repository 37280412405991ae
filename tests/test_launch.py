"""The launch service with the fake backend: spec → folder → submit → ``Job``, what a spec
still misses, the dry-run text, attach and the jobs rows; no IPython, milliseconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sm_notebook import backends
from sm_notebook.backends.base import Backend, JobRef
from sm_notebook.errors import SmNotebookError, SpecError
from sm_notebook.jobdir import JobDir
from sm_notebook.jobs import JobsFolder
from sm_notebook.launch import JobNotFound, Launcher
from sm_notebook.line.parse import LaunchOptions
from sm_notebook.spec import TrainingSpec
from tests.fakes.fake_backend import FakeBackend, Step, log, status

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def launcher_with(tmp_path: Path, fake: FakeBackend, **settings: Any) -> Launcher:
    return Launcher(JobsFolder(tmp_path / "jobs"), backends.Settings(**settings),
                    base=tmp_path, factory=lambda mode, _settings: fake)


def spec(**fields: Any) -> TrainingSpec:
    return TrainingSpec(cell="print('hi')\n", **fields)


def test_the_fake_backend_implements_the_backend_protocol():
    assert isinstance(FakeBackend(), Backend)


def test_launch_makes_the_folder_writes_job_json_submits_and_returns_the_job(tmp_path):
    fake = FakeBackend([Step([log("hello")], [status("Completed")])], notes=["learnt"],
                       preflight_notes=["checked"])
    job = launcher_with(tmp_path, fake).launch(spec(job_name="first"),
                                               LaunchOptions(notes=["parsed"]))
    assert job.name == "first" and job.directory == tmp_path / "jobs" / "first"
    meta = JobDir(job.directory).read_meta()
    assert (meta.name, meta.mode, meta.spec["cell"]) == ("first", "local", "print('hi')\n")
    assert job.notes == ["parsed", "checked", "learnt"]
    assert [args[1] for args in fake.called("submit")] == ["first"]
    assert job.start().wait(timeout=5) == "Completed"


def test_a_failed_submit_leaves_no_half_made_folder(tmp_path):
    fake = FakeBackend(fail_submit=RuntimeError("engine gone"))
    launcher = launcher_with(tmp_path, fake)
    with pytest.raises(SmNotebookError, match="could not start job first: engine gone"):
        launcher.launch(spec(job_name="first"), LaunchOptions())
    assert not (tmp_path / "jobs" / "first").exists()
    fake.fail_submit = SpecError("--image", "no such image")
    with pytest.raises(SpecError, match="--image: no such image"):
        launcher.launch(spec(job_name="first"), LaunchOptions())
    assert launcher.jobs.names() == []


def test_a_name_in_use_is_refused_before_anything_is_created(tmp_path):
    fake = FakeBackend()
    launcher = launcher_with(tmp_path, fake)
    launcher.launch(spec(job_name="taken"), LaunchOptions())
    with pytest.raises(SpecError, match="--job-name: a job named 'taken' already exists"):
        launcher.prepare(spec(job_name="taken"), LaunchOptions())


def test_dataframe_inputs_are_staged_as_csv_in_the_job(tmp_path):
    import pandas as pd  # a dependency: missing, the test fails rather than skips

    from sm_notebook.spec import FRAME_PREFIX, Channel

    fake = FakeBackend()
    frame = pd.DataFrame({"x": [1, 2]})
    job = launcher_with(tmp_path, fake).launch(
        spec(job_name="frames", channels=[Channel("train", f"{FRAME_PREFIX}train", "text/csv")]),
        LaunchOptions(frames={"train": frame}))
    staged = Path(job.spec.channels[0].source)
    assert staged.is_relative_to(job.directory) and staged.read_text() == "x\n1\n2\n"


def test_what_a_spec_misses_comes_from_the_modes_table(tmp_path, monkeypatch):
    fake = FakeBackend()
    launcher = launcher_with(tmp_path, fake)
    assert launcher.missing(spec()) == []
    assert launcher.missing(spec(mode="container")) == [
        ("--image", "container mode needs an image")]
    monkeypatch.setattr(launcher, "own_role_available", lambda mode: False)
    assert launcher.missing(spec(mode="sagemaker", image="x")) == [
        ("--role", "sagemaker mode needs an execution role ARN")]
    assert launcher.missing(spec(mode="sagemaker", image="x", role=ROLE)) == []
    assert launcher_with(tmp_path, fake, role=ROLE).missing(spec(mode="sagemaker",
                                                                 image="x")) == []


def test_a_backend_that_finds_its_own_role_needs_none(tmp_path):
    class OwnRole(FakeBackend):
        def own_role_available(self) -> bool:
            return True

    assert launcher_with(tmp_path, OwnRole()).missing(spec(mode="sagemaker", image="x")) == []


def test_the_dry_run_names_the_job_as_the_mode_says_and_shows_the_plan(tmp_path):
    fake = FakeBackend(plan_text="python train.py")
    launcher = launcher_with(tmp_path, fake)
    text = launcher.plan_text(spec(base_job_name="demo"), LaunchOptions(notes=["a note"]))
    assert text.startswith("# dry run: nothing was created or started\n# equivalent line:\n"
                           "%%sm_train")
    assert "# note: a note\n# would run:\npython train.py" in text
    assert fake.called("plan")[0][1].startswith("demo-")  # local: the generated name
    launcher.plan_text(spec(mode="sagemaker", image="x"), LaunchOptions())
    assert fake.called("plan")[1][1] == "<generated at launch>"
    assert launcher.jobs.names() == []


def test_attach_follows_a_job_of_the_folder_to_its_end(tmp_path):
    fake = FakeBackend([Step([log("one")], [status("Completed")])])
    launcher = launcher_with(tmp_path, fake)
    launcher.launch(spec(job_name="done"), LaunchOptions())
    job = launcher.attach("done")
    assert job.done and job.status == "Completed" and job.line_count == 1
    with pytest.raises(JobNotFound, match=r"no job named 'dnoe'.*did you mean done"):
        launcher.attach("dnoe")


class AccountBackend(FakeBackend):
    """A fake that knows jobs made elsewhere (as sagemaker mode does)."""

    def list_jobs(self, region: str | None, limit: int = 100) -> list[dict[str, Any]]:
        return [{"name": "remote", "mode": "sagemaker", "status": "Completed",
                 "created": "2024-01-01T00:00:00+00:00"}]

    def find(self, name: str, region: str | None) -> dict[str, Any] | None:
        import datetime

        return {"CreationTime": datetime.datetime(2024, 1, 1)} if name == "remote" else None

    def adopt(self, description: dict[str, Any], directory: Path) -> TrainingSpec:
        return spec(mode="sagemaker", image="x")

    def attach(self, name: str, directory: Path) -> JobRef:
        return JobRef(name, directory)


def test_a_job_made_elsewhere_is_adopted_into_a_folder_and_listed(tmp_path):
    fake = AccountBackend()
    launcher = launcher_with(tmp_path, fake)
    job = launcher.attach("remote")
    assert JobDir(job.directory).read_meta().adopted
    assert [r["name"] for r in launcher.rows({"mode": "sagemaker"})] == ["remote"]
    assert [r["name"] for r in launcher.rows({"mode": "local"})] == []
    job.detach()

