"""Distributed launches: ``torchrun`` (built in), ``mpi``, and drivers of the user's own.

``--distributed`` names one of the built-in launchers or a ``.py`` file: a driver, as V3's
``DistributedConfig`` has (``driver_dir`` and ``driver_script``), which runs *instead of*
the entry script on every host and starts it as it likes.  A driver run is laid out as V3
lays it out: the driver's folder is the ``sm_drivers`` channel's ``distributed_drivers/``,
beside ``distributed.json`` (the ``--distribution-config``), and the code is the ``code``
channel.  ``mpi`` is such a driver, sm_notebook's own (``runtime/mpi_driver.py``).

Pure: what is checked here reads the file system and launches nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from .checks import local_path
from .errors import SpecError

TORCHRUN, MPI = "torchrun", "mpi"
BUILT_IN = (TORCHRUN, MPI)
DRIVERS_CHANNEL = "sm_drivers"  # V3's channel of the drivers
DRIVERS_FOLDER = "distributed_drivers"  # the driver's folder inside it
CODE_CHANNEL = "code"  # V3's channel of the code, under a driver
CONFIG_FILE = "distributed.json"
MPI_KEY_FILE = "mpi.key"  # in the channel: the key an MPI run's hosts share (mpi_exec.py)
MPI_DRIVER = "mpi_driver.py"
#: what sm_notebook's MPI driver ships beside itself (all in ``runtime/``)
MPI_FILES = (MPI_DRIVER, "mpi_exec.py")
DRIVER_FOLDER_MAX = 10 << 20  # bytes: a driver's folder is copied to every host
CONFIG_MAX = 16 << 10  # bytes of JSON: it travels in an environment variable
EXPECTED = "torchrun, mpi, or the path of a driver's .py file such as ./drivers/driver.py"
CONFIG_EXPECTED = ("a JSON object such as '{\"process_count_per_node\": 2}', or a $dict, "
                   "with --distributed")
#: the keys each built-in launcher's config takes (V3's Torchrun and MPI fields)
BUILT_IN_KEYS = {TORCHRUN: ("process_count_per_node",),
                 MPI: ("process_count_per_node", "mpi_additional_options")}


def is_driver(distribution: str | None) -> bool:
    """A driver runs instead of the entry script (``mpi`` or a file); torchrun does not."""
    return distribution is not None and distribution != TORCHRUN


def driver_script(distribution: str) -> str:
    """The driver's file name in ``distributed_drivers/``."""
    return MPI_DRIVER if distribution == MPI else PurePath(distribution).name


@dataclass(frozen=True)
class Launch:
    """The distributed launch of a spec, checked: what the contract and the backends use."""

    distribution: str  # torchrun, mpi or a driver's path
    config: dict[str, Any]  # SM_DISTRIBUTED_CONFIG, distributed.json

    @property
    def driver(self) -> str | None:
        """The driver's file name, None under torchrun (which runs the entry script)."""
        return driver_script(self.distribution) if is_driver(self.distribution) else None

    @property
    def processes_per_host(self) -> int | None:
        return self.config.get("process_count_per_node")


def launch_of(distribution: str | None, config: dict[str, Any] | None,
              processes: int | None) -> Launch | None:
    """The launch ``--distributed``, ``--distribution-config`` and
    ``--processes-per-host`` give (checked first with :func:`check`)."""
    if distribution is None:
        return None
    values = dict(config or {})
    if processes is not None:
        values["process_count_per_node"] = processes
    if distribution == TORCHRUN:  # as sm_notebook has always described torchrun
        return Launch(distribution, {"process_count_per_node": values.get(
            "process_count_per_node") or 1, "smp": None})
    if distribution == MPI:  # V3's MPI fields, unset ones as None
        return Launch(distribution, {key: values.get(key) for key in BUILT_IN_KEYS[MPI]})
    return Launch(distribution, values)


def check(distribution: str | None, config: Any, processes: int | None, base: Path) -> None:
    """``SpecError`` naming the option for a launch that cannot run."""
    if distribution is None:
        if config is not None:
            raise SpecError("--distribution-config", "only applies to a distributed launch",
                            "--distributed torchrun|mpi|DRIVER.py with it")
        return
    if distribution not in BUILT_IN:
        check_driver_path(distribution, base)
    if config is None:
        return
    if not isinstance(config, dict):
        raise SpecError("--distribution-config", f"a {type(config).__name__} is not a JSON "
                        "object", CONFIG_EXPECTED)
    try:
        text = json.dumps(config)
    except (TypeError, ValueError) as exc:
        raise SpecError("--distribution-config", f"not JSON: {exc}", CONFIG_EXPECTED) from None
    if len(text.encode()) > CONFIG_MAX:
        raise SpecError("--distribution-config", f"{len(text.encode()):,} bytes of JSON",
                        f"at most {CONFIG_MAX >> 10} KB (it is passed in an environment "
                        "variable)")
    if distribution in BUILT_IN:
        _check_built_in_config(distribution, config)
    count = config.get("process_count_per_node")
    if processes is not None and count is not None and count != processes:
        raise SpecError("--processes-per-host", f"{processes}, but --distribution-config "
                        f"says process_count_per_node {count}", "one of the two")


def check_driver_path(distribution: str, base: Path) -> None:
    """A driver is an existing ``.py`` file whose folder is small enough to ship."""
    path = local_path("--distributed", base, distribution)
    if not distribution.endswith(".py"):
        raise SpecError("--distributed", f"{distribution!r} is neither a built-in launcher "
                        "nor a .py file", EXPECTED)
    if not path.is_file():
        why = "is a folder" if path.is_dir() else "does not exist"
        raise SpecError("--distributed", f"{distribution} {why}", EXPECTED)


def _check_built_in_config(distribution: str, config: dict[str, Any]) -> None:
    keys = BUILT_IN_KEYS[distribution]
    unknown = sorted(set(config) - set(keys))
    if unknown:
        raise SpecError("--distribution-config", f"{distribution} takes no "
                        f"{', '.join(unknown)}", f"a JSON object of {' and '.join(keys)}")
    count = config.get("process_count_per_node")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 1 <= count <= 1024):
        raise SpecError("--distribution-config", f"process_count_per_node {count!r}",
                        "a whole number from 1 to 1024")
    options = config.get("mpi_additional_options")
    if options is not None and not (isinstance(options, list)
                                    and all(isinstance(o, str) for o in options)):
        raise SpecError("--distribution-config", f"mpi_additional_options {options!r}",
                        'a list of mpirun arguments such as ["-x", "NCCL_DEBUG"]')
