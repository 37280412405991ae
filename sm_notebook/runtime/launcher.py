"""Entry point for plain images (Python only, no SageMaker training toolkit).

Mounted read-only into the container and run as ``python3 launcher.py -- ARGV...``: it does
what the toolkit does before the script runs (the ``SM_*`` environment is already set by
sm_notebook), installs ``/opt/ml/code/requirements.txt`` when there is one, and then
replaces itself with ARGV (the entry script and its hyperparameter arguments), so signals
reach the script directly.  Standard library only: it runs under the image's Python.
"""

import os
import subprocess
import sys

CODE_DIR = "/opt/ml/code"
FAILURE_FILE = "/opt/ml/output/failure"


def install_requirements() -> None:
    requirements = os.path.join(CODE_DIR, "requirements.txt")
    if not os.path.isfile(requirements):
        return
    print("sm_notebook: installing requirements.txt", flush=True)
    env = {**os.environ, "PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-r", requirements],
                          cwd=CODE_DIR, env=env, check=False)
    if done.returncode != 0:
        with open(FAILURE_FILE, "w") as failure:
            failure.write(f"ClientError: pip install -r requirements.txt failed "
                          f"(exit code {done.returncode})")
        sys.exit(1)


def main(argv: list[str]) -> None:
    if "--" not in argv:
        sys.exit("usage: launcher.py -- COMMAND [ARGS...]")
    command = argv[argv.index("--") + 1:]
    install_requirements()
    os.chdir(CODE_DIR)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
