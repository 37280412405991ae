"""Packing a job's ``/opt/ml/model`` and ``/opt/ml/output/data`` trees as the service does
(standard library only): one archive from one host or several, and a line saying which
host's copy was kept where several wrote the same file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

try:  # imported as part of the package
    from . import failures
except ImportError:  # run as a file: its siblings are on the path
    import failures  # type: ignore[no-redef]


def pack(source: Path | list[Path], target: Path,
         on_clash: Callable[[dict[str, Path]], None] | None = None) -> bool:
    """Tar-gzip the contents of ``source`` (files at the archive root, as SageMaker does).

    Several sources (one per host) are merged into one archive, the first host's file
    winning over a later host's file of the same path, so the master's (algo-1's) copy is
    the one kept; ``on_clash`` hears of such paths (path → the source kept), so the job
    can say so.  An empty directory gives a valid empty archive, as the service's and the
    SDKs' local modes produce; False (no archive) only when no source is a directory."""
    sources = [p for p in ([source] if isinstance(source, Path) else source) if p.is_dir()]
    if not sources:
        return False
    members, clashes = merged(sources)
    if clashes and on_clash is not None:
        on_clash(clashes)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        import tarfile  # at the end of a job, not before its script starts

        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            for name, (_, path) in sorted(members.items()):
                tar.add(path, arcname=name, recursive=False)
        os.replace(partial, target)
    except OSError:  # a full disk: no half archive left taking the space
        partial.unlink(missing_ok=True)
        raise
    return True


def merged(roots: list[Path]) -> tuple[dict[str, tuple[Path, Path]], dict[str, Path]]:
    """The trees of ``roots`` as one: archive name → (root, path), the first root's entry
    winning; and the clashes, name → the root kept.  A directory on several roots is no
    clash (their files merge); a file is, and so is a file against a directory, whose later
    contents are left out with it."""
    members: dict[str, tuple[Path, Path]] = {}
    clashes: dict[str, Path] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            name = path.relative_to(root).as_posix()
            if name in members:
                kept_root, kept = members[name]
                if not (kept.is_dir() and path.is_dir()):
                    clashes.setdefault(name, kept_root)
            elif not _under_a_file(name, members):
                members[name] = (root, path)
    return members, clashes


def _under_a_file(name: str, members: dict[str, tuple[Path, Path]]) -> bool:
    """Inside a directory that clashed with an earlier host's file of that name."""
    return any(str(parent) in members and not members[str(parent)][1].is_dir()
               for parent in PurePosixPath(name).parents)


def clash_notice(clashes: dict[str, str], where: str, archive: str, shown: int = 3) -> str:
    """One line for the job log: which files several hosts wrote, and whose copy the
    archive holds (a long list is cut to its first few and a count)."""
    names = sorted(clashes)
    listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more"
                                         if len(names) > shown else "")
    what = f"the same {len(names)} files" if len(names) > 1 else "the same file"
    kept = sorted(set(clashes.values()), key=lambda h: (len(h), h))  # algo-2 before algo-10
    copy = "copies" if len(names) > 1 else "copy"
    whose = (f"{kept[0]}'s {copy}" if len(kept) == 1 else
             f"the first writer's copy of each ({', '.join(kept)})")
    return (f"{failures.OWN_LINE_PREFIX}several hosts wrote {what} to {where} ({listed}); "
            f"{archive} keeps {whose}")
