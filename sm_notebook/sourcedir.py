"""The cell, ``--source-dir`` and ``--dependencies`` → the job's code directory.

Laid out as the V2 SDK does for ``sourcedir.tar.gz``: every top-level entry of the source
directory at the root, each dependency at the root under its own name, then the cell as
the entry script.  Version-control and cache folders and virtual environments are left
out (V2 ships them all).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

from .contract import needs_exec_bit
from .spec import TrainingSpec, resolve_path

IGNORED_NAMES = frozenset({".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints", ".venv",
                           "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".DS_Store",
                           ".env", ".tox", ".cache"})


LARGE_FILE = 50 << 20  # bytes: code this big is probably data


def is_ignored(path: Path) -> bool:
    """Names never shipped with the code, and any virtual environment (has pyvenv.cfg)."""
    return path.name in IGNORED_NAMES or (path.is_dir() and (path / "pyvenv.cfg").exists())


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if is_ignored(Path(directory) / n)}


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, ignore=_ignore, dirs_exist_ok=True, symlinks=False)
    else:
        shutil.copy2(src, dest)


def lay_out(spec: TrainingSpec, base: Path, dest: Path) -> list[str]:
    """Write the job's code into ``dest``; return notes worth telling the user."""
    notes: list[str] = []
    dest.mkdir(parents=True, exist_ok=True)
    if spec.source_dir:
        src = resolve_path(base, spec.source_dir)
        for entry in sorted(src.iterdir()):
            if not is_ignored(entry):
                _copy(entry, dest / entry.name)
    for dep in spec.dependencies:
        path = resolve_path(base, dep)
        _copy(path, dest / path.name)
    if spec.has_script:
        target = dest / spec.entry_script
        if target.exists():
            notes.append(f"the cell replaces {spec.entry_script} from --source-dir")
        target.write_text(spec.cell if spec.cell.endswith("\n") else spec.cell + "\n")
    entry = dest / spec.entry_script
    if spec.command is None and needs_exec_bit(spec.entry_script) and entry.is_file():
        entry.chmod(entry.stat().st_mode | 0o111)  # run as a program, as the toolkit does
    requirements = spec.requirements_path(base)
    if requirements is not None and requirements.resolve() != (dest / "requirements.txt").resolve():
        shutil.copy2(requirements, dest / "requirements.txt")
    big = sorted((p.stat().st_size, p) for p in dest.rglob("*")
                 if p.is_file() and p.stat().st_size > LARGE_FILE)
    if big:
        size, path = big[-1]
        notes.append(f"the code holds {len(big)} file(s) over {LARGE_FILE >> 20} MB "
                     f"({path.relative_to(dest)}: {size >> 20} MB), shipped with every job; "
                     "data belongs in --input")
    return notes


def ships_requirements(spec: TrainingSpec, base: Path) -> bool:
    """Whether the laid-out code will hold a ``requirements.txt`` (to install first)."""
    if spec.requirements_path(base) is not None:
        return True
    if spec.source_dir and (resolve_path(base, spec.source_dir) / "requirements.txt").is_file():
        return True
    return any(Path(dep).name == "requirements.txt" and resolve_path(base, dep).is_file()
               for dep in spec.dependencies)


def make_tarball(code_dir: Path, target: Path) -> Path:
    """``sourcedir.tar.gz`` of a laid-out code directory (entries at the archive root)."""
    with tarfile.open(target, "w:gz") as tar:
        for entry in sorted(os.listdir(code_dir)):
            tar.add(code_dir / entry, arcname=entry)
    return target
