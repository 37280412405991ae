"""Unpack ``model.tar.gz`` / ``output.tar.gz`` (and, in the launcher, ``sourcedir.tar.gz``).

An archive comes from code that ran elsewhere, so its names are not trusted as text:
checking them with ``realpath`` beforehand fails once a chain of links resolves past
PATH_MAX (CVE-2025-4517).  Only regular files and folders are accepted (a model or its
code never needs links, devices or FIFOs), and each is written through folder descriptors
opened with ``O_NOFOLLOW``, below a fresh private staging folder beside the target.  The
staging folder takes the target's place only once everything is written, so an archive
that is refused, or does not fit (the members' sizes are summed against the free space
first, and a full disk while writing is caught), leaves nothing behind.

Standard library and ``errors`` only: the launcher runs it inside SageMaker's containers,
where it arrives with the contract modules.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from .errors import SmNotebookError

CHUNK = 1 << 20
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | _CLOEXEC
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class ArchiveError(SmNotebookError):
    """An archive refused, or one that could not be extracted; nothing was kept."""


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symbolic link to {_short(member.linkname)}"
    if member.islnk():
        return f"a hard link to {_short(member.linkname)}"
    if member.isdev():
        return "a FIFO" if member.isfifo() else "a device file"
    return "not a regular file or folder"


def member_parts(member: tarfile.TarInfo, target: Path) -> tuple[str, ...]:
    """The member's path below the target as components; ``ArchiveError`` for anything
    but a regular file or folder, and for a name that could leave the target."""
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(f"refusing to extract {_short(member.name)}: it is {_kind(member)}; "
                           "an archive of a model, output or code holds only files and "
                           "folders")
    parts = tuple(p for p in member.name.split("/") if p not in ("", "."))
    if member.name.startswith("/") or ".." in parts or "\x00" in member.name \
            or not (parts or member.isdir()):
        raise ArchiveError(f"refusing to extract {_short(member.name)}: outside {target}")
    return parts


def check_members(tar: tarfile.TarFile, target: Path) -> list[tuple[tarfile.TarInfo,
                                                                      tuple[str, ...]]]:
    """Every member with its path components, or an error naming the first refused."""
    return [(member, member_parts(member, target)) for member in tar.getmembers()]


def check_fits(members: list[tuple[tarfile.TarInfo, tuple[str, ...]]], archive: Path,
               where: Path) -> None:
    """An archive bomb is refused before a byte is written: its members' sizes against
    the free space of the filesystem it would be written to."""
    total = sum(member.size for member, _ in members if member.isfile())
    free = shutil.disk_usage(where).free
    if total > free:
        raise ArchiveError(f"no space to extract {archive.name}: its files come to "
                           f"{total / 1e6:,.1f} MB and {where} has {free / 1e6:,.1f} MB "
                           "free; nothing was extracted")


def _open_folder(root: int, parts: tuple[str, ...]) -> int:
    """A descriptor of the folder ``parts`` below ``root``, each component made when
    missing and opened without following a link."""
    fd = os.dup(root)
    for part in parts:
        with contextlib.suppress(FileExistsError):
            os.mkdir(part, 0o755, dir_fd=fd)
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, folder: int, name: str) -> None:
    source = tar.extractfile(member)
    assert source is not None  # a regular file
    fd = os.open(name, _FILE_FLAGS, 0o600, dir_fd=folder)
    try:
        while chunk := source.read(CHUNK):
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
        os.fchmod(fd, (member.mode & 0o755) | 0o600)  # no set-id bits, no others' writes
        os.utime(fd, (member.mtime, member.mtime))
    finally:
        os.close(fd)


def write_members(tar: tarfile.TarFile, members: list[tuple[tarfile.TarInfo,
                                                            tuple[str, ...]]],
                  staging: Path) -> None:
    """Write the checked members below ``staging`` (a fresh folder nobody else writes)."""
    root = os.open(staging, _DIR_FLAGS)
    try:
        for member, parts in members:
            folder = _open_folder(root, parts if member.isdir() else parts[:-1])
            try:
                if member.isfile():
                    _write_file(tar, member, folder, parts[-1])
            finally:
                os.close(folder)
    finally:
        os.close(root)


def _conflicts(source: Path, target: Path) -> list[str]:
    """Where merging ``source`` into an existing ``target`` would put a folder over a
    file (or a link), or the reverse."""
    found = []
    for entry in os.scandir(source):
        there = target / entry.name
        if not os.path.lexists(there):
            continue
        if entry.is_dir() and there.is_dir() and not there.is_symlink():
            found += _conflicts(Path(entry.path), there)
        elif entry.is_dir() or there.is_dir():
            found.append(str(there))
    return found


def _merge(source: Path, target: Path) -> None:
    for entry in os.scandir(source):
        there = target / entry.name
        if entry.is_dir() and there.is_dir() and not there.is_symlink():
            _merge(Path(entry.path), there)
        else:
            os.replace(entry.path, there)


def move_into_place(staging: Path, target: Path) -> None:
    """The staging folder becomes ``target``; into an existing non-empty ``target`` its
    entries are merged (same names replaced, others kept), checked first."""
    try:
        os.rename(staging, target)  # absent, or an empty folder
        return
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not target.is_dir():
            raise
    clash = _conflicts(staging, target)
    if clash:
        raise ArchiveError(f"cannot extract into {target}: {clash[0]} is a file where the "
                           "archive has a folder, or the reverse; nothing was extracted")
    _merge(staging, target)


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Extract ``archive`` into ``target`` (created if needed); return ``target``.

    ``ArchiveError`` for a refused archive, one that does not fit or cannot be read,
    with nothing written outside the target and nothing left of the attempt."""
    archive, target = Path(archive), Path(os.path.abspath(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            members = check_members(tar, target)
            check_fits(members, archive, target.parent)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.extracting-",
                                            dir=target.parent))
            try:
                write_members(tar, members, staging)
                move_into_place(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"cannot read {archive.name}: {exc}") from None
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise ArchiveError(f"no space left on the device while extracting "
                               f"{archive.name} into {target}; nothing was kept") from None
        raise ArchiveError(f"could not extract {archive.name} into {target}: "
                           f"{exc.strerror or exc}") from None
    return target

