"""The magics in a real IPython shell: loading, configuration, binding, dry runs, listing."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from sm_notebook.backends.sagemaker.request import create_training_job_request, validate_request
from sm_notebook.spec import TrainingSpec

HEAVY = ("boto3", "botocore", "docker", "plotly", "pandas", "ipywidgets", "numpy",
         "matplotlib")


def test_load_ext_imports_no_heavy_dependency():
    code = ("import sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
            "ip = InteractiveShell.instance()\nbefore = set(sys.modules)\n"
            "ip.run_line_magic('load_ext', 'sm_notebook')\n"
            "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            f"print(sorted(m for m in {HEAVY!r} if m in new))\n"
            "print(sorted(ip.magics_manager.magics['cell']).count('sm_train'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["[]", "1"]


def test_unload_removes_the_magics_and_reload_restores_them(ip):
    ip.run_line_magic("unload_ext", "sm_notebook")
    try:
        assert "sm_train" not in ip.magics_manager.magics["cell"]
        assert "sm_jobs" not in ip.magics_manager.magics["line"]
    finally:
        ip.run_line_magic("load_ext", "sm_notebook")
    assert "sm_train" in ip.magics_manager.magics["cell"]


def test_the_job_is_bound_at_once_and_the_magic_returns_before_it_ends(ip):
    started = time.monotonic()
    result = ip.run_cell_magic("sm_train", "handle", "import time\ntime.sleep(1)\nprint('end')\n")
    assert result is None
    assert time.monotonic() - started < 1.0
    job = ip.user_ns["handle"]
    assert job.status == "InProgress" and not job.done
    assert job.wait(timeout=30) == "Completed"
    assert job.recent_lines()[-1].message == "end"


def test_expansion_of_variables_and_expressions_keeps_types(ip):
    ip.user_ns.update(lr=0.01, layers=[64, 32], size="large", n=3)
    job_line = ("job --hp lr={lr*10} --hp layers=$layers --hp name=model-$size --hp n=$n "
                "--hp literal='$size {n}' --job-name run-$n --wait")
    ip.run_cell_magic("sm_train", job_line, "import os\nprint(os.environ['SM_HPS'])\n")
    job = ip.user_ns["job"]
    assert job.name == "run-3"
    assert json.loads(job.recent_lines()[0].message) == {
        "lr": 0.1, "layers": [64, 32], "name": "model-large", "n": 3, "literal": "$size {n}"}


def test_the_cell_body_is_never_expanded(ip):
    ip.user_ns["secret_value"] = "should-not-appear"
    ip.run_cell_magic("sm_train", "job --wait", "x = '{secret_value} $secret_value'\nprint(x)\n")
    assert ip.user_ns["job"].recent_lines()[0].message == "{secret_value} $secret_value"


def test_config_defaults_apply_and_jobs_dir_is_configurable(ip, tmp_path):
    ip.run_line_magic("config", f"SmTrainMagics.jobs_dir = {str(tmp_path / 'elsewhere')!r}")
    try:
        ip.run_cell_magic("sm_train", "job --wait", "print('hi')\n")
        assert ip.user_ns["job"].directory.parent == tmp_path / "elsewhere"
    finally:
        ip.run_line_magic("config", "SmTrainMagics.jobs_dir = ''")
    ip.run_line_magic("config", "SmTrainMagics.default_mode = 'sagemaker'")
    ip.run_line_magic("config", "SmTrainMagics.region = 'eu-west-1'")
    try:
        with capture_output() as out:
            ip.run_cell_magic("sm_train", "--dry-run --image my-image --role "
                              "arn:aws:iam::123456789012:role/R", "print(1)\n")
        assert "mode: sagemaker" in out.stdout and "region: eu-west-1" in out.stdout
    finally:
        ip.run_line_magic("config", "SmTrainMagics.default_mode = 'local'")
        ip.run_line_magic("config", "SmTrainMagics.region = None")


def test_the_configured_hp_style_applies_where_the_line_names_none(ip):
    ip.run_line_magic("config", "SmTrainMagics.hp_style = 'v2'")
    try:
        ip.run_cell_magic("sm_train", "job --hp opt=adam --wait", "import sys\nprint(sys.argv)\n")
        assert list(ip.user_ns["job"].logs().message) == ["['train.py', '--opt', 'adam']"]
        assert ip.user_ns["job"].spec.hp_style == "v2"
        stored = (ip.user_ns["job"].directory / "opt/ml/input/config/hyperparameters.json")
        assert json.loads(stored.read_text()) == {"opt": '"adam"'}  # V2's encoding
        ip.run_cell_magic("sm_train", "job --hp opt=adam --hp-style v3 --wait", "print(1)\n")
        assert ip.user_ns["job"].spec.hp_style == "v3"  # the line wins
        ip.run_line_magic("config", "SmTrainMagics.hp_style = 'v4'")  # refused by traitlets
        assert ip.magics_manager.registry["SmTrainMagics"].hp_style == "v2"
    finally:
        ip.run_line_magic("config", "SmTrainMagics.hp_style = 'v3'")


def test_dry_run_in_local_mode_shows_the_command_and_creates_nothing(ip, jobs_dir):
    with capture_output() as out:
        ip.run_cell_magic("sm_train", "job --hp epochs=2 --image ignored --dry-run",
                          "print('never runs')\n")
    text = out.stdout
    assert "%%sm_train job --mode local --hp-style v3 --image ignored --hp epochs=2" in text
    assert "# hyperparameters: --hp-style v3, as V3's ModelTrainer passes them" in text
    assert "train.py --epochs 2" in text
    assert "note: --image is not used in local mode" in text
    assert not jobs_dir.exists() and "job" not in ip.user_ns


@pytest.mark.parametrize("style", ["v3", "v2"])
def test_dry_run_in_sagemaker_mode_prints_a_request_botocore_accepts(ip, run_dir, style):
    (run_dir / "data").mkdir()
    with capture_output() as out:
        ip.run_cell_magic("sm_train", "--mode sagemaker --image 123456789012.dkr.ecr.us-east-1."
                          "amazonaws.com/x:1 --instance-type ml.g5.xlarge --instance-count 2 "
                          "--distributed torchrun --region us-east-1 --role "
                          "arn:aws:iam::123456789012:role/R --input train=data --spot "
                          "--max-run 1h --max-wait 2h --keep-alive 600 --checkpoint-s3 "
                          "s3://bucket/ckpt --tag team=ml --metric loss='loss=([0-9.]+)' "
                          f"--hp n=5 --hp-style {style} --dry-run", "print(1)\n")
    request = json.loads(out.stdout.split("CreateTrainingJob ", 1)[1])
    assert request["ResourceConfig"] == {"InstanceType": "ml.g5.xlarge", "InstanceCount": 2,
                                         "VolumeSizeInGB": 30, "KeepAlivePeriodInSeconds": 600}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600,
                                            "MaxWaitTimeInSeconds": 7200}
    if style == "v2":  # the toolkit's `train` finds the code and the launch in them
        assert request["HyperParameters"]["sagemaker_program"] == '"train.py"'
        assert request["HyperParameters"]["sagemaker_torch_distributed_enabled"] == "true"
        assert "ContainerEntrypoint" not in request["AlgorithmSpecification"]
    else:  # V3: the user's hyperparameters alone; its own launcher instead of `train`
        assert request["HyperParameters"] == {"n": "5"}
        assert request["AlgorithmSpecification"]["ContainerEntrypoint"] == [
            "python3", "/opt/ml/input/data/code/sm_notebook_launcher.py"]
    assert "upload  s3://sagemaker-us-east-1-<account>/" in out.stdout
    validate_request(request)


def test_the_request_builder_output_passes_botocore_validation_for_a_full_spec():
    spec = TrainingSpec(cell="print(1)", mode="sagemaker", image="img:1",
                        instance_type="ml.m5.xlarge", hyperparameters={"a": [1, 2], "b": "x"},
                        environment={"X": "1"}, tags={"k": "v"})
    request = create_training_job_request(spec, "job-1", bucket="b", region="us-east-1",
                                          role="arn:aws:iam::123456789012:role/R")
    validate_request(request)
    assert request["HyperParameters"]["a"] == "[1, 2]" and request["HyperParameters"]["b"] == "x"


@pytest.mark.parametrize(("style", "command"), [("v3", "python3 train.py"), ("v2", "train")])
def test_dry_run_in_container_mode_shows_one_docker_run_per_host(ip, jobs_dir, style, command):
    with capture_output() as out:
        ip.run_cell_magic("sm_train", "--instance-type local_cpu --instance-count 2 --image "
                          f"smlocal/sklearn --job-name dry --hp-style {style} --dry-run",
                          "print(1)\n")
    runs = out.stdout.split("docker run")[1:]
    assert len(runs) == 2
    assert "--hostname algo-1" in runs[0] and "--hostname algo-2" in runs[1]
    assert "--network dry-net" in runs[0]
    assert runs[0].rstrip().endswith(f"smlocal/sklearn {command}")  # assumed: not probed
    assert "image kind toolkit (assumed: the image is not on this machine" in out.stdout
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_a_local_gpu_dry_run_asks_the_engine_for_every_gpu(ip):
    with capture_output() as out:
        ip.run_cell_magic("sm_train", "--instance-type local_gpu --image smlocal/torch "
                          "--dry-run", "print(1)\n")
    assert "    --gpus all \\\n" in out.stdout
    assert "mode: container" in out.stdout  # local_gpu implies container mode


def test_jobs_are_listed_newest_first_with_status_and_duration(ip):
    ip.run_cell_magic("sm_train", "a --job-name first-job --wait", "print(1)\n")
    with pytest.raises(Exception, match="failed"):
        ip.run_cell_magic("sm_train", "b --job-name second-job --wait", "raise SystemExit(2)\n")
    frame = ip.run_line_magic("sm_jobs", "")
    assert list(frame.columns) == ["name", "mode", "status", "secondary_status", "created",
                                   "duration", "instance_type", "instance_count",
                                   "cost_usd", "model_artifacts", "failure_reason",
                                   "directory", "sweep"]
    assert frame["cost_usd"].isna().all()  # local jobs: nothing billed
    assert frame["name"].tolist() == ["second-job", "first-job"]
    assert frame["status"].tolist() == ["Failed", "Completed"]
    assert (frame["duration"].dt.total_seconds() >= 0).all()
    failed = ip.run_line_magic("sm_jobs", "--status Failed")
    assert failed["name"].tolist() == ["second-job"]
    with pytest.raises(UsageError, match="--mode MODE, --status STATUS or --queue NAME"):
        ip.run_line_magic("sm_jobs", "--bogus")


def test_jobs_list_each_job_s_final_metrics_and_read_compactly(ip):
    ip.run_cell_magic("sm_train", "a --job-name metered --wait --quiet",
                      "for i in (1, 2):\n    print(f'epoch {i} loss={1 / i} accuracy={i / 4}')\n")
    ip.run_cell_magic("sm_train", "b --job-name silent --wait --quiet", "print(1)\n")
    frame = ip.run_line_magic("sm_jobs", "").set_index("name")
    assert frame.loc["metered", ["loss", "accuracy"]].tolist() == [0.5, 0.5]
    assert frame["loss"].isna()["silent"]
    assert frame["secondary_status"].isna().all()  # Completed (Completed) says nothing more
    assert " s</td>" in frame._repr_html_()  # "0 s", not "0 days 00:00:00"
    wide = ip.user_ns["a"].metrics(wide=True)
    assert wide.index.tolist() == [1, 2] and wide["loss"].tolist() == [1.0, 0.5]


def test_attach_to_an_unknown_job_suggests_a_close_name(ip):
    ip.run_cell_magic("sm_train", "a --job-name nightly-train --wait", "print(1)\n")
    with pytest.raises(UsageError, match="did you mean nightly-train"):
        ip.run_line_magic("sm_attach", "nightly-trian")
    with pytest.raises(UsageError, match="give a job name"):
        ip.run_line_magic("sm_attach", "")


def test_attach_to_a_running_job_of_this_session_returns_the_same_handle(ip):
    ip.run_cell_magic("sm_train", "job --job-name live-one", "import time\ntime.sleep(0.5)\n")
    assert ip.run_line_magic("sm_attach", "live-one") is ip.user_ns["job"]


def test_help_lists_every_option():
    from sm_notebook.line.grammar import OPTIONS
    from sm_notebook.magics import SmTrainMagics

    doc = SmTrainMagics.sm_train.__doc__
    for option in OPTIONS:
        assert option.flags[0] in doc


def test_a_vpc_and_network_isolation_reach_the_request_with_the_code_as_a_channel(ip):
    with capture_output() as out:
        ip.run_cell_magic("sm_train", "--mode sagemaker --image 123456789012.dkr.ecr.us-east-1."
                          "amazonaws.com/x:1 --region us-east-1 --role "
                          "arn:aws:iam::123456789012:role/R "
                          "--subnets subnet-0abc1234,subnet-0def5678 --security-groups "
                          "sg-0abc1234 --network-isolation --job-name isolated --hp-style v2 "
                          "--dry-run",
                          "print(1)\n")
    request = json.loads(out.stdout.split("CreateTrainingJob ", 1)[1])
    validate_request(request)
    assert request["VpcConfig"] == {"Subnets": ["subnet-0abc1234", "subnet-0def5678"],
                                    "SecurityGroupIds": ["sg-0abc1234"]}
    assert request["EnableNetworkIsolation"] is True
    # the containers cannot reach S3, so the code comes as a channel (as the V2 SDK does)
    assert request["HyperParameters"]["sagemaker_submit_directory"] == \
        '"/opt/ml/input/data/code/sourcedir.tar.gz"'
    assert request["InputDataConfig"][-1]["ChannelName"] == "code"
    assert "upload  s3://sagemaker-us-east-1-<account>/isolated/input/code/sourcedir.tar.gz" \
        in out.stdout


@pytest.mark.parametrize("dashboard", ["widgets", "text"])
def test_attach_in_a_kernel_to_a_finished_job_shows_its_final_snapshot_at_once(
        ip, monkeypatch, dashboard):
    ip.run_cell_magic("sm_train", "--job-name over --metric acc='acc=([0-9.]+)' --wait",
                      "print('acc=0.9')\n")
    magics = ip.magics_manager.registry["SmTrainMagics"]
    magics.jobs.clear()  # a restarted kernel
    monkeypatch.setattr(type(magics), "in_kernel", True)
    monkeypatch.setattr(magics, "dashboard", dashboard)

    with capture_output() as shown:
        job = ip.run_line_magic("sm_attach", "over")

    assert job.status == "Completed" and job.done
    assert "over" not in magics.boards  # no live dashboard to start and tear down
    assert shown.stdout == ""
    output, *rest = shown.outputs
    assert all("application/vnd.jupyter.widget-view+json" not in o.data for o in shown.outputs)
    assert output.data["text/plain"].startswith("over · local · Completed · ")  # said once
    assert "acc=0.9" in output.data["text/plain"]
    if dashboard == "widgets":  # the dashboard's own final outputs: head, chart, log
        assert "smnb-snapshot" in output.data["text/html"]
        chart, log = rest
        assert "application/vnd.plotly.v1+json" in chart.data
        assert chart.data["image/svg+xml"].startswith("<svg")
        assert "acc=0.9" in log.data["text/html"]
    else:
        assert rest == []
