"""The /opt/ml contract: config files, SM_* variables and the command, in one place.

Reference: /work/shared/reference/sagemaker-contract.md §1 (tree, config files, how the
entry point is started) and §2 (environment variables).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from sm_notebook import contract, distribution
from sm_notebook import hyperparameters as hp
from sm_notebook.contract import Cluster, Layout, ScriptRun

# reference §2.3: the 37 properties of the toolkit's Environment in SM_TRAINING_ENV
TRAINING_ENV_KEYS = {
    "additional_framework_parameters", "channel_input_dirs", "current_host",
    "current_instance_group", "current_instance_group_hosts", "current_instance_type",
    "distribution_hosts", "distribution_instance_groups", "framework_module", "hosts",
    "hyperparameters", "input_config_dir", "input_data_config", "input_dir", "instance_groups",
    "instance_groups_dict", "is_hetero", "is_master", "is_modelparallel_enabled",
    "is_smddpmprun_installed", "is_smddprun_installed", "job_name", "log_level",
    "master_hostname", "model_dir", "module_dir", "module_name", "network_interface_name",
    "num_cpus", "num_gpus", "num_neurons", "output_data_dir", "output_dir",
    "output_intermediate_dir", "resource_config", "topology", "user_entry_point",
}
# reference §2.3: every SM_* variable the toolkit exports (SM_TOPOLOGY only on GB200)
TOOLKIT_ENV = {
    "SM_HOSTS", "SM_CURRENT_HOST", "SM_CURRENT_INSTANCE_TYPE", "SM_CURRENT_INSTANCE_GROUP",
    "SM_CURRENT_INSTANCE_GROUP_HOSTS", "SM_INSTANCE_GROUPS", "SM_INSTANCE_GROUPS_DICT",
    "SM_DISTRIBUTION_INSTANCE_GROUPS", "SM_IS_HETERO", "SM_NETWORK_INTERFACE_NAME", "SM_HPS",
    "SM_USER_ARGS", "SM_USER_ENTRY_POINT", "SM_MODULE_NAME", "SM_MODULE_DIR",
    "SM_FRAMEWORK_MODULE", "SM_FRAMEWORK_PARAMS", "SM_CHANNELS", "SM_INPUT_DIR",
    "SM_INPUT_CONFIG_DIR", "SM_INPUT_DATA_CONFIG", "SM_RESOURCE_CONFIG", "SM_MODEL_DIR",
    "SM_OUTPUT_DIR", "SM_OUTPUT_DATA_DIR", "SM_OUTPUT_INTERMEDIATE_DIR", "SM_NUM_CPUS",
    "SM_NUM_GPUS", "SM_NUM_NEURONS", "SM_LOG_LEVEL", "SM_TRAINING_ENV",
}
# reference §2.4: what V3 ModelTrainer's driver adds
V3_ENV = {"SM_INPUT_DATA_DIR", "SM_OUTPUT_FAILURE", "SM_MASTER_ADDR", "SM_MASTER_PORT",
          "SM_SOURCE_DIR", "SM_ENTRY_SCRIPT", "SM_HOST_COUNT", "SM_CURRENT_HOST_RANK"}


def two_host_run(host: str = "algo-2", **overrides) -> ScriptRun:
    fields = dict(job_name="job-1", cluster=Cluster("ml.m5.xlarge", 2), current_host=host,
                  entry_point="train.py", hyperparameters={"lr": 0.1, "epochs": 3},
                  channels={"train": "text/csv", "validation": None}, num_cpus=4)
    return ScriptRun(**{**fields, **overrides})


# ---- Layout ---------------------------------------------------------------------------

def test_layout_defaults_to_opt_ml():
    lay = Layout()
    assert (lay.input_dir, lay.config_dir, lay.data_dir) == (
        PurePosixPath("/opt/ml/input"), PurePosixPath("/opt/ml/input/config"),
        PurePosixPath("/opt/ml/input/data"))
    assert lay.channel_dir("train") == PurePosixPath("/opt/ml/input/data/train")
    assert lay.model_dir == PurePosixPath("/opt/ml/model")
    assert (lay.output_dir, lay.output_data_dir, lay.intermediate_dir) == (
        PurePosixPath("/opt/ml/output"), PurePosixPath("/opt/ml/output/data"),
        PurePosixPath("/opt/ml/output/intermediate"))
    assert (lay.failure_file, lay.success_file) == (
        PurePosixPath("/opt/ml/output/failure"), PurePosixPath("/opt/ml/output/success"))
    assert lay.checkpoints_dir == PurePosixPath("/opt/ml/checkpoints")
    assert lay.code_dir == PurePosixPath("/opt/ml/code")


def test_a_layout_rooted_elsewhere_keeps_every_path_under_its_root(tmp_path):
    root = tmp_path / "opt/ml"
    lay = Layout(root)
    assert lay.output_data_dir == root / "output" / "data"
    assert lay.channel_dir("val") == root / "input" / "data" / "val"
    assert lay.checkpoints_dir == root / "checkpoints"
    assert lay.directories() == [root / "input/config", root / "input/data", root / "model",
                                 root / "output/data", root / "output/intermediate",
                                 root / "checkpoints", root / "code"]


# ---- resourceconfig.json / inputdataconfig.json ---------------------------------------

def test_resource_config_is_what_the_service_writes_for_one_group():
    config = Cluster("ml.m5.xlarge", 2).resource_config("algo-2")
    assert config == {
        "current_host": "algo-2",
        "current_instance_type": "ml.m5.xlarge",
        "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1", "algo-2"],
        "instance_groups": [{"instance_group_name": "homogeneousCluster",
                             "instance_type": "ml.m5.xlarge", "hosts": ["algo-1", "algo-2"]}],
        "network_interface_name": "eth0",
    }
    # the service's key order (reference §1.4), so the file reads the same
    assert list(config) == ["current_host", "current_instance_type", "current_group_name",
                            "hosts", "instance_groups", "network_interface_name"]
    assert "current_instance_group" not in config  # the toolkit reads current_group_name


def test_a_single_host_cluster_and_another_network_interface():
    cluster = Cluster("local", network_interface="ethwe")
    assert cluster.hosts == ["algo-1"]
    config = cluster.resource_config("algo-1")
    assert (config["hosts"], config["network_interface_name"], config["current_instance_type"]
            ) == (["algo-1"], "ethwe", "local")


def test_input_data_config_has_one_file_mode_entry_per_channel():
    assert contract.input_data_config({"train": "text/csv", "test": None}) == {
        "train": {"ContentType": "text/csv", "TrainingInputMode": "File",
                  "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
        "test": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                 "RecordWrapperType": "None"},
    }
    assert contract.input_data_config({}) == {}


# ---- ScriptRun: config files, SM_TRAINING_ENV, environment ---------------------------

def test_config_files_are_the_three_documents():
    run = two_host_run(hyperparameters={"lr": 0.1, "name": "adam", "one": "1", "amp": True})
    files = run.config_files()
    assert list(files) == ["hyperparameters.json", "inputdataconfig.json",
                           "resourceconfig.json"]
    assert files["hyperparameters.json"] == {"lr": "0.1", "name": "adam", "one": "1",
                                             "amp": "true"}  # V3's way (the default)
    v2 = two_host_run(hyperparameters={"name": "adam", "one": "1"}, hp_style="v2")
    assert v2.config_files()["hyperparameters.json"] == {"name": '"adam"', "one": '"1"'}
    assert files["inputdataconfig.json"] == contract.input_data_config(run.channels)
    assert files["resourceconfig.json"] == run.cluster.resource_config("algo-2")


def test_config_files_are_written_byte_for_byte_as_json_dumps_makes_them(tmp_path: Path):
    run = two_host_run(hyperparameters={"lr": 0.1, "note": "ünï ✓", "cfg": {"a": [1, None]}})
    target = tmp_path / "input" / "config"
    contract.write_config_files(run, target)  # creates missing parents
    assert sorted(p.name for p in target.iterdir()) == [
        "hyperparameters.json", "inputdataconfig.json", "resourceconfig.json"]
    for name, document in run.config_files().items():
        data = (target / name).read_bytes()
        assert data == json.dumps(document, indent=2).encode("ascii")
        assert json.loads(data) == document
    assert hp.decode(json.loads((target / "hyperparameters.json").read_bytes())) == \
        run.hyperparameters


def test_training_env_holds_exactly_the_toolkits_37_properties():
    env = two_host_run(hp_style="v2").training_env()
    assert set(env) == TRAINING_ENV_KEYS and len(env) == 37
    v3 = two_host_run().training_env()  # V3's driver keys as well, with V3's values
    assert set(v3) == TRAINING_ENV_KEYS | {"master_addr", "master_port", "input_data_dir"}
    assert (v3["master_addr"], v3["master_port"], v3["input_data_dir"]) == (
        "algo-1", 7777, "/opt/ml/input/data")
    assert env["hyperparameters"] == {"lr": 0.1, "epochs": 3}  # typed, not strings
    assert env["channel_input_dirs"] == {"train": "/opt/ml/input/data/train",
                                         "validation": "/opt/ml/input/data/validation"}
    assert (env["current_host"], env["master_hostname"], env["is_master"]) == (
        "algo-2", "algo-1", False)
    assert env["module_name"] == "train" and env["user_entry_point"] == "train.py"
    assert env["module_dir"] == "/opt/ml/code"
    assert env["resource_config"] == two_host_run().cluster.resource_config("algo-2")
    assert env["input_data_config"] == contract.input_data_config(two_host_run().channels)
    assert (env["model_dir"], env["output_data_dir"], env["input_config_dir"]) == (
        "/opt/ml/model", "/opt/ml/output/data", "/opt/ml/input/config")
    assert env["additional_framework_parameters"] == {} and env["distribution_hosts"] == []
    assert two_host_run("algo-1").training_env()["is_master"] is True


def test_environment_is_the_union_of_toolkit_and_v3_variables():
    env = two_host_run().environment()
    assert set(env) >= TOOLKIT_ENV | V3_ENV
    assert all(isinstance(v, str) for v in env.values())
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert env["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert env["SM_CHANNEL_VALIDATION"] == "/opt/ml/input/data/validation"
    assert env["SM_CHANNELS"] == '["train","validation"]'
    assert env["SM_HOSTS"] == '["algo-1","algo-2"]'
    assert env["SM_CURRENT_HOST"] == "algo-2"
    assert env["SM_USER_ARGS"] == '["--lr","0.1","--epochs","3"]'
    assert env["SM_HP_LR"] == "0.1" and env["SM_HP_EPOCHS"] == "3"
    assert json.loads(env["SM_HPS"]) == {"lr": 0.1, "epochs": 3}
    assert env["SM_NUM_CPUS"] == "4" and env["SM_NUM_GPUS"] == "0"
    assert env["SM_NUM_NEURONS"] == "0" and env["SM_LOG_LEVEL"] == "20"
    assert env["SM_IS_HETERO"] == "false" and env["SM_FRAMEWORK_MODULE"] == ""
    assert env["SM_MODULE_NAME"] == "train" and env["SM_USER_ENTRY_POINT"] == "train.py"
    assert env["SM_INPUT_DATA_CONFIG"] == hp.env_value(contract.input_data_config(
        {"train": "text/csv", "validation": None}))
    assert json.loads(env["SM_RESOURCE_CONFIG"])["current_host"] == "algo-2"
    # V3 ModelTrainer's driver variables
    assert (env["SM_MASTER_ADDR"], env["SM_MASTER_PORT"]) == ("algo-1", "7777")
    assert (env["SM_HOST_COUNT"], env["SM_CURRENT_HOST_RANK"]) == ("2", "1")
    assert env["SM_OUTPUT_FAILURE"] == "/opt/ml/output/failure"
    assert (env["SM_SOURCE_DIR"], env["SM_ENTRY_SCRIPT"]) == ("/opt/ml/code", "train.py")
    assert env["TRAINING_JOB_NAME"] == "job-1"
    assert "MASTER_ADDR" not in env and "SM_DISTRIBUTED_CONFIG" not in env  # not distributed
    assert "AWS_REGION" not in env


@pytest.mark.parametrize("style", ["v3", "v2"])
def test_sm_training_env_is_valid_json_of_the_training_env(style):
    run = two_host_run(hyperparameters={"layers": [64, 32], "amp": False, "name": "adam"},
                       hp_style=style)
    env = run.environment()
    assert json.loads(env["SM_TRAINING_ENV"]) == run.training_env()
    assert json.loads(env["SM_TRAINING_ENV"])["hyperparameters"]["amp"] is False  # §7 #15
    assert env["SM_TRAINING_ENV"] == (json.dumps(run.training_env()) if style == "v3" else
                                      json.dumps(run.training_env(), sort_keys=True,
                                                 separators=(",", ":")))


def test_hyperparameters_reach_the_environment_as_each_style_spells_them():
    hps = {"learning-rate": 0.01, "cfg": {"b": 1}}
    v3 = two_host_run(hyperparameters=hps).environment()
    assert v3["SM_HP_LEARNING_RATE"] == "0.01" and "SM_HP_LEARNING-RATE" not in v3
    assert v3["SM_HP_CFG"] == '{"b": 1}'
    v2 = two_host_run(hyperparameters=hps, hp_style="v2").environment()
    assert v2["SM_HP_LEARNING-RATE"] == "0.01" and "SM_HP_LEARNING_RATE" not in v2
    assert v2["SM_HP_CFG"] == '{"b":1}'


def test_gpus_cpus_and_log_level_are_described():
    env = two_host_run(num_gpus=2, num_cpus=8, log_level=10).environment()
    assert (env["SM_NUM_GPUS"], env["SM_NUM_CPUS"], env["SM_LOG_LEVEL"]) == ("2", "8", "10")
    assert json.loads(env["SM_TRAINING_ENV"])["num_gpus"] == 2


def test_every_path_variable_points_into_a_local_layout(tmp_path):
    root = tmp_path / "opt/ml"
    run = two_host_run(layout=Layout(root))
    env = run.environment()
    paths = {k: v for k, v in env.items()
             if k.endswith(("_DIR", "_FAILURE")) or k.startswith("SM_CHANNEL_")}
    assert {"SM_MODEL_DIR", "SM_OUTPUT_DATA_DIR", "SM_CHANNEL_TRAIN", "SM_MODULE_DIR",
            "SM_SOURCE_DIR", "SM_OUTPUT_FAILURE", "SM_INPUT_CONFIG_DIR"} <= set(paths)
    assert all(p.startswith(str(root) + "/") for p in paths.values())
    assert env["SM_MODEL_DIR"] == str(root / "model")
    assert env["SM_CHANNEL_TRAIN"] == str(root / "input/data/train")
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["module_dir"] == str(root / "code")
    assert training_env["channel_input_dirs"]["train"] == str(root / "input/data/train")


def test_a_given_module_dir_is_reported_as_is():
    env = two_host_run(module_dir="s3://b/job/source/sourcedir.tar.gz").environment()
    assert env["SM_MODULE_DIR"] == "s3://b/job/source/sourcedir.tar.gz"


def test_region_sets_both_aws_variables():
    env = two_host_run(region="eu-west-1").environment()
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"


# ---- the command ------------------------------------------------------------------------

def test_python_entry_point_runs_with_the_styles_arguments():
    assert two_host_run().command("/usr/bin/python3") == [
        "/usr/bin/python3", "train.py", "--lr", "0.1", "--epochs", "3"]
    assert two_host_run(hp_style="v2").command("/usr/bin/python3") == [
        "/usr/bin/python3", "train.py", "--epochs", "3", "--lr", "0.1"]
    assert two_host_run(hyperparameters={}).command() == ["python3", "train.py"]


def test_torchrun_on_one_host_needs_no_rendezvous_address():
    run = ScriptRun(job_name="j", cluster=Cluster("ml.g5.12xlarge"), current_host="algo-1",
                    entry_point="train.py", hyperparameters={"lr": 0.1}, processes_per_host=4)
    assert run.command("python") == [
        "python", "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=4",
        "train.py", "--lr", "0.1"]
    env = run.environment()
    assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("algo-1", "7777")
    assert json.loads(env["SM_FRAMEWORK_PARAMS"]) == {
        "sagemaker_mpi_num_of_processes_per_host": 4,
        "sagemaker_torch_distributed_enabled": True}


def test_torchrun_on_several_hosts_names_algo_1_as_master():
    run = two_host_run(processes_per_host=4)
    assert run.command("python") == [
        "python", "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=4",
        "--master_addr=algo-1", "--master_port=7777", "--node_rank=1",
        "train.py", "--lr", "0.1", "--epochs", "3"]
    env = run.environment()
    assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("algo-1", "7777")
    assert env["SM_DISTRIBUTED_CONFIG"] == '{"process_count_per_node": 4, "smp": null}'
    assert run.training_env()["distribution_hosts"] == ["algo-1", "algo-2"]
    assert two_host_run("algo-1", processes_per_host=4).command()[7] == "--node_rank=0"


def test_a_driver_runs_instead_of_the_entry_script_with_v3s_layout_and_variables():
    launch = distribution.launch_of("./custom_drivers/driver.py",
                                    {"process_count_per_node": 2, "note": "x"}, None)
    run = ScriptRun.launched(
        launch, job_name="job-1", cluster=Cluster("ml.m5.xlarge", 2), current_host="algo-2",
        entry_point="entry_script.py", hyperparameters={"epochs": 3},
        channels={"train": None}, num_cpus=4)
    assert run.command("python3") == [
        "python3", "/opt/ml/input/data/sm_drivers/distributed_drivers/driver.py"]
    env = run.environment()
    assert {key: env[key] for key in (
        "SM_DISTRIBUTED_DRIVER_DIR", "SM_DISTRIBUTED_CONFIG", "SM_SOURCE_DIR", "SM_ENTRY_SCRIPT",
        "SM_MODULE_DIR", "SM_CHANNELS", "SM_CHANNEL_CODE", "SM_CHANNEL_SM_DRIVERS", "SM_HPS",
        "SM_HOST_COUNT", "SM_CURRENT_HOST_RANK", "SM_MASTER_ADDR", "SM_MASTER_PORT")} == {
        "SM_DISTRIBUTED_DRIVER_DIR": "/opt/ml/input/data/sm_drivers/distributed_drivers",
        "SM_DISTRIBUTED_CONFIG": '{"process_count_per_node": 2, "note": "x"}',
        "SM_SOURCE_DIR": "/opt/ml/input/data/code", "SM_ENTRY_SCRIPT": "entry_script.py",
        "SM_MODULE_DIR": "/opt/ml/input/data/code",
        "SM_CHANNELS": '["code","sm_drivers","train"]',
        "SM_CHANNEL_CODE": "/opt/ml/input/data/code",
        "SM_CHANNEL_SM_DRIVERS": "/opt/ml/input/data/sm_drivers", "SM_HPS": '{"epochs": 3}',
        "SM_HOST_COUNT": "2", "SM_CURRENT_HOST_RANK": "1", "SM_MASTER_ADDR": "algo-1",
        "SM_MASTER_PORT": "7777"}
    assert "MASTER_ADDR" not in env  # torchrun's: a driver sets up its own launch
    assert sorted(run.config_files()["inputdataconfig.json"]) == ["code", "sm_drivers", "train"]


@pytest.mark.parametrize(("kind", "config", "processes", "expected"), [
    ("torchrun", None, None, {"process_count_per_node": 1, "smp": None}),
    ("torchrun", {"process_count_per_node": 4}, None, {"process_count_per_node": 4,
                                                        "smp": None}),
    ("mpi", None, 2, {"process_count_per_node": 2, "mpi_additional_options": None}),
    ("mpi", {"mpi_additional_options": ["-x", "NCCL_DEBUG"]}, None,
     {"process_count_per_node": None, "mpi_additional_options": ["-x", "NCCL_DEBUG"]}),
    ("d/driver.py", {"anything": [1]}, 3, {"anything": [1], "process_count_per_node": 3}),
], ids=["torchrun", "torchrun-config", "mpi", "mpi-options", "driver"])
def test_each_launch_has_the_config_v3_would_write(kind, config, processes, expected):
    launch = distribution.launch_of(kind, config, processes)
    assert launch.config == expected
    assert launch.driver == {"torchrun": None, "mpi": "mpi_driver.py"}.get(kind, "driver.py")


def test_a_program_entry_point_gets_its_arguments_without_a_shell_parsing_them():
    run = two_host_run(entry_point="launch", hyperparameters={"msg": "a b; rm -rf /", "n": 2})
    assert run.command() == ["/bin/sh", "-c", 'exec "./$0" "$@"', "launch",
                             "--msg", "a b; rm -rf /", "--n", "2"]
    assert run.environment()["SM_MODULE_NAME"] == "launch"
    assert contract.needs_exec_bit("launch") and not contract.needs_exec_bit("run.sh")


def test_a_shell_entry_script_runs_with_bash_and_its_arguments_as_parameters():
    run = two_host_run(entry_point="run.sh", hyperparameters={"msg": "a b; rm -rf /"})
    argv = run.command()
    assert argv[:2] == ["/bin/sh", "-c"] and "exec bash" in argv[2]
    assert argv[3:] == ["sh", "run.sh", "--msg", "a b; rm -rf /"]  # parameters, not script


def test_a_command_runs_in_a_shell_with_no_arguments_appended():
    # V3's SourceCode(command=...): hyperparameters reach it only through SM_HPS/SM_HP_*
    run = two_host_run(shell_command="python train.py --epochs 3 && echo done")
    assert run.command()[-2:] == ["-c", "python train.py --epochs 3 && echo done"]
    assert "--lr" not in run.command()


def test_render_command_quotes_for_display():
    assert contract.render_command(["python3", "train.py", "--msg", "a b"]) == \
        "python3 train.py --msg 'a b'"


def test_a_host_run_reads_back_from_the_config_files_the_service_writes(tmp_path):
    from sm_notebook.contract import run_from_config, write_config_files

    written = ScriptRun(job_name="job-1", cluster=Cluster("ml.m5.xlarge", 2),
                        current_host="algo-2", entry_point="fit.py",
                        hyperparameters={"lr": 0.1, "layers": [64, 32], "name": "a b"},
                        channels={"train": "text/csv", "test": None}, processes_per_host=2,
                        hp_style="v2")
    write_config_files(written, tmp_path)
    stored = json.loads((tmp_path / "hyperparameters.json").read_text())
    stored.update({"sagemaker_program": '"fit.py"', "sagemaker_submit_directory": '"s3://b/k"',
                   "sagemaker_torch_distributed_enabled": "true",
                   "sagemaker_mpi_num_of_processes_per_host": "2"})
    (tmp_path / "hyperparameters.json").write_text(json.dumps(stored))

    read = run_from_config(tmp_path, "job-1", num_cpus=4, region="eu-west-1")

    expected = ScriptRun(
        job_name="job-1", cluster=Cluster("ml.m5.xlarge", 2), current_host="algo-2",
        entry_point="fit.py", hyperparameters={"lr": 0.1, "layers": [64, 32], "name": "a b"},
        channels={"train": "text/csv", "test": None}, processes_per_host=2, num_cpus=4,
        region="eu-west-1", hp_style="v2")
    assert read.environment() == expected.environment()
    assert read.command("python3") == expected.command("python3")


def test_a_v3_host_run_reads_back_with_the_launch_settings(tmp_path):
    # under v3 no sagemaker_* keys travel in the hyperparameters: the launch file says
    from sm_notebook.contract import run_from_config, write_config_files

    written = ScriptRun(job_name="job-1", cluster=Cluster("ml.m5.xlarge", 2),
                        current_host="algo-1", entry_point="fit.sh",
                        hyperparameters={"n": "5", "s": "a b", "d": {"k": [1]}})
    write_config_files(written, tmp_path)
    launch = {"entry_point": "fit.sh", "hp_style": "v3", "processes_per_host": None,
              "command": None}
    read = run_from_config(tmp_path, "job-1", num_cpus=1, launch=launch)
    assert read.environment() == written.environment()
    assert read.command() == written.command()
