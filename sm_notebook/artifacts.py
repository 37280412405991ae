"""Unpack ``model.tar.gz`` / ``output.tar.gz`` safely.

An archive comes from code that ran elsewhere; a member with an absolute path, a ``..``
component, or a link pointing outside the target is refused before anything is written.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from .errors import SmNotebookError


def _inside(root: Path, path: Path) -> bool:
    return path == root or root in path.parents


def check_members(tar: tarfile.TarFile, target: Path) -> list[tarfile.TarInfo]:
    """The archive's members, or an error naming the first one that would escape ``target``."""
    root = target.resolve()
    members = tar.getmembers()
    for member in members:
        destination = (root / member.name).resolve()
        if Path(member.name).is_absolute() or not _inside(root, destination):
            raise SmNotebookError(f"refusing to extract {member.name!r}: outside {target}")
        if member.issym() or member.islnk():
            link = Path(member.linkname)
            base = destination.parent if member.issym() else root
            if link.is_absolute() or not _inside(root, (base / link).resolve()):
                raise SmNotebookError(f"refusing to extract link {member.name!r} -> "
                                      f"{member.linkname!r}: it points outside {target}")
        if member.isdev():
            raise SmNotebookError(f"refusing to extract device file {member.name!r}")
    return members


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Extract ``archive`` into ``target`` (created if needed); return ``target``."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        members = check_members(tar, target)
        tar.extractall(target, members=members, filter="data")
    return target
