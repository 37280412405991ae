"""The instance catalog that sizes container-mode jobs."""

from __future__ import annotations

import botocore.session

from sm_notebook.backends.container.sizing import Sizing
from sm_notebook.catalog.instances import CATALOG, lookup


def test_every_catalog_entry_is_a_sagemaker_training_instance_type():
    model = botocore.session.get_session().get_service_model("sagemaker")
    valid = set(model.shape_for("TrainingInstanceType").enum)
    assert sorted(set(CATALOG) - valid) == []


def test_entries_hold_the_published_figures():
    assert lookup("ml.m5.xlarge").describe() == "4 vCPU, 16 GiB"
    assert lookup("ml.c4.xlarge").memory_bytes == int(7.5 * (1 << 30))
    assert lookup("ml.g5.12xlarge").describe() == "48 vCPU, 192 GiB, 4 GPUs"
    assert lookup("ml.p3.2xlarge").describe() == "8 vCPU, 61 GiB, 1 GPU"
    assert lookup("ml.x9.huge") is None


def test_containers_get_the_instance_memory_and_at_most_this_machine_cpus():
    small = Sizing.of("ml.m5.large", host_cpus=8, host_gpus=0)
    assert (small.cpus, small.memory, small.nano_cpus, small.gpu_request) == (
        2, 8 << 30, 2 * 10**9, None)
    capped = Sizing.of("ml.m5.4xlarge", host_cpus=2, host_gpus=0)
    assert (capped.cpus, capped.nano_cpus) == (2, 2 * 10**9)
    assert "2 vCPU (this machine has 2)" in capped.note


def test_local_types_and_unknown_types_run_without_limits():
    for instance_type in ("local_cpu", "ml.x9.huge"):
        sizing = Sizing.of(instance_type, host_cpus=2, host_gpus=0)
        assert (sizing.memory, sizing.nano_cpus, sizing.gpu_request) == (None, None, None)
    assert Sizing.of("local_cpu", 2, 0).note == ""
    assert "not in sm_notebook's instance catalog" in Sizing.of("ml.x9.huge", 2, 0).note


def test_gpus_are_requested_only_where_there_are_some():
    assert Sizing.of("local_gpu", 2, 0).gpu_request == -1  # every GPU, as docker --gpus all
    assert Sizing.of("ml.g5.12xlarge", 2, 0).gpu_request is None
    assert Sizing.of("ml.g5.12xlarge", 2, 8).gpu_request == 4
    assert "4 GPU(s) asked, 0 on this machine" in Sizing.of("ml.g5.12xlarge", 2, 0).note
