"""Check a requirements file against an interpreter's installed packages.

Local mode never installs into the user's environment: it names what is missing and the
pip command that would install it.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from .errors import SpecError

_LIST_INSTALLED = (
    "import importlib.metadata as m, json\n"
    "print(json.dumps({(d.metadata['Name'] or '').lower(): d.version"
    " for d in m.distributions()}))"
)


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed_versions(python: str) -> dict[str, str]:
    if python == sys.executable:
        import importlib.metadata as md

        found = {(d.metadata["Name"] or "").lower(): d.version for d in md.distributions()}
    else:
        try:
            out = subprocess.run([python, "-c", _LIST_INSTALLED], capture_output=True, text=True,
                                 timeout=60, check=True).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise SpecError("--python", f"cannot list the packages of {python}: {exc}",
                            "a working Python interpreter") from None
        found = json.loads(out)
    return {_normalise(k): v for k, v in found.items()}


def missing_requirements(path: Path, python: str, installed: dict[str, str] | None = None,
                         reading: tuple[Path, ...] = ()) -> list[str]:
    """Requirement lines of ``path`` (and files it includes with ``-r``) not satisfied.

    Index options are ignored; editable installs and URLs cannot be checked and pass.
    ``reading`` holds the files that include this one: a file that includes itself, at
    any depth, is refused (pip would loop too).
    """
    from packaging.requirements import InvalidRequirement, Requirement

    installed = installed if installed is not None else installed_versions(python)
    reading = (*reading, path.resolve())
    missing = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            nested = path.parent / line.split(None, 1)[1]
            if not nested.is_file():
                raise SpecError("--requirements", f"{path.name} line {number}: {nested} "
                                "does not exist", "-r with an existing file")
            if nested.resolve() in reading:
                chain = " → ".join(p.name for p in (*reading, nested.resolve()))
                raise SpecError("--requirements", f"{path.name} line {number}: {line!r} "
                                f"includes a file already being read ({chain})",
                                "-r lines that never include a file that includes them")
            missing += missing_requirements(nested, python, installed, reading)
            continue
        if line.startswith("-") or "://" in line:
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise SpecError("--requirements", f"{path.name} line {number}: cannot parse "
                            f"{line!r}", "PEP 508 requirement lines such as pandas>=2") from None
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = installed.get(_normalise(req.name))
        if version is None or (req.specifier and not req.specifier.contains(version,
                                                                             prereleases=True)):
            missing.append(line)
    return missing


def pip_command(python: str, requirements: list[str]) -> str:
    return shlex.join([python, "-m", "pip", "install", *requirements])
