"""``%%sm_train``, ``%sm_jobs`` and ``%sm_attach``: glue from the magic line to a running job.

magic line → (expand, parse) → TrainingSpec (validated) → backend.submit → Job → display.
Bad input raises ``UsageError`` before anything is created; settings are traitlets, so
``%config SmTrainMagics.default_mode = "container"`` works.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    line_cell_magic,
    line_magic,
    magics_class,
    no_var_expand,
)
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Enum, Float, Int, Unicode

from . import hyperparameters as hp
from .cellscript import check_cell
from .clock import utc_now_iso
from .errors import JobFailedError, SmNotebookError, SpecError
from .jobdir import read_json, write_json
from .jobs import JobsFolder, jobs_dir_from
from .line.expand import ExpandedLine, expand_line
from .line.grammar import OPTIONS
from .line.parse import Defaults, build_spec, stray_value
from .modes import NAMES as MODES
from .spec import TrainingSpec
from .version import __version__


def _train_options(func: Any) -> Any:
    for opt in reversed(OPTIONS):
        func = argument(*opt.flags, help=opt.help, **opt.kwargs)(func)
    func = argument("variable", nargs="?", help="name of the variable that receives the job "
                    "handle")(func)
    return magic_arguments()(func)


def _usage(exc: SpecError) -> UsageError:
    return UsageError(str(exc))


@magics_class
class SmTrainMagics(Magics):
    """Run a cell as a SageMaker script-mode training job."""

    default_mode = Enum(list(MODES), default_value="local",
                        help="Mode used when the line gives no --mode.").tag(config=True)
    jobs_dir = Unicode("", help="Directory of job folders (default $SM_NOTEBOOK_JOBS_DIR or "
                       "~/.sm_notebook/jobs).").tag(config=True)
    region = Unicode(None, allow_none=True, help="Default AWS region.").tag(config=True)
    role = Unicode(None, allow_none=True, help="Default IAM role ARN (sagemaker mode)."
                   ).tag(config=True)
    bucket = Unicode(None, allow_none=True, help="S3 bucket for code and data (sagemaker mode; "
                     "default sagemaker-<region>-<account>).").tag(config=True)
    live_tail = Bool(True, help="Follow sagemaker-mode logs with CloudWatch Live Tail (lines "
                     "within about a second; CloudWatch bills Live Tail per session-minute). "
                     "False: poll GetLogEvents every second instead.").tag(config=True)
    hp_style = Enum(list(hp.STYLES), default_value=hp.DEFAULT_STYLE, help="How hyperparameters "
                    "reach the script when the line gives no --hp-style: v3 (the current "
                    "SDK's ModelTrainer) or v2 (the framework estimators with the training "
                    "toolkit).").tag(config=True)
    default_image = Unicode(None, allow_none=True, help="Image used when the line gives none "
                            "(container and sagemaker modes).").tag(config=True)
    default_instance_type = Unicode(None, allow_none=True, help="Instance type used when the "
                                    "line gives none (container and sagemaker modes)."
                                    ).tag(config=True)
    log_window = Int(10_000, help="Log lines kept in memory per job (the full log stays on "
                     "disk).").tag(config=True)
    refresh_rate = Float(4.0, help="Dashboard (or status display) updates per second, at "
                         "most.").tag(config=True)
    dashboard = Enum(["widgets", "text"], default_value="widgets", help="What shows a job "
                     "under its cell in a notebook: the live widget dashboard, or a plain "
                     "status display.").tag(config=True)
    chart = Enum(["auto", "plotly", "svg"], default_value="auto", help="The dashboard's "
                 "live chart: a plotly FigureWidget, or a light SVG redrawn each flush; auto "
                 "uses plotly in kernels a Jupyter server started (JupyterLab, Notebook) and "
                 "SVG elsewhere (nbclient, papermill).").tag(config=True)
    dashboard_lines = Int(200, help="Log lines shown in the dashboard.").tag(config=True)
    chart_points = Int(500, help="Points per chart trace, at most (longer series are "
                       "decimated, keeping spikes).").tag(config=True)
    status_lines = Int(8, help="Log lines shown in the status display.").tag(config=True)
    stop_grace = Float(30.0, help="Seconds between SIGTERM and SIGKILL when a local job is "
                       "stopped.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell, **kwargs)
        self.jobs: dict[str, Any] = {}
        self.boards: dict[str, Any] = {}  # job name → its live dashboard
        self.form: Any = None  # the last form shown

    # ---- helpers -------------------------------------------------------------------------
    @property
    def registry(self) -> JobsFolder:
        return JobsFolder(jobs_dir_from(self.jobs_dir))

    @property
    def in_kernel(self) -> bool:
        return getattr(self.shell, "kernel", None) is not None

    def chart_kind(self) -> str:
        """plotly where a browser draws widgets: a kernel a Jupyter server started (it sets
        JPY_SESSION_NAME); SVG for headless runs, which would save plotly's 5 MB bundle."""
        if self.chart != "auto":
            return self.chart
        return "plotly" if os.environ.get("JPY_SESSION_NAME") else "svg"

    def backend(self, mode: str) -> Any:
        if mode == "local":
            from .backends.local import LocalBackend

            return LocalBackend(stop_grace=self.stop_grace)
        if mode == "container":
            from .backends.container.backend import ContainerBackend

            kinds = self.registry.root.parent / "image-kinds-2.json"  # 2: with "own" train
            return ContainerBackend(stop_grace=self.stop_grace, kinds_cache=kinds)
        from .backends.sagemaker.backend import SageMakerBackend

        return SageMakerBackend(bucket=self.bucket, role=self.role, live_tail=self.live_tail)

    def parse(self, line: str, cell: str) -> tuple[TrainingSpec, Any]:
        """Line and cell → validated spec, launch options, notes; UsageError on bad input."""
        try:
            expanded = expand_line(line, self.shell.user_ns)
        except SpecError as exc:
            raise _usage(exc) from None
        parser = self.sm_train.parser
        parser.allow_abbrev = False
        try:
            args, extra = parser.parse_known_args(expanded.args)
        except UsageError as exc:
            raise _friendly_argparse_error(str(exc)) from None
        if extra:
            raise _unrecognized(extra, expanded) from None
        defaults = Defaults(self.default_mode, self.region, self.role, self.default_image,
                            self.default_instance_type, self.hp_style)
        try:
            spec, launch = build_spec(args, expanded, cell, defaults, Path.cwd())
            launch.notes = spec.validate(Path.cwd())
            check_cell(spec.cell, spec.entry_script)
        except SpecError as exc:
            raise _usage(exc) from None
        return spec, launch

    # ---- %%sm_train ----------------------------------------------------------------------
    @line_cell_magic
    @no_var_expand
    @_train_options
    def sm_train(self, line: str, cell: str | None = None) -> Any:
        """Run this cell as a SageMaker script-mode training job.

        The cell is the entry script (train.py). Examples::

            %%sm_train job --input train=./data --hp max_leaf_nodes=30
            %%sm_train job --mode local --hp lr={lr} --metric acc='acc=([0-9.]+)' --wait

        The line form runs a command or a program of --source-dir, with no cell::

            %sm_train job --command 'python train.py --epochs 3' --source-dir src

        Values expand ``$name`` and ``{expr}`` except inside single quotes.
        """
        cell = cell or ""
        spec, launch = self.parse(line, cell)
        if launch.dry_run:
            self._dry_run(spec, launch, Path.cwd())
            return None
        missing = self.missing(spec)
        if launch.form or missing:
            if self.interactive():
                return self._show_form(spec, launch, cell)
            if launch.form and missing:  # headless: never wait on a widget
                option, reason = missing[0]
                raise UsageError(f"--form: no interactive frontend to show it in (a headless "
                                 f"run), and the line is incomplete: {option}: {reason}")
        self._run(spec, launch)
        return None

    def _run(self, spec: TrainingSpec, launch: Any, form: Any = None) -> Any:
        """Launch a parsed line: preflight, submit, show (in ``form`` when it came from
        one), and wait when asked."""
        base = Path.cwd()
        backend = self.backend(spec.mode)
        from .ui.text import ProgressLine

        backend.on_progress = ProgressLine(self.in_kernel)  # pulls, uploads, downloads
        try:
            notes = launch.notes + backend.preflight(spec, base)
            registry = self.registry
            name = registry.new_name(spec)
        except SpecError as exc:
            raise _usage(exc) from None
        job = self._submit(spec, name, backend, registry, base, launch.frames)
        if launch.variable:
            self.shell.user_ns[launch.variable] = job
        for note in notes + job._ref.handle.get("notes", []):
            print(f"note: {note}")
        self._show(job, launch, form)
        if launch.wait and form is None:
            self._wait(job, launch)
        return job

    def interactive(self) -> bool:
        """A frontend that shows widgets and answers their clicks: a kernel a Jupyter
        server started (JPY_SESSION_NAME), VS Code's (it names the notebook in
        ``__vsc_ipynb_file__``) or Colab's.  nbclient and papermill set none of these: they
        never get a form, and the dashboard also keeps a plain-text status up to date."""
        if not self.in_kernel:
            return False
        return bool(os.environ.get("JPY_SESSION_NAME") or os.environ.get("VSCODE_PID")
                    or "__vsc_ipynb_file__" in self.shell.user_ns
                    or "google.colab" in sys.modules)

    def missing(self, spec: TrainingSpec) -> list[tuple[str, str]]:
        """What the job still needs before it can launch, as (option, reason)."""
        out = []
        if spec.mode in ("container", "sagemaker") and not spec.image:
            out.append(("--image", f"{spec.mode} mode needs an image"))
        if spec.mode == "sagemaker" and not (spec.role or self.role):
            from .backends.sagemaker.backend import SAGEMAKER_METADATA

            if not SAGEMAKER_METADATA.is_file():
                out.append(("--role", "sagemaker mode needs an execution role ARN"))
        return out

    def _show_form(self, spec: TrainingSpec, launch: Any, cell: str) -> Any:
        from .ui.form import TrainingForm, errors_of
        from .ui.form_model import FormValues

        frames = {name: next((k for k, v in self.shell.user_ns.items() if v is frame
                              and not k.startswith("_")), name)
                  for name, frame in (launch.frames or {}).items()}
        values = FormValues.from_spec(spec, launch.variable, launch.wait, frames)

        def parse(line: str) -> tuple[TrainingSpec, Any]:
            return self.parse(line.removeprefix("%%sm_train").strip(), cell)

        def check(line: str) -> list[tuple[str, str]]:
            try:
                checked, _ = parse(line)
                image_uri(checked)  # an alias the region or instance has no image for
            except (UsageError, SpecError) as exc:
                return [errors_of(str(exc))]
            return self.missing(checked)

        def image_uri(checked: TrainingSpec) -> str | None:
            """The URI an image alias stands for where the job will run, or None."""
            from .backends.aws import configured_region
            from .catalog import images

            region = checked.region or self.region or configured_region()
            if not checked.image or not images.is_alias(checked.image) or not region:
                return None
            return images.resolve(checked.image, region, checked.effective_instance_type)

        def image_note(line: str) -> str:
            try:
                checked, _ = parse(line)
                uri = image_uri(checked)
            except (UsageError, SpecError):
                return ""
            return f"→ {uri}" if uri else ""

        def launch_line(line: str, form: Any) -> None:
            import ipywidgets as widgets

            out = widgets.Output()
            form.root.children = (out,)
            with out:  # main thread (a click): notes and errors land in the form's place
                try:
                    checked, options = parse(line)
                    self._run(checked, options, form)
                except (UsageError, SmNotebookError) as exc:
                    print(f"{type(exc).__name__}: {exc}")

        form = self.form = TrainingForm(values, check, launch_line, image_note)
        from IPython.display import display

        display(form.root)
        return None

    def _submit(self, spec: TrainingSpec, name: str, backend: Any, registry: JobsFolder,
                base: Path, frames: dict[str, Any] | None = None) -> Any:
        from .job import Job

        directory = registry.create(name)
        created = utc_now_iso()
        try:
            spec = _stage_frames(spec, frames or {}, directory)
            write_json(directory / "job.json", {"name": name, "mode": spec.mode,
                                                "created": created, "spec": spec.to_dict(),
                                                "sm_notebook": __version__})
            ref = backend.submit(spec, name, directory, base)
        except BaseException as exc:
            shutil.rmtree(directory, ignore_errors=True)
            if isinstance(exc, SmNotebookError | KeyboardInterrupt):
                raise
            raise SmNotebookError(f"could not start job {name}: {exc}") from exc
        job = Job(spec, name, directory, backend, ref, log_window=self.log_window,
                  created=created)
        self.jobs[name] = job
        return job

    def _show(self, job: Any, launch: Any, form: Any = None, verb: str = "started") -> None:
        if self.in_kernel or form is not None:
            if form is not None or (self.dashboard == "widgets" and not launch.quiet):
                from .ui.dashboard import Dashboard

                board = self.boards[job.name] = Dashboard(
                    job, rate=self.refresh_rate, log_lines=self.dashboard_lines,
                    max_points=self.chart_points, chart=self.chart_kind(),
                    embed=form is not None, text_status=not self.interactive(),
                    blocking=launch.wait and form is None)
                if form is not None:  # the dashboard takes the form's place
                    form.root.children = (*form.root.children, board.root)
            else:
                from .ui.text import ThrottledStatus

                ThrottledStatus(job, rate=self.refresh_rate, lines=self.status_lines,
                                final_only=launch.quiet)
            job.start()
            return
        job.start()
        if not launch.quiet and not launch.wait:
            handle = (f"{launch.variable}.status, {launch.variable}.wait(), "
                      f"{launch.variable}.logs()" if launch.variable else
                      f"job = %sm_attach {job.name} gives its handle")
            print(f"{verb} {job.mode} job {job.name}; {handle}")

    def _show_ended(self, job: Any) -> None:
        """A job attached after its end: its final state at once, with no live view to
        start and tear down."""
        if not self.in_kernel:
            from .ui.text import final_lines, summary_line

            print("\n".join([f"attached to a finished job: {summary_line(job)}",
                             *final_lines(job)]))
            return
        from IPython.display import display

        if self.dashboard == "widgets":
            from .ui.dashboard import final_snapshot

            display(final_snapshot(job, self.dashboard_lines, self.chart_points))
        else:
            from .ui.text import StatusView

            display(StatusView(job, self.status_lines))

    def _wait(self, job: Any, launch: Any) -> None:
        printed = 0
        try:
            while not job.done:
                time.sleep(0.1)
                if not self.in_kernel and not launch.quiet:
                    printed = _print_new_lines(job, printed)
            if not self.in_kernel and not launch.quiet:
                _print_new_lines(job, printed)
            board = self.boards.get(job.name)
            if board is not None:  # its final snapshot, while this cell still runs
                board.wait_finished(timeout=10)
        except KeyboardInterrupt:
            if job.mode in ("local", "container"):  # on this machine: stopped, as docker run
                print(f"Interrupted: stopping {job.mode} job {job.name} (SIGTERM, then SIGKILL "
                      f"after {self.stop_grace:g} s)...", file=sys.stderr)
                job.stop()
                job.wait()
                raise SmNotebookError(f"interrupted; job {job.name} is {job.status}") from None
            raise SmNotebookError(f"interrupted; job {job.name} keeps running "
                                  f"({job.mode} mode): job.stop() stops it") from None
        if not self.in_kernel or launch.quiet:
            from .ui.text import final_lines, summary_line

            print("\n".join([summary_line(job), *final_lines(job)]))
        if job.status == "Failed":
            raise JobFailedError(f"job {job.name} failed: {job.failure_reason}")

    def _dry_run(self, spec: TrainingSpec, launch: Any, base: Path) -> None:
        name = self.registry.new_name(spec) if spec.mode != "sagemaker" else (
            spec.job_name or "<generated at launch>")
        print(f"# dry run: nothing was created or started\n# equivalent line:\n"
              f"{spec.to_magic_line(launch.variable)}\n# spec:")
        print(spec.to_yaml(include_cell=False, compact=True).rstrip())
        print(f"# cell: {len(spec.cell.splitlines())} lines → {spec.entry_script}"
              + (f"; --command runs instead: {spec.command}" if spec.command else ""))
        print(f"# hyperparameters: --hp-style {spec.hp_style}, as "
              + ("V3's ModelTrainer passes them (strings as they are, the rest as JSON)"
                 if spec.hp_style == "v3" else "the V2 framework estimators and the "
                 "training toolkit pass them (every value JSON-encoded; `train` runs "
                 "toolkit images)"))
        for note in launch.notes:
            print(f"# note: {note}")
        print("# would run:")
        try:
            plan = self.backend(spec.mode).plan(spec, name, self.registry.job_dir(name), base)
        except SpecError as exc:
            raise _usage(exc) from None
        print(plan)

    def _adopt_sagemaker_job(self, name: str) -> dict[str, Any]:
        """A SageMaker training job of the account not started here: given a job folder,
        so it can be followed like any other (``{}`` when there is none)."""
        backend = self.backend("sagemaker")
        try:
            description = backend.find(name, self.region)
        except SmNotebookError as exc:
            raise UsageError(f"%sm_attach: {exc}") from None
        if description is None:
            return {}
        directory = self.registry.create(name)
        spec = backend.adopt(description, directory)
        meta = {"name": name, "mode": "sagemaker", "spec": spec.to_dict(),
                "created": description["CreationTime"].isoformat(), "adopted": True,
                "sm_notebook": __version__}
        write_json(directory / "job.json", meta)
        return meta

    # ---- %sm_jobs / %sm_attach --------------------------------------------------------------
    @line_magic
    def sm_jobs(self, line: str = "") -> Any:
        """List the jobs under the jobs directory as a DataFrame (newest first).

        ``%sm_jobs`` all jobs; ``%sm_jobs --mode local`` one mode; ``%sm_jobs --status Failed``.
        """
        import pandas as pd

        filters = _parse_filters(line)
        rows = self.registry.records()
        if filters.get("mode") == "sagemaker":  # every job of the account, not only ours
            from .backends.sagemaker.backend import SageMakerBackend

            try:
                cloud = SageMakerBackend(self.bucket, self.role).list_jobs(self.region)
            except (SpecError, SmNotebookError) as exc:
                raise UsageError(f"%sm_jobs --mode sagemaker: {exc}") from None
            rows = _merge_cloud_rows(rows, cloud)
        for key, value in filters.items():
            rows = [r for r in rows if str(r.get(key)) == value]
        columns = ["name", "mode", "status", "secondary_status", "created", "duration",
                   "instance_type", "instance_count", "cost_usd", "model_artifacts",
                   "failure_reason", "directory"]
        frame = pd.DataFrame(rows, columns=[c for c in columns if c != "duration"])
        created = pd.to_datetime(frame["created"], utc=True, format="ISO8601")
        ended = pd.to_datetime(pd.DataFrame(rows, columns=["ended"])["ended"], utc=True,
                               format="ISO8601")
        frame["created"] = created
        frame.insert(5, "duration", ended.fillna(pd.Timestamp.now(tz="UTC")) - created)
        return frame[columns]

    @line_magic
    def sm_attach(self, line: str) -> Any:
        """Follow a job again (after a kernel restart): ``job = %sm_attach NAME``."""
        name = line.strip()
        if not name:
            raise UsageError("%sm_attach: give a job name (see %sm_jobs)")
        live = self.jobs.get(name)
        if live is not None:  # followed in this kernel already
            if live.done:
                self._show_ended(live)
            else:
                print(f"job {name} is already followed in this kernel; its live view is under "
                      "the cell that started it")
            return live
        registry = self.registry
        directory = registry.job_dir(name)
        meta = read_json(directory / "job.json") or self._adopt_sagemaker_job(name)
        if not meta:
            close = difflib.get_close_matches(name, registry.names(), n=1)
            hint = f"; did you mean {close[0]}?" if close else " (see %sm_jobs)"
            raise UsageError(f"%sm_attach: no job named {name!r} in {registry.root} or among "
                             f"the account's SageMaker training jobs{hint}")
        from .job import Job

        spec = TrainingSpec.from_dict(meta["spec"])
        backend = self.backend(spec.mode)
        try:
            ref = backend.attach(name, directory)
        except SmNotebookError as exc:
            raise UsageError(f"%sm_attach: {exc}") from None
        job = Job(spec, name, directory, backend, ref, log_window=self.log_window,
                  created=meta.get("created"))
        self.jobs[name] = job
        if job.catch_up():  # it had ended: the handle is final on return
            self._show_ended(job)
            return job

        class _Launch:
            quiet = False
            wait = False
            variable = None

        self._show(job, _Launch(), verb="attached to")
        return job


def _stage_frames(spec: TrainingSpec, frames: dict[str, Any], directory: Path
                  ) -> TrainingSpec:
    """Each ``--input NAME=$dataframe`` as ``inputs/NAME/NAME.csv`` in the job (header, no
    index), which the channel then names: every backend sees an ordinary file."""
    import dataclasses

    from .backends.s3_inputs import local_copy

    channels = []
    for channel in spec.channels:
        if channel.is_frame:
            path = local_copy(directory, channel.name) / f"{channel.name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            frames[channel.name].to_csv(path, index=False)
            channel = dataclasses.replace(channel, source=str(path))
        channels.append(channel)
    return dataclasses.replace(spec, channels=channels)


def _merge_cloud_rows(local: list[dict[str, Any]], cloud: list[dict[str, Any]]
                      ) -> list[dict[str, Any]]:
    """The account's jobs, with what this machine knows of those it has followed."""
    known = {row["name"]: row for row in local}
    return [known.get(row["name"], row) | {k: v for k, v in row.items() if v is not None}
            for row in cloud]


def _parse_filters(line: str) -> dict[str, str]:
    tokens = line.split()
    filters = {}
    while tokens:
        flag = tokens.pop(0)
        if flag not in ("--mode", "--status") or not tokens:
            raise UsageError(f"%sm_jobs: unknown option {flag!r} (expected --mode MODE or "
                             "--status STATUS)")
        filters[flag[2:]] = tokens.pop(0)
    return filters


def _print_new_lines(job: Any, printed: int) -> int:
    total = job.line_count
    if total > printed:
        lines = job.recent_lines(total - printed)
        skipped = total - printed - len(lines)
        if skipped > 0:
            print(f"... {skipped} lines not shown (full log: {job.log_path})")
        for ev in lines:
            print(ev.message)
    return total


def _unrecognized(extra: list[str], line: ExpandedLine) -> UsageError:
    """Words argparse left over: an unknown option (with the options it may mean), else a
    value no option takes."""
    bad = next((w for w in extra if w.startswith("-")), extra[0])
    if not bad.startswith("-"):
        return _usage(stray_value(bad, line))
    flags = [f for opt in OPTIONS for f in opt.flags]
    typed = bad.split("=")[0]
    prefixed = [f for f in flags if f.startswith(typed) and len(typed) > 2]
    close = prefixed or difflib.get_close_matches(typed, flags, n=1)
    hint = (f"; did you mean {' or '.join(close)}?" if close
            else " (see %%sm_train? for the options)")
    if prefixed:
        hint = f" (options are not abbreviated){hint}"
    return UsageError(f"{typed}: unknown option{hint}")


def _friendly_argparse_error(message: str) -> UsageError:
    """argparse wording → one line naming the option and the accepted form."""
    if message.startswith("argument "):
        option, _, problem = message[len("argument "):].partition(": ")
        option = option.split("/")[-1]
        metavar = next((o.kwargs.get("metavar", "") for o in OPTIONS if option in o.flags), "")
        if "expected one argument" in problem:
            return UsageError(f"{option}: expected a value ({option} {metavar})")
        if problem.startswith("ignored explicit argument"):
            return UsageError(f"{option}: takes no value, got {problem.split(' ', 3)[-1]} "
                              f"(expected {option} alone)")
        return UsageError(f"{option}: {problem}")
    return UsageError(f"%%sm_train: {message} (see %%sm_train? for the options)")


def register(shell: Any) -> SmTrainMagics:
    magics = SmTrainMagics(shell)
    shell.register_magics(magics)
    return magics


def unregister(shell: Any) -> None:
    manager = shell.magics_manager
    manager.magics["cell"].pop("sm_train", None)
    for name in ("sm_train", "sm_jobs", "sm_attach"):
        manager.magics["line"].pop(name, None)
    manager.registry.pop("SmTrainMagics", None)
    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, SmTrainMagics)]
