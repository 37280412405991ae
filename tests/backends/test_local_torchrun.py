"""``--distributed torchrun`` in local mode: torchrun starts N workers that form a real group."""

from __future__ import annotations

import tarfile

import pytest

from sm_notebook.errors import JobFailedError

CELL = r"""
import os
import sys
import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank = dist.get_rank()
total = torch.tensor([float(rank + 1)])
dist.all_reduce(total)
# One write per line: workers share the pipe, and print() writes the text and the newline
# separately when Python is unbuffered, so two ranks' prints can interleave (as on SageMaker).
sys.stdout.write(f"rank={rank} world={dist.get_world_size()} "
                 f"local_rank={os.environ['LOCAL_RANK']} sum={total.item()}\n")
if rank == 0:
    torch.save({"sum": total}, os.path.join(os.environ["SM_MODEL_DIR"], "model.pt"))
dist.destroy_process_group()
"""


def test_two_processes_per_host_all_reduce_over_gloo(ip):
    ip.run_cell_magic("sm_train", "job --distributed torchrun --processes-per-host 2 --wait", CELL)
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    ranks = sorted(m for m in job.logs().message if m.startswith("rank="))
    assert ranks == ["rank=0 world=2 local_rank=0 sum=3.0", "rank=1 world=2 local_rank=1 sum=3.0"]
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.getnames() == ["model.pt"]


def test_a_failing_worker_fails_the_job_with_its_error(ip):
    broken = "dist.all_reduce(total)\nif rank == 1:\n    raise RuntimeError('rank 1 broke')"
    cell = CELL.replace("dist.all_reduce(total)", broken)
    with pytest.raises(JobFailedError, match=r"RuntimeError: rank 1 broke \(train.py, line 13\)"):
        ip.run_cell_magic("sm_train", "job --distributed torchrun --processes-per-host 2 --wait",
                          cell)
    job = ip.user_ns["job"]
    assert job.status == "Failed"
    assert job.failure_reason.startswith("AlgorithmError: RuntimeError: rank 1 broke")
