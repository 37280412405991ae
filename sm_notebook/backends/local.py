"""Local process mode: the entry script runs on this machine with the SageMaker contract.

The job's ``/opt/ml`` tree lives in its job directory and every ``SM_*`` variable points
there.  A detached supervisor (``runtime/supervisor.py``) runs the script, so the job
outlives the kernel; a :class:`~.supervised.SupervisedFolder` starts and follows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .. import contract, distribution, sourcedir
from ..cellscript import script_text
from ..errors import SpecError
from ..jobdir import JobDir, write_json
from ..requirements import missing_requirements, pip_command
from ..runtime.failures import OPT_ML, OPT_ML_HINT
from ..runtime.launcher import gpu_count
from ..spec import TrainingSpec, resolve_path
from .base import JobRef, Progress, no_progress
from .s3_inputs import as_planned, download_channels, fetch_source, planned_downloads
from .supervised import FollowsSupervisedFolder, SupervisedFolder

SUPERVISOR = Path(__file__).resolve().parent.parent / "runtime" / "supervisor.py"
HOST = "algo-1"


class LocalBackend(FollowsSupervisedFolder):
    """Runs jobs as local processes; see the module docstring."""

    mode = "local"

    def __init__(self, stop_grace: float = 30.0):
        self.stop_grace = stop_grace
        self.on_progress: Progress = no_progress
        self.follower = SupervisedFolder([str(SUPERVISOR)])

    @classmethod
    def from_settings(cls, settings: Any) -> LocalBackend:
        return cls(stop_grace=settings.stop_grace)

    # ---- before anything exists ---------------------------------------------------------
    def python_for(self, spec: TrainingSpec) -> str:
        return spec.python or sys.executable

    def preflight(self, spec: TrainingSpec, base: Path) -> list[str]:
        python = self.python_for(spec)
        if spec.python is not None:
            _check_interpreter(python)
        if spec.distribution == distribution.MPI and shutil.which("mpirun") is None:
            raise SpecError("--distributed", "mpi runs mpirun, which is not on this machine's "
                            "PATH", "Open MPI installed here (apt-get install openmpi-bin), "
                            "or --mode container with an image that has it")
        req = spec.requirements_path(base)
        if req is not None:
            missing = missing_requirements(req, python)
            if missing:
                raise SpecError("--requirements", f"not installed for {python}: "
                                f"{', '.join(missing)}; install them with: "
                                f"{pip_command(python, missing)}",
                                "the packages installed (local mode never installs them)")
        return opt_ml_notes(spec, base)

    def script_run(self, spec: TrainingSpec, name: str, directory: Path) -> contract.ScriptRun:
        layout = contract.Layout(directory / "opt" / "ml")
        return contract.ScriptRun.launched(
            spec.launch,
            job_name=name,
            cluster=contract.Cluster(spec.effective_instance_type, 1, network_interface="lo"),
            current_host=HOST,
            entry_point=spec.entry_script,
            hyperparameters=spec.hyperparameters,
            channels=spec.channel_names,
            layout=layout,
            num_cpus=os.cpu_count() or 1,
            num_gpus=gpu_count(),
            region=spec.region,
            hp_style=spec.hp_style,
            shell_command=spec.command,
        )

    def environment(self, spec: TrainingSpec, run: contract.ScriptRun) -> dict[str, str]:
        return {**run.environment(), "PYTHONUNBUFFERED": "1", **spec.environment}

    def plan(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> str:
        downloads = planned_downloads(spec, directory)
        spec = as_planned(spec, directory)
        run = self.script_run(spec, name, directory)
        argv = run.command(self.python_for(spec))
        env = self.environment(spec, run)
        lines = [
            f"local process job {name}",
            f"  job directory  {directory}",
            f"  code           {run.code_dir}/{spec.entry_script} (the cell)"
            + (f" + {spec.source_dir}" if spec.source_dir else ""),
        ]
        lines += downloads
        for ch in spec.channels:
            lines.append(f"  input          {ch.name}: {resolve_path(base, ch.source)} → "
                         f"{run.layout.channel_dir(ch.name)} (linked)")
        if run.driver is not None:
            lines.append(f"  driver         {run.drivers_dir}/{run.driver} ({spec.distribution}"
                         f"), config {env['SM_DISTRIBUTED_CONFIG']}")
        lines += [f"  command        (cd {run.code_dir} && "
                  f"{contract.render_command(argv)})",
                  f"  environment    {len(env)} variables, e.g. SM_MODEL_DIR="
                  f"{env['SM_MODEL_DIR']}, SM_HPS={env['SM_HPS']}",
                  f"  artifacts      {JobDir(directory).artifacts}/model.tar.gz, output.tar.gz"]
        if spec.max_run:
            lines.append(f"  max run        {spec.max_run} s, then SIGTERM and SIGKILL after "
                         f"{self.stop_grace:g} s")
        return "\n".join(lines)

    # ---- running -------------------------------------------------------------------------
    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef:
        spec = download_channels(spec, directory, self.on_progress)  # S3 channels first
        spec = fetch_source(spec, directory, self.on_progress)
        folder = JobDir(directory)
        run = self.script_run(spec, name, directory)
        layout = run.layout
        for d in layout.directories():
            Path(d).mkdir(parents=True, exist_ok=True)
        notes = sourcedir.lay_out_run(spec, base, run)
        for ch in spec.channels:
            _stage_channel(resolve_path(base, ch.source), Path(layout.channel_dir(ch.name)))
        contract.write_config_files(run, Path(layout.config_dir))
        output_dir = spec.output and str(resolve_path(base, spec.output.removeprefix("file://")))
        write_json(folder.run_file, {
            "job_name": name,
            "argv": run.command(self.python_for(spec)),
            "cwd": str(run.code_dir),
            "env": self.environment(spec, run),
            "entry_point": spec.entry_script,
            "layout_roots": {HOST: str(layout.root)},
            "artifacts_dir": str(folder.artifacts),
            "max_run": spec.max_run,
            "stop_grace": self.stop_grace,
            "copy_artifacts_to": output_dir,
            "opt_ml_in_job_folder": True,  # a failure naming /opt/ml gets OPT_ML_HINT
        })
        return self.follower.start(directory, "Starting the local process", notes)


def opt_ml_notes(spec: TrainingSpec, base: Path) -> list[str]:
    """A script written for a container (``/opt/ml/...`` hard-coded, as the V3 SDK's local
    example does) fails here with a bare FileNotFoundError: said before it runs.  Comments
    and lines reading an ``SM_*`` variable (``os.environ.get("SM_MODEL_DIR",
    "/opt/ml/model")``, which works anywhere) do not count."""
    for number, line in enumerate(_entry_source(spec, base).splitlines(), 1):
        code = line.split("#", 1)[0]
        if OPT_ML.search(code) and "SM_" not in code:
            return [f"{spec.entry_script}, line {number} names /opt/ml: {OPT_ML_HINT}"]
    return []


def _entry_source(spec: TrainingSpec, base: Path) -> str:
    """The entry script's text: the cell, or the file of ``--source-dir``."""
    if spec.has_script:
        return script_text(spec.cell, spec.entry_script)
    if not spec.source_dir:
        return ""
    try:
        return (resolve_path(base, spec.source_dir) / spec.entry_script).read_text(errors="replace")
    except OSError:
        return ""


def _check_interpreter(python: str) -> None:
    """``--python`` names an executable file that runs as Python 3 (checked by running it)."""
    expected = "a path to a Python 3 executable"
    found = shutil.which(python)  # an executable file, never a directory
    if found is None:
        raise SpecError("--python", f"{python} is not an executable file", expected)
    try:
        probe = subprocess.run([found, "-c", "import sys; print(sys.version_info[0])"],
                               capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpecError("--python", f"{python} could not be run ({exc})", expected) from None
    if probe.returncode != 0 or probe.stdout.strip() != "3":
        raise SpecError("--python", f"{python} does not run as Python 3", expected)


def _stage_channel(source: Path, channel_dir: Path) -> None:
    """Link a local input into ``input/data/<name>`` (a file goes inside the channel dir)."""
    source = source.resolve()
    if source.is_dir():
        if channel_dir.exists():
            channel_dir.rmdir()
        channel_dir.symlink_to(source, target_is_directory=True)
    else:
        channel_dir.mkdir(parents=True, exist_ok=True)
        (channel_dir / source.name).symlink_to(source)
