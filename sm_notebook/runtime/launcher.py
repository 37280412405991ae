"""Entry point for plain images (Python only, no SageMaker training toolkit).

In container mode it is mounted read-only and run as ``python3 launcher.py -- ARGV...``:
the ``SM_*`` environment is already set by sm_notebook; it installs the code's
``requirements.txt`` (in ``$SM_SOURCE_DIR``: ``/opt/ml/code``, or a driver run's code
channel) when there is one, then replaces itself with ARGV (the entry script and its
hyperparameter arguments, or the driver), so signals reach it directly.

On SageMaker (``python3 launcher.py --sagemaker``, the job's ``ContainerEntrypoint``) it
arrives in the ``code`` channel with ``sourcedir.tar.gz`` and a copy of sm_notebook's
contract module, and does what the toolkit would: unpacks the code into ``/opt/ml/code``,
sets the ``SM_*`` environment from the ``input/config`` files, installs the requirements
and runs the script.  Standard library only: it runs under the image's Python.
"""

import json
import os
import shutil
import subprocess
import sys
from typing import NoReturn

CODE_DIR = "/opt/ml/code"
FAILURE_FILE = "/opt/ml/output/failure"
CODE_CHANNEL = "/opt/ml/input/data/code"
CONFIG_DIR = "/opt/ml/input/config"


def fail(reason: str) -> NoReturn:
    """End the job with ``reason``, in the failure file SageMaker reports when it can."""
    try:
        with open(FAILURE_FILE, "w") as failure:
            failure.write(reason)
    except OSError:
        pass
    sys.exit(reason)


def install_requirements(code_dir: str) -> None:
    requirements = os.path.join(code_dir, "requirements.txt")
    if not os.path.isfile(requirements) or not _names_packages(requirements):
        return  # none, or only blank lines and comments (a model's placeholder)
    print("sm_notebook: installing requirements.txt", flush=True)
    env = {**os.environ, "PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-r", requirements],
                          cwd=code_dir, env=env, check=False)
    if done.returncode != 0:
        fail(f"ClientError: pip install -r requirements.txt failed (exit code {done.returncode})")


def _names_packages(requirements: str) -> bool:
    with open(requirements, errors="replace") as listed:
        return any(line.strip() and not line.lstrip().startswith("#") for line in listed)


def unpack(archive: str, target: str) -> None:
    """``sourcedir.tar.gz`` into ``target`` by sm_notebook's own extraction, which came in
    the code channel (only files and folders, nothing outside ``target``, nothing left of
    a refused archive); the channel must be on ``sys.path``."""
    from sm_notebook_contract.artifacts import safe_extract
    from sm_notebook_contract.errors import SmNotebookError

    try:
        safe_extract(archive, target)
    except SmNotebookError as exc:
        fail(f"ClientError: sourcedir.tar.gz: {exc}")


def sagemaker_command() -> tuple[list[str], str]:
    """Unpack the code and set the contract's environment, as the toolkit does; the
    command and the folder it runs in (a driver run's code is the code channel's files,
    as V3 uploads them)."""
    sys.path.insert(0, CODE_CHANNEL)
    from pathlib import Path

    from sm_notebook_contract.contract import LAUNCH_FILE, needs_exec_bit, run_from_config

    settings = Path(CODE_CHANNEL, LAUNCH_FILE)
    launch = json.loads(settings.read_text()) if settings.is_file() else None
    run = run_from_config(Path(CONFIG_DIR), os.environ.get("TRAINING_JOB_NAME", "job"),
                          num_cpus=os.cpu_count() or 1, num_gpus=gpu_count(),
                          region=os.environ.get("AWS_REGION"), launch=launch)
    code_dir = str(run.code_dir)
    archive = os.path.join(CODE_CHANNEL, "sourcedir.tar.gz")
    if os.path.isfile(archive):
        unpack(archive, code_dir)
    entry = Path(code_dir, run.entry_point)
    if run.shell_command is None and needs_exec_bit(run.entry_point) and entry.is_file():
        make_executable(entry)
    os.environ.update(run.environment())
    os.environ["PYTHONUNBUFFERED"] = "1"
    return run.command(sys.executable), code_dir


def make_executable(path: "os.PathLike[str]") -> None:
    """Add the execute bits to an entry program, as the toolkit does before running it."""
    mode = os.stat(path).st_mode
    os.chmod(path, mode | 0o111)


def gpu_count() -> int:
    """GPUs ``nvidia-smi`` lists (0 without it); shared with the local backend."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def main(argv: list[str]) -> None:
    if argv[1:] == ["--sagemaker"]:
        command, code_dir = sagemaker_command()
    elif "--" in argv:  # the environment is set: the code is where it says
        command = argv[argv.index("--") + 1:]
        code_dir = os.environ.get("SM_SOURCE_DIR") or CODE_DIR
    else:
        sys.exit("usage: launcher.py -- COMMAND [ARGS...] | launcher.py --sagemaker")
    install_requirements(code_dir)
    os.chdir(code_dir)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
