"""What each container of a job gets of this machine: the instance type's vCPUs, GPUs
and memory (at most this machine's), and the note that says so."""

from __future__ import annotations

from dataclasses import dataclass

from ...catalog import instances


@dataclass(frozen=True)
class Sizing:
    """What each container of a job gets: the instance type's memory and vCPUs (at most this
    machine's), so memory errors show here before they cost anything; ``local_cpu`` and
    ``local_gpu`` get the whole machine, ``local_gpu`` every GPU."""

    cpus: int
    gpus: int  # what SM_NUM_GPUS says
    gpu_request: int | None  # GPUs asked of the engine; -1: all (docker's --gpus all)
    memory: int | None  # bytes; None: no limit
    nano_cpus: int | None
    note: str

    @classmethod
    def of(cls, instance_type: str, host_cpus: int, host_gpus: int) -> Sizing:
        if instance_type == "local_gpu":
            return cls(host_cpus, host_gpus, -1, None, None,
                       "local_gpu: every CPU, GPU and all the memory of this machine")
        known = instances.lookup(instance_type)
        if known is None:
            note = ("" if instance_type.startswith("local") else
                    f"{instance_type} is not in sm_notebook's instance catalog, so the "
                    "containers may use every CPU and all the memory of this machine")
            return cls(host_cpus, 0, None, None, None, note)
        cpus = min(known.vcpus, host_cpus)
        gpus = min(known.gpus, host_gpus)
        capped = f" (this machine has {host_cpus})" if cpus < known.vcpus else ""
        gpu_note = (f"; {known.gpus} GPU(s) asked, {gpus} on this machine"
                    if known.gpus else "")
        return cls(cpus, gpus, gpus or None, known.memory_bytes, cpus * 10**9,
                   f"{instance_type}: each container gets {cpus} vCPU{capped} and "
                   f"{known.memory_gib:g} GiB of memory, as the instance has{gpu_note}")
