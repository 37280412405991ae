"""The SDKs' own examples run unchanged, in every mode and kind of image (issue 10).

Each test runs an example's own script (tests/data/aws_examples) or, where the example needs
what cannot be had here (a package download inside a container, an AWS-only image), our own
script doing the same thing.  Real parts: the IPython shell, real processes and the Docker
Engine with the test images of tests/images/build.sh.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from sm_notebook.errors import JobFailedError

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws_examples"
PLAIN, TOOLKIT = "smnb-test/sklearn:1", "smnb-test/toolkit:2"
ROLE = "arn:aws:iam::123456789012:role/R"
RUNS = {"local": "", "plain": f"--mode container --image {PLAIN}",
        "toolkit": f"--mode container --image {TOOLKIT}"}

# the notebook's EXPECTED_HYPERPARAMETERS, which its script checks argument by argument
EXPECTED = {"integer": 1, "boolean": True, "float": 3.14, "string": "Hello World",
            "list": [1, 2, 3], "dict": {"string": "value", "integer": 3, "float": 3.14,
                                        "list": [1, 2, 3], "dict": {"key": "value"},
                                        "boolean": True}}


@pytest.fixture
def v3_example(run_dir: Path) -> Path:
    """The notebook's source folder: its train.py and the two hyperparameter files."""
    source = run_dir / "source"
    source.mkdir()
    shutil.copy(EXAMPLES / "v3_hyperparameters" / "train.py", source / "train.py")
    (source / "hyperparameters.json").write_text(json.dumps(EXPECTED, indent=2))
    (source / "hyperparameters.yaml").write_text(
        yaml.dump(EXPECTED, default_flow_style=False, indent=2))
    return source


def _hps(source: str, ip) -> str:
    if source == "dict":
        ip.user_ns["expected_hps"] = EXPECTED
        return "$expected_hps"
    return f"source/hyperparameters.{source}"


@pytest.mark.parametrize("run", list(RUNS))
@pytest.mark.parametrize("source", ["json", "yaml", "dict"])
def test_the_v3_hyperparameter_example_passes_its_own_checks(ip, v3_example, run, source):
    ip.run_line_magic("sm_train", f"job --source-dir source --entry-script train.py "
                      f"--hps {_hps(source, ip)} {RUNS[run]} --wait")
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert "All hyperparameter validations passed!" in list(job.logs().message)
    with tarfile.open(job.model_artifacts) as tar:
        results = json.load(tar.extractfile("results.json"))
    assert results == {"status": "success", "hyperparameters": EXPECTED}


def test_under_v2_the_example_fails_as_it_does_with_the_v2_toolkit(ip, v3_example):
    # the toolkit passes True, a dict as k=v pairs: the V3 script's json.loads refuses them
    with pytest.raises(JobFailedError):
        ip.run_line_magic("sm_train", f"job --source-dir source --hps "
                          f"source/hyperparameters.json {RUNS['toolkit']} --hp-style v2 --wait")
    job = ip.user_ns["job"]
    # the toolkit's own reason, with the script's error where the toolkit left it empty
    assert job.failure_reason.startswith("ExecuteUserScriptError:\nExitCode 2\nErrorMessage "
                                         '"train.py: error: argument --boolean: invalid '
                                         "<lambda> value: 'True'\"")
    assert any("argument --boolean: invalid <lambda> value: 'True'" in line
               for line in job.logs().message)
    assert "Invoking script with the following command:" in list(job.logs().message)


@pytest.mark.parametrize("run", ["local", "plain"])
def test_hyperparameters_json_holds_strings_as_they_are_for_a_program_reading_it(
        ip, run_dir, run):
    # the bring-your-own example's `train` reads hyperparameters.json itself and calls int()
    program = run_dir / "byo" / "train"
    program.parent.mkdir()
    program.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os\n"
        "config = os.environ.get('SM_INPUT_CONFIG_DIR', '/opt/ml/input/config')\n"
        "params = json.load(open(os.path.join(config, 'hyperparameters.json')))\n"
        "max_leaf_nodes = int(params['max_leaf_nodes'])\n"
        "print(f'max_leaf_nodes={max_leaf_nodes}')\n")
    program.chmod(0o644)  # as a file often arrives: not executable
    ip.user_ns["params"] = {"max_leaf_nodes": "5"}
    ip.run_line_magic("sm_train", f"job --source-dir byo --entry-script train --hps $params "
                      f"{RUNS[run]} --wait")
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert "max_leaf_nodes=5" in list(job.logs().message)


# ---- entry programs other than .py ---------------------------------------------------

SHELL_CELL = """#!/bin/bash
set -euo pipefail
echo "args: $*"
echo "epochs from the environment: $SM_HP_EPOCHS"
echo "shell: ${BASH_VERSION:+bash}"
echo done > "$SM_MODEL_DIR/model.txt"
"""


@pytest.mark.parametrize("run", ["local", "plain", "toolkit"])
def test_the_cell_may_be_a_shell_script(ip, run):
    ip.run_cell_magic("sm_train", f"job --entry-script train.sh --hp epochs=3 --hp 'msg=a b' "
                      f"{RUNS[run]} --wait", SHELL_CELL)
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    lines = list(job.logs().message)
    assert "args: --epochs 3 --msg a b" in lines
    assert "epochs from the environment: 3" in lines
    assert "shell: bash" in lines  # run with bash, not sh


@pytest.mark.parametrize("run", ["local", "plain"])
def test_shell_scripts_and_programs_from_the_source_dir_run_without_an_exec_bit(
        ip, run_dir, run):
    src = run_dir / "src"
    src.mkdir()
    (src / "hello.sh").write_text('echo "hello from sh: $1 $2"\n')  # no shebang, no +x
    (src / "train").write_text("#!/bin/sh\necho \"train program: $*\"\n")
    for name in ("hello.sh", "train"):
        (src / name).chmod(0o644)
    for entry, expected in (("hello.sh", "hello from sh: --n 1"),
                            ("train", "train program: --n 1")):
        ip.run_line_magic("sm_train", f"job --source-dir src --entry-script {entry} --hp n=1 "
                          f"{RUNS[run]} --wait")
        job = ip.user_ns["job"]
        assert job.status == "Completed", job.failure_reason
        assert expected in list(job.logs().message)


@pytest.mark.parametrize("run", ["local", "plain", "toolkit"])
def test_a_command_runs_in_the_code_directory_with_the_full_environment(ip, run_dir, run):
    src = run_dir / "src"
    src.mkdir()
    (src / "fit.py").write_text("import os, sys\nprint('fit', sys.argv[1:], "
                                "os.environ['SM_HP_LR'], os.path.basename(os.getcwd()))\n")
    ip.run_line_magic("sm_train", "job --source-dir src --hp lr=0.1 "
                      "--command 'python3 fit.py --epochs 2 && echo \"hps: $SM_HPS\"' "
                      f"{RUNS[run]} --wait")
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    lines = list(job.logs().message)
    assert "fit ['--epochs', '2'] 0.1 code" in lines  # no hyperparameters appended (as V3)
    assert 'hps: {"lr": 0.1}' in lines


def test_a_command_with_a_cell_runs_the_cell_as_its_script(ip):
    ip.run_cell_magic("sm_train", "job --command 'python3 train.py twice; python3 train.py' "
                      "--wait", "import sys\nprint('cell ran', sys.argv[1:])\n")
    job = ip.user_ns["job"]
    assert job.status == "Completed", job.failure_reason
    assert list(job.logs().message) == ["cell ran ['twice']", "cell ran []"]


def test_the_line_form_needs_something_to_run(ip):
    with pytest.raises(UsageError, match=r"^cell: no code to run.*--command 'CMD'.*--source-dir"):
        ip.run_line_magic("sm_train", "job --wait")
    assert "job" not in ip.user_ns


# ---- values SageMaker accepts --------------------------------------------------------

def test_a_libsvm_channel_and_a_metric_name_with_spaces_run(ip, run_dir):
    # AWS's XGBoost examples use libsvm; the PyTorch tuning example's metric has spaces
    (run_dir / "train").mkdir()
    (run_dir / "train" / "part.libsvm").write_text("1 1:0.5 2:0.25\n")
    cell = ("import json, os\n"
            "config = json.load(open(os.path.join(os.environ['SM_INPUT_CONFIG_DIR'], "
            "'inputdataconfig.json')))\n"
            "print('content type', config['train']['ContentType'])\n"
            "print('Test set: Average loss: 0.0345, Accuracy: 9890/10000 (99%)')\n")
    ip.run_cell_magic("sm_train", "job --input train=train --content-type train=libsvm "
                      r"--metric 'average test loss=Test set: Average loss: ([0-9\.]+)' --wait",
                      cell)
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert "content type libsvm" in list(job.logs().message)
    metrics = job.metrics()
    assert list(metrics.metric) == ["average test loss"]
    assert list(metrics.value) == [0.0345]


# ---- a base job name SageMaker would refuse -------------------------------------------

@pytest.mark.parametrize("run", ["local", "plain"])
def test_a_base_job_name_with_underscores_is_made_valid_and_said_in_one_line(ip, capsys, run):
    # V3's local example: base_job_name="local_mode_single_container_local_data"
    ip.run_cell_magic("sm_train", "job --base-job-name local_mode_single_container_local_data "
                      f"{RUNS[run]} --wait", "print('ok')\n")
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert job.name.startswith("local-mode-single-container-local-data-")
    notes = [line for line in capsys.readouterr().out.splitlines() if "--base-job-name" in line]
    assert notes == ["note: --base-job-name 'local_mode_single_container_local_data' is not a "
                     "valid SageMaker job name; this job is named "
                     "local-mode-single-container-local-data-<timestamp> (sagemaker mode "
                     "would refuse it)"]


def test_the_same_base_job_name_is_refused_in_sagemaker_mode_saying_why(ip, jobs_dir):
    with pytest.raises(UsageError, match=r"^--base-job-name: invalid base name "
                       r"'local_mode_single_container_local_data': SageMaker job names allow "
                       r"only letters, digits and hyphens, starting with a letter or digit "
                       r"\(expected .* such as "
                       r"local-mode-single-container-local-data\)$"):
        ip.run_cell_magic("sm_train", "job --mode sagemaker --image img:1 --base-job-name "
                          "local_mode_single_container_local_data --wait", "print('ok')\n")
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


# ---- an image with a `train` of its own, and no code of ours ---------------------------

BYO = "smnb-test/byo:2"


@pytest.mark.parametrize(("style", "stored"), [
    ("v3", '{"n":"5","opt":"adam","flag":"true"}'),
    ("v2", '{"n":"5","opt":"adam","flag":"True"}'),  # V2's generic Estimator: str()
])
def test_an_image_of_its_own_runs_with_no_code_as_v2s_generic_estimator(ip, style, stored):
    ip.run_line_magic("sm_train", f"job --mode container --image {BYO} --hp n=5 --hp opt=adam "
                      f"--hp flag=true --hp-style {style} --wait")
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert f"train: hyperparameters {stored}" in list(job.logs().message)  # no sagemaker_*


def test_an_image_without_a_train_of_its_own_still_needs_code(ip, jobs_dir):
    with pytest.raises(UsageError, match=r"^cell: no code to run"):
        ip.run_line_magic("sm_train", f"job --mode container --image {PLAIN} --wait")
    with pytest.raises(UsageError, match=r"^--hp-style: unknown value 'v9'"):  # checked first
        ip.run_line_magic("sm_train", f"job --mode container --image {BYO} --hp-style v9")
    assert "job" not in ip.user_ns


def test_a_long_base_job_name_is_cut_as_the_sdks_cut_it_and_a_trailing_hyphen_is_fine(
        ip, capsys):
    with capture_output() as out:
        ip.run_cell_magic("sm_train", f"job --mode sagemaker --image img:1 --region us-east-1 "
                          f"--role {ROLE} --base-job-name {'x' * 45} --dry-run", "print(1)\n")
    assert f"note: --base-job-name is cut to 39 characters to leave room for the timestamp, " \
           f"as the SDKs do: {'x' * 39}-<timestamp>" in out.stdout
    ip.run_cell_magic("sm_train", "job --base-job-name my-job- --wait", "print(1)\n")
    assert ip.user_ns["job"].name.startswith("my-job-2")
    assert "--base-job-name" not in capsys.readouterr().out  # nothing to say: it is valid


# ---- image names ---------------------------------------------------------------------

def test_in_container_mode_an_alias_is_awss_image_for_the_region(ip, capsys):
    ip.run_cell_magic("sm_train", "job --mode container --image pytorch:2.0.0 --region "
                      "us-west-2 --dry-run", "print(1)\n")
    out = capsys.readouterr().out
    uri = "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0.0-cpu-py310"
    assert f"    {uri} python3 train.py" in out  # not Docker Hub's "pytorch"


def test_in_container_mode_an_alias_without_a_region_says_so(ip, jobs_dir, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(UsageError, match=r"^--image: pytorch:2\.0\.0 stands for AWS's image in "
                       r"a region, and no region is set"):
        ip.run_cell_magic("sm_train", "job --mode container --image pytorch:2.0.0 --dry-run",
                          "print(1)\n")


@pytest.mark.parametrize("image", ["pytorch:", ":1", "PyTorch:2.0", "a b"])
def test_an_image_name_docker_cannot_use_is_one_line(ip, jobs_dir, image):
    with pytest.raises(UsageError, match=r"^--image: .* is not an image reference: .*"
                       r"\(expected NAME\[:TAG\]"):
        ip.run_cell_magic("sm_train", f"job --mode container --image '{image}' --wait",
                          "print(1)\n")
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_attach_in_the_same_kernel_to_a_finished_job_shows_its_final_state(ip, capsys):
    ip.run_cell_magic("sm_train", "job --wait", "print('done')\n")
    name = ip.user_ns["job"].name
    capsys.readouterr()
    again = ip.run_line_magic("sm_attach", name)
    assert again is ip.user_ns["job"]
    assert f"attached to a finished job: {name} · local · Completed" in capsys.readouterr().out
