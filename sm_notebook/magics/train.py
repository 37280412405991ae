"""``%%sm_train``: parse the line, show the job, wait when asked; the launching itself is
:class:`~sm_notebook.launch.Launcher`'s.

Settings are traitlets, so ``%config SmTrainMagics.default_mode = "container"`` works;
the other magic families read the same settings from this object.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Enum, Float, Int, Unicode

from .. import hyperparameters as hp
from ..errors import SpecError
from ..line.grammar import OPTIONS, VARIABLE_HELP
from ..modes import NAMES as MODES

if TYPE_CHECKING:
    from ..job import Job
    from ..jobs import JobsFolder
    from ..launch import Launcher
    from ..line.parse import Defaults, LaunchOptions
    from ..spec import TrainingSpec
    from ..ui.dashboard import Dashboard
    from ..ui.form import TrainingForm
    from .display import JobDisplay

# The launch service, the views and the form are imported when first used, not by
# %load_ext: loading the extension stays a few milliseconds.

KINDS_CACHE = "image-kinds-2.json"  # beside the jobs folder; 2: with the "own" train kind


def _train_options(func: Any) -> Any:
    """``%%sm_train?`` lists the options of the table (the parsing is ``line.parse``'s)."""
    for opt in reversed(OPTIONS):
        func = argument(*opt.flags, help=opt.help, **opt.kwargs)(func)
    func = argument("variable", nargs="?", help=VARIABLE_HELP)(func)
    return magic_arguments()(func)


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
        self.jobs: dict[str, Job] = {}  # jobs followed in this kernel, by name
        self.boards: dict[str, Dashboard] = {}  # job name → its live dashboard
        self.form: TrainingForm | None = None  # the last form shown
        self._view: JobDisplay | None = None

    # ---- settings, as the services want them ----------------------------------------------
    @property
    def registry(self) -> JobsFolder:
        from ..jobs import JobsFolder, jobs_dir_from

        return JobsFolder(jobs_dir_from(self.jobs_dir))

    @property
    def in_kernel(self) -> bool:
        return getattr(self.shell, "kernel", None) is not None

    @property
    def view(self) -> JobDisplay:
        """How jobs are shown under their cells."""
        if self._view is None:
            from .display import JobDisplay

            self._view = JobDisplay(self)
        return self._view

    def chart_kind(self) -> str:
        from .display import chart_kind

        return chart_kind(self.chart)

    def launcher(self) -> Launcher:
        """The launch service with the settings as they are now."""
        from .. import backends
        from ..launch import Launcher

        jobs = self.registry
        settings = backends.Settings(stop_grace=self.stop_grace, bucket=self.bucket,
                                     role=self.role, live_tail=self.live_tail,
                                     kinds_cache=jobs.root.parent / KINDS_CACHE)
        return Launcher(jobs, settings, self.log_window, self.region, Path.cwd())

    def defaults(self) -> Defaults:
        from ..line.parse import Defaults

        return Defaults(self.default_mode, self.region, self.role, self.default_image,
                        self.default_instance_type, self.hp_style)

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

    # ---- parsing ---------------------------------------------------------------------------
    def parse_spec(self, line: str, cell: str) -> tuple[TrainingSpec, LaunchOptions]:
        """Line and cell → validated spec and launch options; ``SpecError`` on bad input."""
        from ..line.parse import parse_line

        return parse_line(line, cell, self.shell.user_ns, self.defaults(), Path.cwd())

    def parse(self, line: str, cell: str) -> tuple[TrainingSpec, LaunchOptions]:
        """As :meth:`parse_spec`, bad input as IPython's one-line ``UsageError``."""
        try:
            return self.parse_spec(line, cell)
        except SpecError as exc:
            raise UsageError(str(exc)) from None

    def missing(self, spec: TrainingSpec) -> list[tuple[str, str]]:
        """What the job still needs before it can launch, as (option, reason)."""
        return self.launcher().missing(spec)

    # ---- %%sm_train ------------------------------------------------------------------------
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
            return self.dry_run(spec, launch)
        missing = self.missing(spec)
        if launch.form or missing:
            if self.interactive():
                from .form_glue import show_form

                return show_form(self, spec, launch, cell)
            if launch.form and missing:  # headless: never wait on a widget
                option, reason = missing[0]
                raise UsageError(f"--form: no interactive frontend to show it in (a headless "
                                 f"run), and the line is incomplete: {option}: {reason}")
        self.run(spec, launch)
        return None

    def dry_run(self, spec: TrainingSpec, launch: LaunchOptions) -> None:
        """Print what the line would run; nothing is created."""
        try:
            for block in self.launcher().dry_run(spec, launch):
                print(block)
        except SpecError as exc:
            raise UsageError(str(exc)) from None

    def run(self, spec: TrainingSpec, launch: LaunchOptions,
            form: TrainingForm | None = None) -> Job:
        """Launch a parsed line, show it (in ``form`` when it came from one), and wait
        when asked."""
        from ..ui.text import ProgressLine

        launcher = self.launcher()
        try:
            prepared = launcher.prepare(spec, launch, ProgressLine(self.in_kernel))
        except SpecError as exc:
            raise UsageError(str(exc)) from None
        job = self.jobs[prepared.name] = launcher.start(prepared)
        if launch.variable:
            self.shell.user_ns[launch.variable] = job
        for note in job.notes:
            print(f"note: {note}")
        self.view.show(job, launch, form)
        if launch.wait and form is None:
            self.view.wait(job, launch)
        return job



__all__ = ["SmTrainMagics"]
