"""The launch service: a spec and its launch options → a running :class:`~sm_notebook.job.Job`.

Everything between a parsed line and a followed job lives here, with no IPython: the
check of what a spec still misses, the dry-run text, preflight, naming, the job folder,
DataFrame inputs staged as CSV, ``job.json``, ``Backend.submit``; attaching a job again by
name (jobs made elsewhere included) and the rows of ``%sm_jobs``.  The magics, the form,
and later tuning trials and serving all call one :class:`Launcher`::

    launcher = Launcher(JobsFolder(root), backends.Settings(...))
    job = launcher.launch(spec, options)      # or prepare() then start()
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import backends, modes, sourcedir
from .backends.aws import configured_region
from .backends.base import (
    Backend,
    FindsOwnRole,
    KnowsAccountJobs,
    KnowsQueues,
    Progress,
    no_progress,
)
from .backends.s3_inputs import local_copy
from .catalog import images
from .clock import utc_now_iso
from .errors import SmNotebookError
from .job import DEFAULT_LOG_WINDOW, Job
from .jobdir import JobDir, JobMeta
from .jobs import JobsFolder
from .line.parse import LaunchOptions
from .line.render import render_line
from .spec import TrainingSpec
from .version import __version__

#: columns of ``%sm_jobs``, in order
JOB_COLUMNS = ["name", "mode", "status", "secondary_status", "created", "duration",
               "instance_type", "instance_count", "cost_usd", "model_artifacts",
               "failure_reason", "directory", "sweep", "queue"]


class JobNotFound(SmNotebookError):
    """No job of that name here, nor among the jobs the backends can find elsewhere."""


class AccountJobsError(SmNotebookError):
    """A backend could not list the jobs made elsewhere (``%sm_jobs --mode MODE``)."""


@dataclass
class Prepared:
    """A launch checked and named, before anything exists on disk."""

    spec: TrainingSpec
    name: str
    backend: Backend
    notes: list[str] = field(default_factory=list)
    frames: dict[str, Any] = field(default_factory=dict)


def stage_frames(spec: TrainingSpec, frames: dict[str, Any], directory: Path,
                 staging: Path | None = None) -> TrainingSpec:
    """Each ``--input NAME=$dataframe`` as ``inputs/NAME/NAME.csv`` in the job (header, no
    index), which the channel then names: every backend sees an ordinary file.  The file
    is written under ``staging`` when the folder is still being made there."""
    channels = []
    for channel in spec.channels:
        if channel.is_frame:
            relative = local_copy(Path(), channel.name) / f"{channel.name}.csv"
            written = (staging or directory) / relative
            written.parent.mkdir(parents=True, exist_ok=True)
            frames[channel.name].to_csv(written, index=False)
            channel = dataclasses.replace(channel, source=str(directory / relative))
        channels.append(channel)
    return dataclasses.replace(spec, channels=channels)


def merge_account_rows(local: list[dict[str, Any]], account: list[dict[str, Any]]
                       ) -> list[dict[str, Any]]:
    """The account's jobs, with what this machine knows of those it has followed."""
    known = {row["name"]: row for row in local}
    return [known.get(row["name"], row) | {k: v for k, v in row.items() if v is not None}
            for row in account]


def hp_style_wording(style: str) -> str:
    """How ``--hp-style`` passes hyperparameters, for the dry run."""
    if style == "v3":
        return "V3's ModelTrainer passes them (strings as they are, the rest as JSON)"
    return ("the V2 framework estimators and the training toolkit pass them (every value "
            "JSON-encoded; `train` runs toolkit images)")


@contextlib.contextmanager
def removed_on_failure(path: Path, what: str) -> Iterator[None]:
    """``path`` is removed when the block fails; a fault that is not already one line
    becomes one ``SmNotebookError``."""
    try:
        yield
    except BaseException as exc:
        shutil.rmtree(path, ignore_errors=True)
        if isinstance(exc, SmNotebookError | KeyboardInterrupt):
            raise
        raise SmNotebookError(f"{what}: {exc}") from exc


#: ``factory(mode, settings)`` → a backend (``backends.get``; tests hand in a fake)
BackendFactory = Callable[[str, backends.Settings], Backend]
#: ``sources(spec)`` → the spec its sources give and what came from them
#: (``backends.resolve_sources``: a JumpStart model; tests hand in a fake)
SpecSources = Callable[[TrainingSpec], tuple[TrainingSpec, list[str]]]


class Launcher:
    """Launches, attaches and lists jobs of one jobs folder, with one set of backend
    settings; ``base`` is where relative paths of a spec resolve, ``region`` the default
    for finding jobs and resolving image aliases."""

    def __init__(self, jobs: JobsFolder, settings: backends.Settings | None = None,
                 log_window: int = DEFAULT_LOG_WINDOW, region: str | None = None,
                 base: Path | None = None, factory: BackendFactory = backends.get,
                 sources: SpecSources = backends.resolve_sources):
        self.jobs = jobs
        self.factory = factory
        self.sources = sources
        self.settings = settings or backends.Settings()
        self.log_window = log_window
        self.region = region
        self.base = base or Path.cwd()

    def backend(self, mode: str) -> Backend:
        """The backend that runs ``mode``, configured from the settings."""
        return self.factory(mode, self.settings)

    # ---- before launch -------------------------------------------------------------------
    def missing(self, spec: TrainingSpec) -> list[tuple[str, str]]:
        """What the job still needs before it can launch, as ``(option, reason)``."""
        mode = modes.get(spec.mode)
        out = []
        if mode.needs_image and not spec.image and spec.jumpstart is None:
            out.append(("--image", f"{spec.mode} mode needs an image"))
        if mode.needs_role and not (spec.role or self.settings.role) \
                and not self.own_role_available(spec.mode):
            out.append(("--role", f"{spec.mode} mode needs an execution role ARN"))
        return out

    def own_role_available(self, mode: str) -> bool:
        """Whether ``mode``'s backend finds a role of its own (a SageMaker notebook's)."""
        backend = self.backend(mode)
        return isinstance(backend, FindsOwnRole) and backend.own_role_available()

    def image_uri(self, spec: TrainingSpec) -> str | None:
        """The URI an image alias stands for where the job will run, or None (no alias, or
        no region known).  ``SpecError`` for an alias the region or instance lacks."""
        region = spec.region or self.region or configured_region()
        if not spec.image or not images.is_alias(spec.image) or not region:
            return None
        return images.resolve(spec.image, region, spec.effective_instance_type)

    def resolved(self, spec: TrainingSpec) -> tuple[TrainingSpec, list[str]]:
        """The spec with what its sources give (a JumpStart model's image, code,
        channels...) and checked again; what came from them and the new notes."""
        resolved, taken = self.sources(spec)
        if resolved is spec:
            return spec, []
        return resolved, taken + resolved.validate(self.base)

    def dry_run(self, spec: TrainingSpec, options: LaunchOptions) -> Iterator[str]:
        """The ``--dry-run`` text, a block at a time (nothing is created); ``SpecError``
        when the backend cannot plan the spec."""
        mode = modes.get(spec.mode)
        spec, taken = self.resolved(spec)
        options = dataclasses.replace(options, notes=[*options.notes, *taken])
        sourcedir.collect(spec, self.base)  # special files, /, ~ and size: refused here too
        name = self.jobs.new_name(spec) if mode.names_job_in_dry_run else (
            spec.job_name or "<generated at launch>")
        yield (f"# dry run: nothing was created or started\n# equivalent line:\n"
               f"{render_line(spec, options.variable)}\n# spec:")
        yield spec.to_yaml(include_cell=False, compact=True).rstrip()
        yield (f"# cell: {len(spec.cell.splitlines())} lines → {spec.entry_script}"
               + (f"; --command runs instead: {spec.command}" if spec.command else ""))
        yield (f"# hyperparameters: --hp-style {spec.hp_style}, as "
               f"{hp_style_wording(spec.hp_style)}")
        for note in options.notes:
            yield f"# note: {note}"
        yield "# would run:"
        yield self.backend(spec.mode).plan(spec, name, self.jobs.job_dir(name), self.base)

    def plan_text(self, spec: TrainingSpec, options: LaunchOptions) -> str:
        """The whole ``--dry-run`` text."""
        return "\n".join(self.dry_run(spec, options))

    # ---- launch --------------------------------------------------------------------------
    def prepare(self, spec: TrainingSpec, options: LaunchOptions,
                progress: Progress = no_progress) -> Prepared:
        """Preflight and a name: ``SpecError`` for input the mode cannot run, before
        anything is created."""
        spec, taken = self.resolved(spec)
        sourcedir.collect(spec, self.base)  # the code's trees, checked before anything exists
        backend = self.backend(spec.mode)
        backend.on_progress = progress  # pulls, uploads, downloads
        notes = options.notes + taken + backend.preflight(spec, self.base)
        return Prepared(spec, self.jobs.new_name(spec), backend, notes, options.frames or {})

    def start(self, prepared: Prepared) -> Job:
        """Make the job folder and submit.  The folder is made under a hidden name and
        renamed into place with its ``job.json``; it is complete once the backend has the
        job.  What is half made is removed when anything fails (a fault is one
        ``SmNotebookError``), and a kill is shown by ``%sm_jobs`` for what it was."""
        name, backend = prepared.name, prepared.backend
        created = utc_now_iso()
        staging = self.jobs.begin(name)
        directory = self.jobs.job_dir(name)
        with removed_on_failure(staging, f"could not start job {name}"):
            spec = stage_frames(prepared.spec, prepared.frames, directory, staging)
            JobDir(staging).write_meta(JobMeta(name, spec.mode, created, spec.to_dict(),
                                               __version__))
            self.jobs.claim(staging, name)
        with removed_on_failure(directory, f"could not start job {name}"):
            ref = backend.submit(spec, name, directory, self.base)
        self.jobs.finish(directory)
        job = Job(spec, name, directory, backend, ref, log_window=self.log_window,
                  created=created)
        job.notes = prepared.notes + ref.notes  # what the backend learnt submitting
        return job

    def launch(self, spec: TrainingSpec, options: LaunchOptions,
               progress: Progress = no_progress) -> Job:
        """``prepare`` then ``start``: a submitted job, its notes in ``job.notes``."""
        return self.start(self.prepare(spec, options, progress))

    # ---- jobs already made -------------------------------------------------------------
    def attach(self, name: str) -> Job:
        """Follow a job again by name: one of the folder's, else one a backend finds
        elsewhere (adopted into a new folder).  An ended job is read to its end before
        it is returned (``job.done``)."""
        folder = JobDir(self.jobs.job_dir(name))
        meta = folder.read_meta() or self.adopt(name)
        if meta is None:
            raise JobNotFound(f"no job named {name!r} in {self.jobs.root} or among the "
                              f"account's SageMaker training jobs{self.jobs.hint(name)}")
        spec = TrainingSpec.from_dict(meta.spec)
        backend = self.backend(spec.mode)
        ref = backend.attach(name, folder.path)
        job = Job(spec, name, folder.path, backend, ref, log_window=self.log_window,
                  created=meta.created)
        job.catch_up()  # it had ended: the handle is final on return
        return job

    def account_jobs(self, mode: str) -> KnowsAccountJobs | None:
        """``mode``'s backend, when the mode lists and adopts jobs made elsewhere."""
        if not modes.get(mode).lists_account_jobs:
            return None
        backend = self.backend(mode)
        return backend if isinstance(backend, KnowsAccountJobs) else None

    def adopt(self, name: str) -> JobMeta | None:
        """A job made elsewhere, given a job folder here so it is followed like any other;
        None when no backend knows it."""
        for mode in modes.NAMES:
            backend = self.account_jobs(mode)
            description = backend.find(name, self.region) if backend else None
            if description is None:
                continue
            staging = self.jobs.begin(name)
            with removed_on_failure(staging, f"could not follow job {name}"):
                spec = backend.adopt(description, staging)
                meta = JobMeta(name, mode, description["CreationTime"].isoformat(),
                               spec.to_dict(), __version__, adopted=True)
                JobDir(staging).write_meta(meta)
                self.jobs.finish(self.jobs.claim(staging, name))
            return meta
        return None

    def rows(self, filters: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """``%sm_jobs`` rows, newest first; a mode that lists the account's jobs adds the
        jobs made elsewhere (``AccountJobsError`` when it cannot)."""
        filters = dict(filters or {})
        queue = filters.pop("queue", None)
        rows = self.jobs.records()
        trials = sweep_of_trials(self.jobs.root)
        for row in rows:
            row["sweep"] = trials.get(row["name"])
        mode = filters.get("mode")
        backend = self.account_jobs(mode) if mode in modes.MODES else None
        if backend is not None:  # every job of the account, not only ours
            try:
                account = backend.list_jobs(self.region)
            except SmNotebookError as exc:  # SpecError included
                raise AccountJobsError(str(exc)) from None
            rows = merge_account_rows(rows, account)
        if queue is not None:  # the queue's jobs, with what this machine knows of them
            rows = merge_account_rows(rows, self.queue_rows(queue))
        for key, value in filters.items():
            rows = [r for r in rows if str(r.get(key)) == value]
        return rows


    def queue_rows(self, queue: str) -> list[dict[str, Any]]:
        """The jobs of a queue, from the backend that knows queues."""
        for mode in modes.NAMES:
            backend = self.account_jobs(mode)
            if isinstance(backend, KnowsQueues):
                try:
                    return backend.queue_jobs(queue, self.region)
                except SmNotebookError as exc:
                    raise AccountJobsError(str(exc)) from None
        raise AccountJobsError("no backend here lists queues")


def sweep_of_trials(root: Path) -> dict[str, str]:
    """Each trial job's sweep, from the sweeps' own records (``.sweeps``)."""
    from .tuning.sweep_dir import SWEEPS, SweepDir

    found: dict[str, str] = {}
    for path in sorted((root / SWEEPS).iterdir()) if (root / SWEEPS).is_dir() else ():
        for trial in SweepDir(path).read_trials():
            found[trial.job] = path.name
    return found


__all__ = ["JOB_COLUMNS", "AccountJobsError", "BackendFactory", "JobNotFound", "Launcher",
           "Prepared", "merge_account_rows", "stage_frames"]
