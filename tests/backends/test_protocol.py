"""Every backend implements the ``Backend`` Protocol exactly: each member exists, and each
method takes the Protocol's parameters (names, kinds, defaults); so do the optional
abilities a backend claims.  The checker is first shown to fire on a wrong class."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from sm_notebook import backends, modes
from sm_notebook.backends import base

OPTIONAL = (base.DownloadsArtifacts, base.KnowsAccountJobs, base.FindsOwnRole)
#: which optional abilities each mode's backend has
CLAIMS = {"local": set(), "container": set(),
          "sagemaker": {base.DownloadsArtifacts, base.KnowsAccountJobs, base.FindsOwnRole}}


def members(protocol: type) -> dict[str, Any]:
    """The Protocol's own members: methods (by their function) and attributes (by name)."""
    out: dict[str, Any] = {name: None for name in getattr(protocol, "__annotations__", {})}
    for name, value in vars(protocol).items():
        if isinstance(value, classmethod):
            out[name] = value.__func__
        elif inspect.isfunction(value) and not name.startswith("_"):
            out[name] = value
    return out


def parameters(function: Any, bound: bool) -> list[tuple[str, Any, Any]]:
    """(name, kind, default) of each parameter, less ``self``/``cls`` when ``bound``."""
    params = list(inspect.signature(function).parameters.values())
    if bound:
        params = params[1:]
    return [(p.name, p.kind, p.default) for p in params]


def mismatches(cls: type, protocol: type) -> list[str]:
    """Where ``cls`` differs from ``protocol``: missing members, other parameters."""
    found = []
    for name, wanted in members(protocol).items():
        if wanted is None:  # an attribute: on the class, or set by the constructor
            if not hasattr(cls, name) and name not in _instance_attributes(cls):
                found.append(f"{cls.__name__}.{name} is missing")
            continue
        raw = inspect.getattr_static(cls, name, None)
        if raw is None:
            found.append(f"{cls.__name__}.{name}() is missing")
            continue
        if isinstance(protocol.__dict__[name], classmethod) != isinstance(raw, classmethod):
            found.append(f"{cls.__name__}.{name} is not a classmethod as in the Protocol")
            continue
        have = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw
        bound = not isinstance(raw, staticmethod)
        if parameters(have, bound) != parameters(wanted, True):
            found.append(f"{cls.__name__}.{name}{inspect.signature(have)} is not "
                         f"{name}{inspect.signature(wanted)}")
    return found


def _instance_attributes(cls: type) -> set[str]:
    """The attributes the constructor sets (``self.x = ...``), read from its source."""
    source = inspect.getsource(cls.__init__)
    return {line.split("self.", 1)[1].split("=", 1)[0].split(":")[0].strip()
            for line in source.splitlines() if line.strip().startswith("self.")}


class Wrong:
    """Misses ``release``, renames ``poll``'s cursor, gives ``stop`` a default."""

    mode = "wrong"
    on_progress = staticmethod(base.no_progress)

    def from_settings(self, settings: Any) -> Wrong:  # not a classmethod
        return self

    def preflight(self, spec: Any, base: Path) -> list[str]:
        return []

    def plan(self, spec: Any, name: str, base: Path) -> str:  # no directory
        return ""

    def submit(self, spec: Any, name: str, directory: Path, base: Path) -> Any: ...

    def attach(self, name: str, directory: Path) -> Any: ...

    def poll(self, ref: Any, position: Any) -> Any: ...

    def stop(self, ref: Any, force: bool = False) -> None: ...

    def describe(self, ref: Any) -> dict[str, Any]:
        return {}


def test_the_check_fires_on_a_class_that_differs_from_the_protocol():
    found = mismatches(Wrong, base.Backend)
    assert any("release() is missing" in f for f in found)
    assert any("poll" in f and "position" in f for f in found)
    assert any("stop" in f and "force" in f for f in found)
    assert any("plan" in f for f in found)
    assert any("from_settings is not a classmethod" in f for f in found)
    assert not any(f.startswith("Wrong.describe") for f in found)
    assert mismatches(Wrong, base.DownloadsArtifacts) == ["Wrong.download() is missing"]


@pytest.mark.parametrize("mode", modes.NAMES)
def test_every_backend_implements_the_protocol_exactly(mode: str):
    cls = backends.backend_class(mode)
    assert mismatches(cls, base.Backend) == []
    backend = backends.get(mode)
    assert isinstance(backend, base.Backend)
    assert backend.mode == mode
    assert backend.on_progress is base.no_progress
    assert not hasattr(backend, "persists")


@pytest.mark.parametrize("mode", modes.NAMES)
def test_the_optional_abilities_a_backend_has_take_the_protocols_parameters(mode: str):
    backend = backends.get(mode)
    claimed = {p for p in OPTIONAL if isinstance(backend, p)}
    assert claimed == CLAIMS[mode]
    for protocol in claimed:
        assert mismatches(type(backend), protocol) == []


def test_from_settings_hands_each_backend_its_settings(tmp_path: Path):
    settings = backends.Settings(stop_grace=3.0, kinds_cache=tmp_path / "kinds.json",
                                 bucket="b", role="arn:aws:iam::1:role/r", live_tail=False)
    local = backends.get("local", settings)
    container = backends.get("container", settings)
    sagemaker = backends.get("sagemaker", settings)
    assert local.stop_grace == 3.0
    assert (container.stop_grace, container.kinds_cache) == (3.0, tmp_path / "kinds.json")
    assert (sagemaker.bucket, sagemaker.role, sagemaker.live_tail) == (
        "b", "arn:aws:iam::1:role/r", False)
