"""The /opt/ml contract: config files, SM_* variables and the command, in one place."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from sm_notebook import contract
from sm_notebook.contract import Cluster, Layout, ScriptRun


def two_host_run(host: str = "algo-2", **overrides) -> ScriptRun:
    fields = dict(job_name="job-1", cluster=Cluster("ml.m5.xlarge", 2), current_host=host,
                  entry_point="train.py", hyperparameters={"lr": 0.1, "epochs": 3},
                  channels={"train": "text/csv", "validation": None}, num_cpus=4)
    return ScriptRun(**{**fields, **overrides})


def test_layout_defaults_to_opt_ml_and_can_be_rooted_anywhere(tmp_path):
    assert Layout().model_dir == PurePosixPath("/opt/ml/model")
    assert Layout().channel_dir("train") == PurePosixPath("/opt/ml/input/data/train")
    assert Layout().failure_file == PurePosixPath("/opt/ml/output/failure")
    local = Layout(tmp_path / "opt/ml")
    assert local.output_data_dir == tmp_path / "opt/ml/output/data"
    assert local.checkpoints_dir == tmp_path / "opt/ml/checkpoints"
    assert all(str(d).startswith(str(tmp_path)) for d in local.directories())


def test_resource_config_is_what_the_service_writes_for_one_group():
    assert Cluster("ml.m5.xlarge", 2).resource_config("algo-2") == {
        "current_host": "algo-2",
        "current_instance_type": "ml.m5.xlarge",
        "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1", "algo-2"],
        "instance_groups": [{"instance_group_name": "homogeneousCluster",
                             "instance_type": "ml.m5.xlarge", "hosts": ["algo-1", "algo-2"]}],
        "network_interface_name": "eth0",
    }


def test_input_data_config_has_one_file_mode_entry_per_channel():
    assert contract.input_data_config({"train": "text/csv", "test": None}) == {
        "train": {"ContentType": "text/csv", "TrainingInputMode": "File",
                  "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
        "test": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                 "RecordWrapperType": "None"},
    }


def test_config_files_are_written_as_the_three_json_documents(tmp_path: Path):
    run = two_host_run()
    contract.write_config_files(run, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hyperparameters.json", "inputdataconfig.json", "resourceconfig.json"]
    assert json.loads((tmp_path / "hyperparameters.json").read_text()) == {"lr": "0.1",
                                                                           "epochs": "3"}
    assert json.loads((tmp_path / "resourceconfig.json").read_text())["current_host"] == "algo-2"


def test_training_env_holds_the_toolkits_37_properties():
    env = two_host_run().training_env()
    assert len(env) == 37
    assert env["hyperparameters"] == {"lr": 0.1, "epochs": 3}  # typed, not strings
    assert env["channel_input_dirs"] == {"train": "/opt/ml/input/data/train",
                                         "validation": "/opt/ml/input/data/validation"}
    assert (env["current_host"], env["master_hostname"], env["is_master"]) == (
        "algo-2", "algo-1", False)
    assert env["module_name"] == "train" and env["user_entry_point"] == "train.py"
    assert env["resource_config"]["hosts"] == ["algo-1", "algo-2"]


def test_environment_is_the_union_of_toolkit_and_v3_variables():
    env = two_host_run().environment()
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert env["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert env["SM_CHANNELS"] == '["train","validation"]'
    assert env["SM_HOSTS"] == '["algo-1","algo-2"]'
    assert env["SM_CURRENT_HOST"] == "algo-2"
    assert env["SM_USER_ARGS"] == '["--epochs","3","--lr","0.1"]'
    assert env["SM_HP_LR"] == "0.1" and json.loads(env["SM_HPS"]) == {"lr": 0.1, "epochs": 3}
    assert env["SM_NUM_CPUS"] == "4" and env["SM_NUM_GPUS"] == "0"
    assert json.loads(env["SM_TRAINING_ENV"])["job_name"] == "job-1"
    # V3 ModelTrainer's driver variables
    assert (env["SM_MASTER_ADDR"], env["SM_MASTER_PORT"]) == ("algo-1", "7777")
    assert (env["SM_HOST_COUNT"], env["SM_CURRENT_HOST_RANK"]) == ("2", "1")
    assert env["SM_OUTPUT_FAILURE"] == "/opt/ml/output/failure"
    assert env["TRAINING_JOB_NAME"] == "job-1"
    assert all(isinstance(v, str) for v in env.values())
    assert "MASTER_ADDR" not in env  # only for a distributed launch


def test_every_path_variable_points_into_a_local_layout(tmp_path):
    env = two_host_run(layout=Layout(tmp_path / "opt/ml")).environment()
    paths = [v for k, v in env.items() if k.endswith("_DIR") or k.startswith("SM_CHANNEL_")]
    assert paths and all(p.startswith(str(tmp_path)) for p in paths)


def test_python_entry_point_runs_with_the_toolkits_arguments():
    assert two_host_run().command("/usr/bin/python3") == [
        "/usr/bin/python3", "train.py", "--epochs", "3", "--lr", "0.1"]


def test_torchrun_on_several_hosts_names_algo_1_as_master():
    run = two_host_run(processes_per_host=4)
    assert run.command("python") == [
        "python", "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=4",
        "--master_addr=algo-1", "--master_port=7777", "--node_rank=1",
        "train.py", "--epochs", "3", "--lr", "0.1"]
    env = run.environment()
    assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("algo-1", "7777")
    assert json.loads(env["SM_DISTRIBUTED_CONFIG"])["process_count_per_node"] == 4
    assert run.training_env()["distribution_hosts"] == ["algo-1", "algo-2"]


def test_shell_entry_point_gets_its_arguments_without_a_shell_parsing_them():
    run = two_host_run(entry_point="run.sh", hyperparameters={"msg": "a b; rm -rf /"})
    assert run.command() == ["/bin/sh", "-c", 'exec "./$0" "$@"', "run.sh",
                             "--msg", "a b; rm -rf /"]


def test_region_sets_both_aws_variables():
    env = two_host_run(region="eu-west-1").environment()
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
