"""TrainingSpec: serialisable, validated, and honest about options a mode ignores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sm_notebook.errors import SpecError
from sm_notebook.spec import Channel, MetricDefinition, TrainingSpec

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


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


def test_serial_forms_are_plain_json_and_yaml_documents():
    spec = full_spec()
    assert json.loads(spec.to_json()) == spec.to_dict()
    assert yaml.safe_load(spec.to_yaml()) == spec.to_dict()
    assert spec.to_dict()["channels"] == [{"name": "train", "source": "s3://my-bucket/train",
                                           "content_type": "text/csv"}]
    assert spec.to_dict()["metrics"] == [{"name": "loss", "regex": "loss=([0-9.]+)"}]
    assert list(spec.to_dict())[:3] == ["cell", "mode", "entry_script"]


@settings(max_examples=60, deadline=None)
@given(hyperparameters=st.dictionaries(st.text(min_size=1), json_values, max_size=4),
       cell=st.text(), environment=st.dictionaries(st.text(), st.text(), max_size=2))
def test_any_values_survive_json_and_yaml_with_their_types(hyperparameters, cell, environment):
    spec = TrainingSpec(cell=cell, hyperparameters=hyperparameters, environment=environment)
    for again in (TrainingSpec.from_json(spec.to_json()), TrainingSpec.from_yaml(spec.to_yaml())):
        assert again == spec
        # "1" stays a string, 1 an int, 1.0 a float, True a bool ("yes" is not a bool)
        assert json.dumps(again.hyperparameters, sort_keys=True) == json.dumps(
            hyperparameters, sort_keys=True)


def test_yaml_keeps_strings_that_look_like_other_types():
    spec = TrainingSpec(hyperparameters={"a": "1", "b": "yes", "c": "null", "d": "1e3",
                                         "e": "0x10", "f": "2026-11-24"})
    assert TrainingSpec.from_yaml(spec.to_yaml()).hyperparameters == spec.hyperparameters


def test_yaml_can_leave_out_the_cell():
    assert "cell" not in yaml.safe_load(full_spec().to_yaml(include_cell=False))


def test_compact_yaml_leaves_out_unset_fields_and_the_cell():
    text = TrainingSpec(cell="print(1)\n", hyperparameters={"lr": 0.1}).to_yaml(
        include_cell=False, compact=True)
    assert text == "mode: local\nentry_script: train.py\ninstance_count: 1\n" \
                   "hyperparameters:\n  lr: 0.1\nhp_style: v3\n"


def test_unknown_fields_are_refused_when_loading():
    with pytest.raises(SpecError, match=r"unknown field.*epochs"):
        TrainingSpec.from_dict({"epochs": 3})


@pytest.mark.parametrize(("cell", "has_script"), [
    ("print(1)\n", True), ("# from --source-dir\n\n", False), ("", False),
    ("   # indented comment\nx = 1\n", True), ("\n  \n\t\n", False),
    ("# one\n    # two\n#!/usr/bin/env python\n", False), ("x = 1  # trailing comment", True),
    ('"""docstring only"""', True)])
def test_a_comments_only_cell_has_no_script(cell, has_script):
    assert TrainingSpec(cell=cell).has_script is has_script


def test_effective_instance_type_per_mode():
    assert TrainingSpec().effective_instance_type == "local"
    assert TrainingSpec(mode="sagemaker").effective_instance_type == "ml.m5.xlarge"
    assert TrainingSpec(mode="container").effective_instance_type == "local_cpu"
    assert TrainingSpec(instance_type="ml.c5.2xlarge").effective_instance_type == "ml.c5.2xlarge"
    assert TrainingSpec(mode="container", instance_type="local_gpu"
                        ).effective_instance_type == "local_gpu"


def test_channel_names_map_each_channel_to_its_content_type():
    spec = TrainingSpec(channels=[Channel("train", "s3://b/t", "text/csv"), Channel("v", "d")])
    assert spec.channel_names == {"train": "text/csv", "v": None}
    assert spec.channels[0].is_s3 and not spec.channels[1].is_s3


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


def cell_spec(**fields) -> TrainingSpec:
    return TrainingSpec(**{"cell": "print(1)\n", **fields})


@pytest.mark.parametrize(("fields", "option", "problem"), [
    (dict(mode="cloud"), "--mode", "unknown value 'cloud'"),
    (dict(instance_type="m5.xlarge"), "--instance-type", "invalid instance type"),
    (dict(instance_type="local_gpu"), "--instance-type", "runs in Docker containers"),
    (dict(mode="sagemaker", instance_type="local"), "--instance-type",
     "not a SageMaker instance type"),
    (dict(mode="sagemaker", instance_count=0), "--instance-count", "invalid value 0"),
    (dict(mode="sagemaker", volume_gb=0), "--volume-gb", "invalid value 0"),
    (dict(distribution="deepspeed"), "--distributed", "neither a built-in launcher nor a .py"),
    (dict(distribution="nowhere/driver.py"), "--distributed", "does not exist"),
    (dict(distribution_config={"x": 1}), "--distribution-config", "only applies to a distributed"),
    (dict(distribution="torchrun", distribution_config={"smp": 1}), "--distribution-config",
     "torchrun takes no smp"),
    (dict(distribution="mpi", distribution_config={"process_count_per_node": 0}),
     "--distribution-config", "process_count_per_node 0"),
    (dict(distribution="mpi", distribution_config={"mpi_additional_options": "-x A"}),
     "--distribution-config", "mpi_additional_options '-x A'"),
    (dict(distribution="mpi", distribution_config={"process_count_per_node": 2},
          processes_per_host=3), "--processes-per-host", "says process_count_per_node 2"),
    (dict(distribution="mpi", channels=[Channel("code", ".")]), "--input", "channel 'code'"),
    (dict(processes_per_host=2), "--processes-per-host", "only applies to a distributed"),
    (dict(distribution="torchrun", processes_per_host=0), "--processes-per-host",
     "invalid value 0"),
    (dict(mode="container", python="/usr/bin/python3"), "--python", "only applies in local"),
    (dict(entry_script="src/train.py"), "--entry-script", "invalid file name"),
    (dict(entry_script="run"), "--entry-script", "runs as a Python script (.py) or a shell"),
    (dict(cell="# nothing\n"), "cell", "no code to run"),
    (dict(command=" "), "--command", "an empty command"),
    (dict(command="python x.py", distribution="torchrun"), "--command", "cannot be launched"),
    (dict(hp_style="v4"), "--hp-style", "unknown value 'v4'"),
    (dict(source_dir="missing"), "--source-dir", "is not a directory"),
    (dict(dependencies=["missing.py"]), "--dependencies", "does not exist"),
    (dict(requirements="missing.txt"), "--requirements", "does not exist"),
    (dict(hyperparameters={"sagemaker_program": "x"}), "--hp", "reserved for SageMaker"),
    (dict(channels=[Channel("bad name", "s3://bucket/x")]), "--input", "invalid channel name"),
    (dict(channels=[Channel("t", "s3://B/x")]), "--input", "invalid S3 URI"),
    (dict(channels=[Channel("t", "s3://bucket/a"), Channel("t", "s3://bucket/b")]), "--input",
     "given twice"),
    (dict(channels=[Channel(f"c{i}", "s3://bucket/x") for i in range(21)]), "--input",
     "the limit is 20"),
    (dict(channels=[Channel("t", "s3://bucket/x", "a\nb")]), "--content-type",
     "'t' holds the control character '\\n'"),
    (dict(channels=[Channel("t", "s3://bucket/x", "x" * 257)]), "--content-type",
     "content type is 257 characters"),
    (dict(max_run=0), "--max-run", "invalid value 0"),
    (dict(max_run=28 * 86400 + 1), "--max-run", "invalid value"),
    (dict(mode="sagemaker", max_wait=100), "--max-wait", "only applies to spot"),
    (dict(keep_alive=60), "--keep-alive", "not available in local mode"),
    (dict(mode="sagemaker", keep_alive=21601), "--keep-alive", "invalid value"),
    (dict(spot=True), "--spot", "not available in local mode"),
    (dict(mode="container", spot=True), "--spot", "not available in container mode"),
    (dict(checkpoint_s3="bucket/ckpt"), "--checkpoint-s3", "invalid S3 URI"),
    (dict(role="Train"), "--role", "invalid role"),
    (dict(region="Europe"), "--region", "invalid region"),
    (dict(output="s3://my-bucket/out"), "--output", "needs --mode sagemaker"),
    (dict(job_name="-job"), "--job-name", "invalid job name"),
    (dict(job_name="a", base_job_name="b"), "--job-name", "not both"),
    (dict(base_job_name="-ab", mode="sagemaker"), "--base-job-name",
     "starting with a letter or digit"),
    (dict(base_job_name="a_b", mode="sagemaker"), "--base-job-name",
     "allow only letters, digits and hyphens"),
    (dict(base_job_name="___"), "--base-job-name", "invalid base name"),
    (dict(environment={"SM_MODEL_DIR": "/x"}), "--env", "set by the SageMaker contract"),
    (dict(environment={"MASTER_PORT": "1"}), "--env", "set by the SageMaker contract"),
    (dict(environment={"WANDB_API_KEY": "x"}), "--env", "looks like a credential"),
    (dict(environment={"1BAD": "x"}), "--env", "invalid name"),
    (dict(environment={"LONG": "x" * 513}), "--env", "longer than 512"),
    (dict(tags={"aws:team": "ml"}), "--tag", "reserved by AWS"),
    (dict(metrics=[MetricDefinition("loss", "loss=[0-9.]+")]), "--metric", "no capture group"),
    (dict(metrics=[MetricDefinition("loss", "loss=([0-9.]+")]), "--metric", "invalid regex"),
    (dict(metrics=[MetricDefinition("l", "(1)"), MetricDefinition("l", "(2)")]), "--metric",
     "defined twice"),
    (dict(metrics=[MetricDefinition("x" * 256, "(1)")]), "--metric", "name is 256 characters"),
])
def test_each_invalid_option_is_an_error_naming_it(tmp_path, fields, option, problem):
    with pytest.raises(SpecError) as caught:
        cell_spec(**fields).validate(tmp_path)
    assert caught.value.option == option
    assert str(caught.value).startswith(f"{option}: ")
    assert problem in caught.value.problem


def test_code_from_source_dir_with_a_comment_only_cell(tmp_path: Path):
    (tmp_path / "src").mkdir()
    spec = cell_spec(cell="# the entry script comes from --source-dir\n", source_dir="src",
                     entry_script="run.sh")
    with pytest.raises(SpecError, match=r"^--entry-script: run.sh is not in src"):
        spec.validate(tmp_path)
    (tmp_path / "src" / "run.sh").write_text("echo hi\n")
    assert spec.validate(tmp_path) == []


def test_requirements_are_found_beside_the_notebook_or_in_source_dir(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "requirements.txt").write_text("numpy\n")
    spec = cell_spec(source_dir="src", requirements="requirements.txt")
    assert spec.validate(tmp_path) == []
    assert spec.requirements_path(tmp_path) == tmp_path / "src" / "requirements.txt"
    (tmp_path / "requirements.txt").write_text("pandas\n")
    assert spec.requirements_path(tmp_path) == tmp_path / "requirements.txt"


def test_output_must_be_a_writable_directory(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SpecError, match=r"^--output: .* is not a directory"):
        cell_spec(output="file/sub").validate(tmp_path)
    assert cell_spec(output="new/dir").validate(tmp_path) == []  # made when needed


def test_the_max_wait_of_a_spot_job_may_equal_the_max_run(tmp_path):
    assert cell_spec(mode="sagemaker", spot=True, max_run=3600, max_wait=3600
                     ).validate(tmp_path) == []


def test_options_that_do_nothing_in_local_mode_are_said_not_ignored(tmp_path):
    notes = TrainingSpec(cell="x=1", image="img", instance_type="ml.m5.xlarge",
                         tags={"team": "ml"}).validate(tmp_path)
    assert any(n.startswith("--image is not used in local mode") for n in notes)
    assert any(n.startswith("--instance-type ml.m5.xlarge is only described") for n in notes)
    assert any(n.startswith("--tag is recorded") for n in notes)
    assert len(notes) == 3


def test_mode_notes_name_each_ignored_option(tmp_path):
    notes = cell_spec(volume_gb=50, role="arn:aws:iam::123456789012:role/Train"
                      ).validate(tmp_path)
    assert [n.split(" ", 1)[0] for n in notes] == ["--volume-gb", "--role"]
    assert cell_spec(mode="container", tags={"team": "ml"}).validate(tmp_path) == [
        "--tag is recorded with the job; tags reach AWS only in sagemaker mode"]
    assert cell_spec(mode="sagemaker", tags={"team": "ml"}, image="img").validate(tmp_path) == []
    assert cell_spec().validate(tmp_path) == []


def test_relative_paths_resolve_against_the_given_directory(tmp_path):
    (tmp_path / "data").mkdir()
    spec = TrainingSpec(cell="x=1", channels=[Channel("train", "data")])
    assert spec.validate(tmp_path) == []
