"""The cell, ``--source-dir`` and ``--dependencies`` → the job's code directory.

Laid out as the V2 SDK does for ``sourcedir.tar.gz``: every top-level entry of the source
directory at the root, each dependency at the root under its own name, then the cell as
the entry script.  Version-control and cache folders and virtual environments are left
out (V2 ships them all).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from . import distribution
from .cellscript import script_text
from .contract import ScriptRun, needs_exec_bit
from .errors import SmNotebookError, SpecError
from .spec import TrainingSpec, resolve_path

IGNORED_NAMES = frozenset({".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints", ".venv",
                           "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".DS_Store",
                           ".env", ".tox", ".cache"})


LARGE_FILE = 50 << 20  # bytes: code this big is probably data
MAX_CODE = 1 << 30  # bytes: code is copied into every job; more than this is refused
CHUNK = 1 << 20
SHOWN_SKIPS = 5  # links named in the note about those skipped


def is_ignored(path: Path) -> bool:
    """Names never shipped with the code, and any virtual environment (has pyvenv.cfg)."""
    return path.name in IGNORED_NAMES or (path.is_dir() and (path / "pyvenv.cfg").exists())


def _special(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else \
        "not a regular file"


@dataclass
class CodeFiles:
    """The code to copy, found by walking its trees without following a link out of them:
    folders and ``(source, destination)`` files relative to the code directory."""

    folders: list[str] = field(default_factory=list)
    files: list[tuple[Path, str, int]] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # option → links not followed
    size: int = 0
    limit: int = MAX_CODE  # bytes: more is refused, with ``too_big`` as the accepted form
    too_big: str = f"code under {MAX_CODE >> 20} MB; data belongs in --input"

    def notes(self) -> list[str]:
        notes = []
        for option, links in self.skipped.items():
            more = f" and {len(links) - SHOWN_SKIPS} more" if len(links) > SHOWN_SKIPS else ""
            notes.append(f"{option}: {len(links)} link(s) pointing outside it or above "
                         f"themselves were not followed: {', '.join(links[:SHOWN_SKIPS])}"
                         f"{more}")
        return notes


def tree_root(option: str, path: Path) -> Path:
    """The real folder (or file) a tree is copied from; the filesystem's root or the home
    folder itself is refused, as it would copy far more than code."""
    real = path.resolve()
    if real == Path(real.anchor) or real == Path.home().resolve():
        where = "the filesystem's root" if real == Path(real.anchor) else "the home folder"
        raise SpecError(option, f"{path} is {where}; everything below it would be copied "
                        "into the job", "a folder holding just the job's code")
    return real


class _Walk:
    """One option's tree walked into ``code``: links inside it followed, links leaving it
    (or pointing to a folder above themselves) skipped, special files refused."""

    def __init__(self, code: CodeFiles, option: str, root: Path):
        self.code, self.option, self.root = code, option, root

    def add(self, path: Path, rel: str, above: frozenset[Path]) -> None:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(self.root) or real in above or not real.exists():
                self.code.skipped.setdefault(self.option, []).append(
                    f"{rel} → {os.readlink(path)}")
                return
            path, st = real, os.stat(real)
        if stat.S_ISDIR(st.st_mode):
            if (path / "pyvenv.cfg").exists():
                return
            self.code.folders.append(rel)
            inside = above | {Path(os.path.realpath(path))}
            for entry in sorted(os.scandir(path), key=lambda e: e.name):
                if entry.name not in IGNORED_NAMES:
                    self.add(Path(entry.path), f"{rel}/{entry.name}", inside)
        elif stat.S_ISREG(st.st_mode):
            self.code.size += st.st_size
            if self.code.size > self.code.limit:
                raise SpecError(self.option, f"the code comes to over {self.code.limit >> 20} "
                                f"MB (reached at {rel}), and it is copied into every job",
                                self.code.too_big)
            self.code.files.append((path, rel, st.st_size))
        else:
            raise SpecError(self.option, f"{rel} is {_special(st.st_mode)}; devices, FIFOs "
                            "and sockets are never copied", "regular files and folders")


def _walk_folder(code: CodeFiles, option: str, folder: Path) -> None:
    """Every entry of ``folder`` at the root of ``code``, the ignored names left out."""
    root = tree_root(option, folder)
    walk = _Walk(code, option, root)
    for entry in sorted(root.iterdir()):
        if not is_ignored(entry):
            walk.add(entry, entry.name, frozenset({root}))


def collect(spec: TrainingSpec, base: Path) -> CodeFiles:
    """What ``--source-dir`` and ``--dependencies`` put into the code directory, checked
    before anything is created (``SpecError`` naming the option), the driver's folder
    too."""
    code = CodeFiles()
    collect_driver(spec, base)
    if spec.source_dir and not spec.source_in_s3:  # an S3 one is fetched into the job
        _walk_folder(code, "--source-dir", resolve_path(base, spec.source_dir))
    for dep in spec.dependencies:
        path = resolve_path(base, dep)  # named by the user: followed when it is a link
        root = tree_root("--dependencies", path)
        _Walk(code, "--dependencies", root).add(root, path.name, frozenset())
    return code


def copy_file(source: Path, dest: Path, size: int) -> None:
    """At most ``size`` bytes (what the walk saw) of a file that must still be regular
    (opened without blocking, so a FIFO put in its place cannot hang the copy)."""
    fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SmNotebookError(f"{source} changed while the code was copied: it is no "
                                  "longer a regular file")
        with open(dest, "wb") as out:
            while size > 0 and (chunk := src.read(min(CHUNK, size))):
                out.write(chunk)
                size -= len(chunk)
    shutil.copystat(source, dest)


def lay_out(spec: TrainingSpec, base: Path, dest: Path) -> list[str]:
    """Write the job's code into ``dest``; return notes worth telling the user."""
    code = collect(spec, base)
    notes = code.notes()
    dest.mkdir(parents=True, exist_ok=True)
    for folder in code.folders:
        (dest / folder).mkdir(parents=True, exist_ok=True)
    for source, rel, size in code.files:
        copy_file(source, dest / rel, size)
    if spec.has_script:
        target = dest / spec.entry_script
        if target.exists():
            notes.append(f"the cell replaces {spec.entry_script} from --source-dir")
        target.write_text(script_text(spec.cell, spec.entry_script))
    entry = dest / spec.entry_script
    if spec.command is None and needs_exec_bit(spec.entry_script) and entry.is_file():
        entry.chmod(entry.stat().st_mode | 0o111)  # run as a program, as the toolkit does
    requirements = spec.requirements_path(base)
    if requirements is not None and requirements.resolve() != (dest / "requirements.txt").resolve():
        shutil.copy2(requirements, dest / "requirements.txt")
    big = sorted((size, rel) for _, rel, size in code.files if size > LARGE_FILE)
    if big:
        size, rel = big[-1]
        notes.append(f"the code holds {len(big)} file(s) over {LARGE_FILE >> 20} MB "
                     f"({rel}: {size >> 20} MB), shipped with every job; "
                     "data belongs in --input")
    return notes


def collect_driver(spec: TrainingSpec, base: Path) -> CodeFiles:
    """The files of ``distributed_drivers/``: a driver's folder (walked as the code is,
    and refused when it is bigger than a folder of drivers), or sm_notebook's MPI
    driver; nothing under torchrun, which runs the entry script."""
    code = CodeFiles(limit=distribution.DRIVER_FOLDER_MAX, too_big=(
        f"a driver in a folder of its own, under {distribution.DRIVER_FOLDER_MAX >> 20} MB "
        "(the whole folder is shipped, as V3 ships driver_dir)"))
    if spec.distribution == distribution.MPI:
        runtime = Path(__file__).resolve().parent / "runtime"
        code.files = [(runtime / name, name, (runtime / name).stat().st_size)
                      for name in distribution.MPI_FILES]
    elif distribution.is_driver(spec.distribution):
        driver = resolve_path(base, str(spec.distribution))
        _walk_folder(code, "--distributed", driver.parent)
    return code


def lay_out_run(spec: TrainingSpec, base: Path, run: ScriptRun, key: str | None = None
                ) -> list[str]:
    """A host's code (and a driver run's ``sm_drivers`` channel) where its run has them;
    the notes of :func:`lay_out`.  ``key``: the one an MPI run's hosts share."""
    lay_out_drivers(spec, base, Path(run.layout.channel_dir(distribution.DRIVERS_CHANNEL)),
                    key)
    return lay_out(spec, base, Path(run.code_dir))


def lay_out_drivers(spec: TrainingSpec, base: Path, channel: Path, key: str | None = None
                    ) -> None:
    """The ``sm_drivers`` channel of a driver run, as V3 lays it out: the driver's folder
    as ``distributed_drivers/`` and the config as ``distributed.json`` (an MPI run also
    gets the key its hosts' launch service asks for: ``key``, else a new one)."""
    launch = spec.launch
    if launch is None or launch.driver is None:
        return
    code = collect_driver(spec, base)
    folder = channel / distribution.DRIVERS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for sub in code.folders:
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for source, rel, size in code.files:
        copy_file(source, folder / rel, size)
    (channel / distribution.CONFIG_FILE).write_text(json.dumps(launch.config))
    if spec.distribution == distribution.MPI:
        key_file = channel / distribution.MPI_KEY_FILE
        key_file.touch(mode=0o600)
        key_file.write_text(key or new_key())


def new_key() -> str:
    """A key for the hosts of one MPI run (``runtime/mpi_exec.py``)."""
    return secrets.token_hex(32)


def ships_requirements(spec: TrainingSpec, base: Path) -> bool:
    """Whether the laid-out code will hold a ``requirements.txt`` (to install first)."""
    if spec.requirements_path(base) is not None:
        return True
    if spec.source_dir and not spec.source_in_s3 and (
            resolve_path(base, spec.source_dir) / "requirements.txt").is_file():
        return True
    return any(Path(dep).name == "requirements.txt" and resolve_path(base, dep).is_file()
               for dep in spec.dependencies)


def make_tarball(code_dir: Path, target: Path) -> Path:
    """``sourcedir.tar.gz`` of a laid-out code directory (entries at the archive root)."""
    with tarfile.open(target, "w:gz") as tar:
        for entry in sorted(os.listdir(code_dir)):
            tar.add(code_dir / entry, arcname=entry)
    return target
