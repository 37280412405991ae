"""What sagemaker mode uploads, and the one progress line that counts its bytes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from .request import LAUNCHER_NAME

CONTRACT_MODULES = ("contract.py", "hyperparameters.py", "errors.py", "secrets.py",
                    "artifacts.py", "distribution.py", "checks.py")


def plain_code_channel(code: list[tuple[Path, str]], launch: Path) -> list[tuple[Path, str]]:
    """What a job run by sm_notebook's launcher gets in its code channel: the code
    (``sourcedir.tar.gz``, or a driver run's files), the launcher and its settings, and
    sm_notebook's contract modules (pure, standard library) for the launcher to use."""
    package = Path(__file__).resolve().parents[2]
    files = [*code, (launch, launch.name),
             (package / "runtime" / "launcher.py", LAUNCHER_NAME),
             (package / "runtime" / "__init__.py", "sm_notebook_contract/__init__.py")]
    return files + [(package / module, f"sm_notebook_contract/{module}")
                    for module in CONTRACT_MODULES]


def files_under(source: Path, prefix: str) -> list[tuple[Path, str]]:
    """(file, key) for a local input: a file under its own name, a folder's files below
    the channel's prefix with their relative paths (an empty prefix: those paths)."""
    lead = f"{prefix}/" if prefix else ""
    if source.is_file():
        return [(source, f"{lead}{source.name}")]
    return [(path, f"{lead}{path.relative_to(source).as_posix()}")
            for path in sorted(source.rglob("*")) if path.is_file()]


class UploadProgress:
    """Bytes sent of all uploads, reported as one line at a bounded rate (boto3 calls
    back from its transfer threads)."""

    def __init__(self, target: str, files: list[Path], report: Callable[..., None]):
        self.target, self.report = target, report
        self.total = sum(path.stat().st_size for path in files)
        self.files = len(files)
        self.sent = 0
        self.lock = threading.Lock()
        self.began = time.monotonic()

    def add(self, amount: int) -> None:
        with self.lock:
            self.sent += amount
            text = (f"uploading to {self.target}: {self.sent / 1e6:,.1f} of "
                    f"{self.total / 1e6:,.1f} MB ({self.files} files)")
        self.report(text)

    def done(self) -> None:
        self.report(f"uploaded {self.total / 1e6:,.1f} MB in {self.files} files to "
                    f"{self.target} ({time.monotonic() - self.began:.1f} s)", final=True)
