"""TrainingSpec: serialisable, validated, and honest about options a mode ignores."""

from __future__ import annotations

import pytest

from sm_notebook.errors import SpecError
from sm_notebook.spec import Channel, MetricDefinition, TrainingSpec


def full_spec() -> TrainingSpec:
    return TrainingSpec(
        cell="print('hi')\n", mode="sagemaker", image="repo/img:1",
        instance_type="ml.g5.xlarge", instance_count=2, volume_gb=50,
        hyperparameters={"lr": 0.1, "amp": True, "layers": [64, 32], "name": "adam"},
        channels=[Channel("train", "s3://my-bucket/train", "text/csv")],
        distribution="torchrun", processes_per_host=4, max_run=3600, spot=True,
        max_wait=7200, checkpoint_s3="s3://my-bucket/ckpt", keep_alive=600,
        role="arn:aws:iam::123456789012:role/Train", output="s3://my-bucket/out",
        region="eu-west-1", base_job_name="exp", environment={"MODE": "fast"},
        tags={"team": "ml"}, metrics=[MetricDefinition("loss", r"loss=([0-9.]+)")])


@pytest.mark.parametrize("form", ["dict", "json", "yaml"])
def test_a_spec_round_trips_through_every_serial_form(form):
    spec = full_spec()
    again = {"dict": lambda: TrainingSpec.from_dict(spec.to_dict()),
             "json": lambda: TrainingSpec.from_json(spec.to_json()),
             "yaml": lambda: TrainingSpec.from_yaml(spec.to_yaml())}[form]()
    assert again == spec


def test_compact_yaml_leaves_out_unset_fields_and_the_cell():
    text = TrainingSpec(cell="print(1)\n", hyperparameters={"lr": 0.1}).to_yaml(
        include_cell=False, compact=True)
    assert text == "mode: local\nentry_script: train.py\ninstance_count: 1\n" \
                   "hyperparameters:\n  lr: 0.1\n"


def test_unknown_fields_are_refused_when_loading():
    with pytest.raises(SpecError, match=r"unknown field.*epochs"):
        TrainingSpec.from_dict({"epochs": 3})


@pytest.mark.parametrize(("cell", "has_script"), [
    ("print(1)\n", True), ("# from --source-dir\n\n", False), ("", False),
    ("   # indented comment\nx = 1\n", True)])
def test_a_comments_only_cell_has_no_script(cell, has_script):
    assert TrainingSpec(cell=cell).has_script is has_script


def test_effective_instance_type_per_mode():
    assert TrainingSpec().effective_instance_type == "local"
    assert TrainingSpec(mode="sagemaker").effective_instance_type == "ml.m5.xlarge"
    assert TrainingSpec(instance_type="ml.c5.2xlarge").effective_instance_type == "ml.c5.2xlarge"


def test_a_full_sagemaker_spec_is_valid(tmp_path):
    assert full_spec().validate(tmp_path) == []


def test_validation_errors_name_the_option(tmp_path):
    with pytest.raises(SpecError, match=r"^--instance-count: a local process job"):
        TrainingSpec(cell="x=1", instance_count=2).validate(tmp_path)
    with pytest.raises(SpecError, match=r"^--input: train: .* does not exist"):
        TrainingSpec(cell="x=1", channels=[Channel("train", "nope")]).validate(tmp_path)
    with pytest.raises(SpecError, match=r"^--max-wait: .* less than --max-run"):
        TrainingSpec(cell="x=1", mode="sagemaker", spot=True, max_run=100,
                     max_wait=50).validate(tmp_path)


def test_options_that_do_nothing_in_local_mode_are_said_not_ignored(tmp_path):
    notes = TrainingSpec(cell="x=1", image="img", instance_type="ml.m5.xlarge",
                         tags={"team": "ml"}).validate(tmp_path)
    assert any(n.startswith("--image is not used in local mode") for n in notes)
    assert any(n.startswith("--instance-type ml.m5.xlarge is only described") for n in notes)
    assert any(n.startswith("--tag is recorded") for n in notes)


def test_relative_paths_resolve_against_the_given_directory(tmp_path):
    (tmp_path / "data").mkdir()
    spec = TrainingSpec(cell="x=1", channels=[Channel("train", "data")])
    assert spec.validate(tmp_path) == []
