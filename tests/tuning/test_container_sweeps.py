"""A container sweep on the real engine: trials in containers two at once, nothing left
behind, and a parallelism this machine's memory cannot hold refused before anything runs."""

from __future__ import annotations

import docker
import pytest
from IPython.core.error import UsageError

from sm_notebook.errors import SpecError
from sm_notebook.tuning.capacity import GIB, check_parallel_memory
from tests.tuning.test_local_sweeps import QUADRATIC, tune

PLAIN = "smnb-test/sklearn:1"


def test_a_container_sweep_runs_its_trials_in_containers_and_leaves_nothing(ip, capsys):
    client = docker.from_env()
    networks = {n.id for n in client.networks.list()}
    sweep = tune(ip, f"--job-name boxes --mode container --image {PLAIN} --instance-type "
                 "ml.m5.large --hp-range x=int:0:3 --metric score='score=([-0-9.]+)' "
                 "--objective Maximize:score --strategy grid --max-jobs 4 --max-parallel 2",
                 QUADRATIC)
    assert "2 trials at once take 16 GiB of this machine's" in capsys.readouterr().out
    trials = sweep.trials()
    assert set(trials.status) == {"Completed"} and sweep.best_trial().values["x"] == 2
    assert all(job.mode == "container" for job in sweep.jobs)
    assert client.containers.list(all=True, filters={"label": "sm-notebook.job"}) == []
    assert {n.id for n in client.networks.list()} == networks


def test_a_parallelism_the_memory_cannot_hold_is_refused_saying_by_how_much(ip, jobs_dir):
    with pytest.raises(UsageError, match=r"^--max-parallel: 2 trials at once take 768 GiB "
                                         r"\(2 × 384 GiB for 1 × ml.m5.24xlarge\), [\d.]+ GiB "
                                         r"more than this machine's"):
        ip.run_cell_magic("sm_tune", f"sweep --mode container --image {PLAIN} --instance-type "
                          "ml.m5.24xlarge --hp-range x=int:0:3 --metric s='s=(.*)' "
                          "--objective Maximize:s --max-jobs 4 --max-parallel 2", QUADRATIC)
    assert not (jobs_dir / ".sweeps").exists()
    with pytest.raises(SpecError, match=r"\(expected --max-parallel 1, or a smaller"):
        check_parallel_memory("ml.m5.xlarge", 1, 2, have=20 * GIB)
    assert check_parallel_memory("local_cpu", 1, 8, have=GIB) is None  # unsized: unchecked
