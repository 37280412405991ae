"""Whether this machine's memory holds ``--max-parallel`` container trials at once, each
sized as its instance type says (the containers' memory limits), refused before anything
starts with by how much it does not (pure, but for reading the machine's memory)."""

from __future__ import annotations

import os

from ..catalog import instances
from ..errors import SpecError

GIB = 1024 ** 3


def machine_memory() -> int:
    """Bytes of memory this machine has."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_parallel_memory(instance_type: str, instance_count: int, max_parallel: int,
                          have: int | None = None) -> str | None:
    """A note of what the sweep takes; ``SpecError`` when it is more than the machine has.
    Instance types without a size (local_cpu, unknown) are not limited, so not checked."""
    known = instances.lookup(instance_type)
    if known is None:
        return None
    have = machine_memory() if have is None else have
    per_trial = known.memory_bytes * instance_count
    need = per_trial * max_parallel
    if need > have:
        fits = have // per_trial
        hint = (f"--max-parallel {fits}, or a smaller --instance-type" if fits else
                "a smaller --instance-type: one trial alone does not fit")
        raise SpecError("--max-parallel", f"{max_parallel} trials at once take "
                        f"{need / GIB:g} GiB ({max_parallel} × {per_trial / GIB:g} GiB for "
                        f"{instance_count} × {instance_type}), {(need - have) / GIB:.1f} GiB "
                        f"more than this machine's {have / GIB:.1f} GiB", hint)
    return (f"{max_parallel} trials at once take {need / GIB:g} GiB of this machine's "
            f"{have / GIB:.1f} GiB")
