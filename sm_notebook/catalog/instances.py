"""What a SageMaker training instance type has: vCPUs, memory and GPUs.

Container mode gives a job's containers the memory and CPUs of the instance type it names,
so a script that runs out of memory on ``ml.m5.large`` runs out here too, before it costs
anything.  The SDK ships no such catalog (reference/sagemaker-contract.md §5), so this is
AWS's published figures for the common training families; a type not listed here runs
without limits.  Pure data, no imports beyond the standard library.
"""

from __future__ import annotations

from typing import NamedTuple

GIB = 1 << 30


class Instance(NamedTuple):
    vcpus: int
    memory_gib: float
    gpus: int = 0

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gib * GIB)

    def describe(self) -> str:
        gpus = f", {self.gpus} GPU" + ("s" if self.gpus > 1 else "") if self.gpus else ""
        return f"{self.vcpus} vCPU, {self.memory_gib:g} GiB{gpus}"


def _family(family: str, sizes: str, gpus: dict[str, int] | None = None) -> dict[str, Instance]:
    """``sizes`` is ``"size:vcpus/GiB ..."``; ``gpus`` maps a size to its GPU count."""
    table = {}
    for item in sizes.split():
        size, figures = item.split(":")
        vcpus, memory = figures.split("/")
        table[f"ml.{family}.{size}"] = Instance(int(vcpus), float(memory),
                                                (gpus or {}).get(size, 0))
    return table


_M6 = ("large:2/8 xlarge:4/16 2xlarge:8/32 4xlarge:16/64 8xlarge:32/128 12xlarge:48/192 "
       "16xlarge:64/256 24xlarge:96/384 32xlarge:128/512")
_G5 = ("xlarge:4/16 2xlarge:8/32 4xlarge:16/64 8xlarge:32/128 12xlarge:48/192 "
       "16xlarge:64/256 24xlarge:96/384 48xlarge:192/768")
_G5_GPUS = {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1,
            "12xlarge": 4, "24xlarge": 4, "48xlarge": 8}

CATALOG: dict[str, Instance] = {
    **_family("t3", "medium:2/4 large:2/8 xlarge:4/16 2xlarge:8/32"),
    **_family("m4", "xlarge:4/16 2xlarge:8/32 4xlarge:16/64 10xlarge:40/160 16xlarge:64/256"),
    **_family("m5", "large:2/8 xlarge:4/16 2xlarge:8/32 4xlarge:16/64 12xlarge:48/192 "
                    "24xlarge:96/384"),
    **_family("m6i", _M6),
    **_family("c4", "xlarge:4/7.5 2xlarge:8/15 4xlarge:16/30 8xlarge:36/60"),
    **_family("c5", "xlarge:4/8 2xlarge:8/16 4xlarge:16/32 9xlarge:36/72 18xlarge:72/144"),
    **_family("c5n", "xlarge:4/10.5 2xlarge:8/21 4xlarge:16/42 9xlarge:36/96 "
                     "18xlarge:72/192"),
    **_family("c6i", "xlarge:4/8 2xlarge:8/16 4xlarge:16/32 8xlarge:32/64 12xlarge:48/96 "
                     "16xlarge:64/128 24xlarge:96/192 32xlarge:128/256"),
    **_family("r5", "large:2/16 xlarge:4/32 2xlarge:8/64 4xlarge:16/128 12xlarge:48/384 "
                    "24xlarge:96/768"),
    **_family("g4dn", "xlarge:4/16 2xlarge:8/32 4xlarge:16/64 8xlarge:32/128 "
                      "12xlarge:48/192 16xlarge:64/256",
              {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1,
               "12xlarge": 4}),
    **_family("g5", _G5, _G5_GPUS),
    **_family("p3", "2xlarge:8/61 8xlarge:32/244 16xlarge:64/488",
              {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8}),
    **_family("p3dn", "24xlarge:96/768", {"24xlarge": 8}),
    **_family("p4d", "24xlarge:96/1152", {"24xlarge": 8}),
    **_family("p5", "48xlarge:192/2048", {"48xlarge": 8}),
}


def lookup(instance_type: str) -> Instance | None:
    return CATALOG.get(instance_type)
