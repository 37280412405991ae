"""What an endpoint serves, laid out as SageMaker's serving containers see it: the job's
model extracted into ``model/`` with the job's code under ``model/code/`` (V2's repacked
layout), and the same folder packed again as the repacked ``model.tar.gz`` for hosting."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from ..artifacts import safe_extract
from .record import EndpointError

MODEL, CODE = "model", "code"


def entry_source(entry_script: str, code: Path) -> tuple[str, Path | None]:
    """The script's name in the code folder, and the file it comes from when it is not
    one of the job's (``entry_script=`` a path: copied in, and re-read by ``reload``)."""
    if "/" not in entry_script and (code / entry_script).is_file():
        return entry_script, None
    outside = Path(entry_script).expanduser()
    if outside.is_file() and outside.suffix == ".py":
        return outside.name, outside.resolve()
    files = ", ".join(sorted(p.name for p in code.iterdir())) if code.is_dir() else "none"
    raise EndpointError(f"entry_script {entry_script!r}: not a file of the job's code "
                        f"({files}) nor a .py file on this machine")


def lay_out(model_tarball: Path, code: Path, folder: Path, script: str,
            source: Path | None) -> Path:
    """``folder/model`` (the model, extracted safely) with ``code/`` in it; the model
    folder.  Anything a previous deployment left there goes first."""
    model = folder / MODEL
    clear(folder)
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    safe_extract(model_tarball, model)
    shutil.rmtree(model / CODE, ignore_errors=True)  # the job's own model/code is replaced
    shutil.copytree(code, model / CODE)
    if source is not None:
        shutil.copy2(source, model / CODE / script)
    return model


def clear(folder: Path) -> None:
    shutil.rmtree(folder / MODEL, ignore_errors=True)


def repack(model: Path, target: Path) -> Path:
    """``model.tar.gz`` of the laid-out model folder: the model's files at the top,
    the code under ``code/``, as V2's ``Model`` uploads it."""
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        for path in sorted(model.iterdir()):
            tar.add(path, arcname=path.name)
    partial.replace(target)
    return target


def job_code(job_dir: Path, mode: str) -> Path:
    """Where a job of ``mode`` keeps the code it trained with (algo-1's copy for a
    container job; the folder packed as ``sourcedir.tar.gz`` for a SageMaker job)."""
    return job_dir / {"local": "opt/ml/code", "container": "hosts/algo-1/opt/ml/code",
                      "sagemaker": "code"}[mode]
