"""SageMaker mode end to end against moto's AWS API server, over HTTP with plain boto3.

``sagemaker_service.py`` makes moto's training jobs move through the service's statuses
and write CloudWatch log events as the service does.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tarfile
import time
from pathlib import Path

import boto3
import docker
import pytest
from IPython.core.error import UsageError

from sm_notebook.errors import JobFailedError, SmNotebookError
from tests.fakes.pricing_service import PriceListService, product
from tests.fakes.sagemaker_service import (
    CallCounter,
    CreateFailure,
    LiveTail,
    Service,
    Throttling,
    finals,
    logs,
    pause,
    status,
    training_jobs,
    until_stopping,
)

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-cpu-py312"
BUCKET = "sagemaker-us-east-1-123456789012"  # the default: region and moto's account


@pytest.fixture
def service(aws, monkeypatch):
    from sm_notebook.backends.sagemaker import follow

    monkeypatch.setattr(follow, "DRAIN_AFTER", 0.3)  # the simulator writes nothing late
    played = Service(aws)
    played.live = LiveTail()  # CloudWatch's own pace: an update a second
    yield played
    for thread in played.threads:
        thread.join(timeout=60)
    played.live.restore()
    assert played.errors == []


@pytest.fixture
def calls(service):
    counter = CallCounter()
    yield counter.counts
    counter.restore()


@pytest.fixture
def price_list(aws, monkeypatch):
    """The Price List Query API (moto has none), as boto3 finds a service's own endpoint."""
    served = PriceListService([product("us-east-1", "Train:ml.m5.xlarge", 0.23, "TRAIN"),
                               product("us-east-1", "Host:ml.m5.xlarge", 0.269, "HOST"),
                               product("us-west-2", "Train:ml.m5.xlarge", 0.25, "WEST")])
    monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", served.endpoint)
    yield served
    served.close()


def train(ip, name: str, line: str, cell: str = "print('hello')\n"):
    ip.run_cell_magic("sm_train", f"job --mode sagemaker --image {IMAGE} --role {ROLE} "
                                  f"--job-name {name} {line}", cell)
    return ip.user_ns["job"]


def test_a_job_is_uploaded_created_and_followed_to_completed_with_logs_of_two_hosts(
        ip, run_dir, service, capsys):
    (run_dir / "data").mkdir()
    (run_dir / "data" / "iris.csv").write_text("0,5.1,3.5\n")
    service.play("two-hosts", [
        status("InProgress", "Downloading", "Downloading input data"),
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "epoch 1 loss=0.5", "epoch 2 loss=0.25"),
        logs("algo-2", "worker ready"),
        pause(0.3),
        status("InProgress", "Uploading", "Uploading generated training model"),
        finals(42, loss=0.25),
        status("Completed", "Completed", "Training job completed"),
    ])
    job = train(ip, "two-hosts", "--instance-count 2 --input train=data --hp epochs=2 "
                "--hp-style v2 --wait")

    assert job.status == "Completed"
    assert re.search(rf"^uploaded [\d.]+ MB in 2 files to s3://{BUCKET}/two-hosts/ "
                     r"\([\d.]+ s\)$", capsys.readouterr().out, re.MULTILINE)
    assert [t["Status"] for t in job.transitions] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]
    frame = job.logs()
    assert list(zip(frame.host, frame.message, strict=True)) == [
        ("algo-1", "epoch 1 loss=0.5"), ("algo-1", "epoch 2 loss=0.25"),
        ("algo-2", "worker ready")]
    assert list(job.metrics().value) == [0.5, 0.25]
    assert (job.final_metrics, job.billable_seconds) == ({"loss": 0.25}, 42)
    assert (job.hourly_price, job.cost) == (None, None)  # moto has no price list
    assert job.model_artifacts.endswith("/two-hosts/output/model.tar.gz")

    s3 = boto3.client("s3")
    code = s3.get_object(Bucket=BUCKET, Key="two-hosts/source/sourcedir.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(code)) as tar:
        assert tar.getnames() == ["train.py"]
    data = s3.get_object(Bucket=BUCKET, Key="two-hosts/input/train/iris.csv")["Body"].read()
    assert data == b"0,5.1,3.5\n"
    sent = boto3.client("sagemaker").describe_training_job(TrainingJobName="two-hosts")
    assert sent["HyperParameters"]["sagemaker_program"] == '"train.py"'
    assert sent["HyperParameters"]["sagemaker_submit_directory"] == \
        f'"s3://{BUCKET}/two-hosts/source/sourcedir.tar.gz"'
    assert sent["HyperParameters"]["epochs"] == "2"
    assert sent["ResourceConfig"]["InstanceCount"] == 2
    assert sent["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == \
        f"s3://{BUCKET}/two-hosts/input/train"


def test_the_cost_is_estimated_from_the_price_list_and_shown_in_the_header(
        ip, service, price_list):
    from sm_notebook.ui.panels import header_html
    from sm_notebook.ui.text import summary_line

    seen_running = []
    service.play("priced", [
        status("InProgress", "Training", "Training in progress"),
        pause(1.5),
        lambda _service, _job: seen_running.append(ip.user_ns["job"].cost),
        finals(1800),
        status("Completed", "Completed", "Training job completed"),
    ])
    job = train(ip, "priced", "--instance-type ml.m5.xlarge --instance-count 2 --wait")

    assert job.hourly_price == 0.23  # the training product of the job's region
    assert seen_running[0] > 0  # while it trained: the time since training started
    assert job.cost == pytest.approx(1800 * 2 * 0.23 / 3600)  # billable × instances × price
    assert "≈ $0.23" in header_html(job) and "≈ $0.23" in summary_line(job)
    assert "on-demand list price $0.23 per instance-hour × 2" in header_html(job)
    [asked] = price_list.requests
    assert asked["target"] == "AWSPriceListService.GetProducts"
    assert asked["ServiceCode"] == "AmazonSageMaker"
    assert {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"} in \
        asked["Filters"]

    service.play("priced-again", [finals(60), status("Completed", "Completed", "done")])
    again = train(ip, "priced-again", "--instance-type ml.m5.xlarge --wait")
    assert again.cost == pytest.approx(60 * 0.23 / 3600)
    assert len(price_list.requests) == 1  # the price was kept on disk
    listed = ip.run_line_magic("sm_jobs", "").set_index("name")["cost_usd"]
    assert listed["priced"] == pytest.approx(job.cost)
    assert listed["priced-again"] == pytest.approx(again.cost)


def test_a_price_list_that_cannot_answer_leaves_the_cost_out_quietly(
        ip, service, price_list, capsys):
    price_list.products = []  # e.g. a new instance type, or no pricing:GetProducts
    service.play("unpriced", [status("Completed", "Completed", "done")])
    job = train(ip, "unpriced", "--instance-type ml.m5.xlarge --wait")
    assert (job.hourly_price, job.cost) == (None, None)
    assert "≈" not in capsys.readouterr().out


def test_a_failed_job_reports_the_service_failure_reason(ip, service):
    service.play("fails", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "Traceback (most recent call last):", "ValueError: bad shard"),
        status("Failed", "Failed", "Training job failed",
               failure="AlgorithmError: ValueError: bad shard, exit code: 1"),
    ])
    with pytest.raises(JobFailedError, match="AlgorithmError: ValueError: bad shard"):
        train(ip, "fails", "--wait")
    assert "ValueError: bad shard" in list(ip.user_ns["job"].logs().message)


def test_stop_sends_stop_training_job_and_the_job_ends_stopped(ip, service):
    service.play("stopped", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "step 1"),
        until_stopping(),
        status("Stopped", "Stopped", "Training job stopped"),
    ])
    job = train(ip, "stopped", "--quiet")
    job.stop()
    assert job.wait(timeout=60) == "Stopped"
    assert training_jobs()["stopped"].training_job_status == "Stopped"


@pytest.fixture
def throttled():
    throttling = Throttling(every=4)
    yield throttling
    throttling.restore()


def test_ten_thousand_lines_over_many_pages_with_throttling_arrive_once_each_in_order(
        ip, service, throttled, monkeypatch):
    from sm_notebook.backends.sagemaker import cloudwatch

    monkeypatch.setattr(cloudwatch, "PAGE_LIMIT", 500)
    per_host = 6_000
    steps = [status("InProgress", "Training", "Training in progress")]
    for start in range(0, per_host, 1_500):  # written while the job is followed
        steps += [logs(host, *(f"{host} line {i}" for i in range(start, start + 1_500)))
                  for host in ("algo-1", "algo-2")]
        steps.append(pause(0.4))
    steps.append(status("Completed", "Completed", "Training job completed"))
    service.play("many-lines", steps)

    job = train(ip, "many-lines", "--instance-count 2 --quiet")
    assert job.wait(timeout=120) == "Completed"

    frame = job.logs()
    for host in ("algo-1", "algo-2"):
        assert list(frame.message[frame.host == host]) == [
            f"{host} line {i}" for i in range(per_host)]
    assert job.line_count == 2 * per_host
    assert throttled.throttled >= 5  # the fault really happened, and was absorbed
    assert service.live.sampled >= 1  # Live Tail sampled the bursts; the reads filled in


def test_attach_after_the_handle_is_lost_replays_the_log_and_carries_on(ip, service):
    service.play("reattached", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "before 1", "before 2"),
        pause(2.5),
        logs("algo-1", "after 1"),
        pause(0.5),
        status("Completed", "Completed", "Training job completed"),
    ])
    job = train(ip, "reattached", "--quiet")
    deadline = time.monotonic() + 30
    while job.line_count < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    magics = ip.magics_manager.registry["SmTrainMagics"]
    job.detach()  # as after a kernel restart: the old handle follows no more
    with pytest.raises(SmNotebookError, match="detached while InProgress"):
        job.wait(timeout=10)
    del ip.user_ns["job"]
    magics.jobs.clear()

    again = ip.run_line_magic("sm_attach", "reattached")

    assert again.wait(timeout=60) == "Completed"
    assert list(again.logs().message) == ["before 1", "before 2", "after 1"]
    assert [e.message for e in again.recent_lines()] == ["before 1", "before 2", "after 1"]


def _written_every(seconds: float, count: int, host: str = "algo-1"):
    """The job's host writing a numbered line every ``seconds``."""
    def write(service, job) -> None:
        for number in range(count):
            service.put(job, host, [f"{host} line {number}"])
            time.sleep(seconds)
    return write


def _arrivals(job) -> dict[str, float]:
    """When each line reached the handle, as the dashboard sees it."""
    arrived: dict[str, float] = {}
    job.add_listener(lambda j: arrived.update(
        {e.message: time.monotonic() for e in j.recent_lines() if e.message not in arrived}))
    return arrived


def test_lines_arrive_through_live_tail_within_seconds_without_polling_each_second(
        ip, service, calls):
    service.play("live", [status("InProgress", "Training", "Training in progress"),
                          _written_every(0.25, 24), pause(0.5),
                          status("Completed", "Completed", "Training job completed")])
    job = train(ip, "live", "--quiet")
    written = {}
    arrived = _arrivals(job)
    began = time.monotonic()
    assert job.wait(timeout=60) == "Completed"

    assert list(job.logs().message) == [f"algo-1 line {n}" for n in range(24)]
    for number in range(24):
        written[f"algo-1 line {number}"] = began + 0.25 * number
    late = [arrived[m] - written[m] for m in written if m in arrived]
    assert len(late) >= 20 and sorted(late)[len(late) // 2] < 3.0  # generous: CI is slow
    assert calls["start_live_tail"] == 1
    assert calls["get_log_events"] <= 4  # the catch-up of a new stream and the drain
    assert service.live.wait_closed() == 0  # the billed session ended with the job


def test_live_tail_sessions_that_end_mid_job_lose_and_repeat_nothing(ip, service):
    service.live.configure(tick=0.3, session_seconds=1.5)
    service.play("sessions", [status("InProgress", "Training", "Training in progress"),
                              _written_every(0.05, 120), _written_every(0.05, 40, "algo-2"),
                              pause(0.5),
                              status("Completed", "Completed", "Training job completed")])
    job = train(ip, "sessions", "--instance-count 2 --quiet")
    assert job.wait(timeout=120) == "Completed"

    frame = job.logs()
    assert list(frame.message[frame.host == "algo-1"]) == [
        f"algo-1 line {n}" for n in range(120)]
    assert list(frame.message[frame.host == "algo-2"]) == [
        f"algo-2 line {n}" for n in range(40)]
    assert service.live.calls >= 3 and service.live.wait_closed() == 0


@pytest.mark.parametrize("code", ["AccessDeniedException", "LimitExceededException"])
def test_without_live_tail_permission_or_quota_the_logs_are_polled(ip, service, calls, code):
    service.live.configure(refuse=code)
    name = f"polled-{code[:5].lower()}"
    service.play(name, [status("InProgress", "Training", "Training in progress"),
                        _written_every(0.2, 15), pause(0.3),
                        status("Completed", "Completed", "Training job completed")])
    job = train(ip, name, "--quiet")
    assert job.wait(timeout=60) == "Completed"

    assert list(job.logs().message) == [f"algo-1 line {n}" for n in range(15)]
    assert calls["start_live_tail"] == 1  # not asked again
    assert calls["get_log_events"] >= 3  # read every second instead


def test_live_tail_can_be_switched_off(ip, service, calls):
    ip.run_line_magic("config", "SmTrainMagics.live_tail = False")
    try:
        service.play("switched-off", [status("InProgress", "Training", "Training"),
                                      logs("algo-1", "only line"), pause(0.3),
                                      status("Completed", "Completed", "Done")])
        job = train(ip, "switched-off", "--wait")
    finally:
        ip.run_line_magic("config", "SmTrainMagics.live_tail = True")
    assert list(job.logs().message) == ["only line"]
    assert calls["start_live_tail"] == 0


def test_a_detached_handle_ends_its_live_tail_session(ip, service):
    service.play("let-go", [status("InProgress", "Training", "Training"),
                            logs("algo-1", "first"), until_stopping(),
                            status("Stopped", "Stopped", "Stopped")])
    job = train(ip, "let-go", "--quiet")
    deadline = time.monotonic() + 30
    while service.live.open == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.live.open == 1
    job.detach()
    assert service.live.wait_closed() == 0
    job.stop()  # the job it no longer follows


def _nothing_created(jobs_dir, name: str | None = None) -> None:
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []
    if name:
        names = [j["TrainingJobName"] for j in
                 boto3.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]]
        assert name not in names


@pytest.mark.parametrize(("code", "message", "hint"), [
    ("AccessDeniedException", "User is not authorized to perform: sagemaker:CreateTrainingJob",
     "iam:PassRole"),
    ("ResourceLimitExceeded", "The account-level service limit 'ml.p4d.24xlarge for training "
     "job usage' is 0 Instances", "quota increase"),
    ("ValidationException", "Could not assume role arn:aws:iam::123456789012:role/Nope",
     "trust policy must allow sagemaker.amazonaws.com"),
])
def test_a_refused_create_is_one_line_saying_what_to_do_and_what_was_uploaded(
        ip, aws, jobs_dir, code, message, hint):
    failure = CreateFailure(code, message)
    try:
        with pytest.raises(SmNotebookError) as raised:
            train(ip, f"refused-{code.lower()[:8]}", "--hp-style v2")
    finally:
        failure.restore()
    text = str(raised.value)
    assert text.startswith(f"CreateTrainingJob failed: {code}: {message}")
    assert hint in text
    assert text.endswith(f"(already uploaded: s3://{BUCKET}/refused-{code.lower()[:8]}/source/"
                         "sourcedir.tar.gz)")
    assert "\n" not in text
    _nothing_created(jobs_dir, f"refused-{code.lower()[:8]}")


def test_no_credentials_is_one_line_and_nothing_is_created(ip, aws, jobs_dir, monkeypatch,
                                                           tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(SmNotebookError, match=r"^--mode sagemaker: no AWS credentials found; "
                       r"configure them \(aws configure, AWS_PROFILE, or an instance role\)$"):
        train(ip, "no-creds", "")
    _nothing_created(jobs_dir)


def test_no_region_names_the_option_to_set(ip, aws, jobs_dir, monkeypatch, tmp_path):
    for key in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(UsageError, match=r"^--region: no AWS region is configured \(expected "
                       r"--region us-east-1, %config SmTrainMagics.region, or "
                       r"AWS_DEFAULT_REGION\)$"):
        train(ip, "no-region", "")
    _nothing_created(jobs_dir)


def test_an_instance_type_sagemaker_does_not_have_is_refused_before_any_upload(ip, aws,
                                                                             jobs_dir):
    with pytest.raises(UsageError, match=r"^--instance-type: ml.m5.huge is not a SageMaker "
                       r"training instance type \(expected ml.m5."):
        train(ip, "bad-type", "--instance-type ml.m5.huge")
    _nothing_created(jobs_dir)
    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="bad-type")


def test_a_configured_bucket_that_does_not_exist_is_named(ip, aws, jobs_dir):
    ip.run_line_magic("config", "SmTrainMagics.bucket = 'no-such-bucket-smnb'")
    try:
        with pytest.raises(SmNotebookError, match=r"^bucket no-such-bucket-smnb does not exist"):
            train(ip, "no-bucket", "")
    finally:
        ip.run_line_magic("config", "SmTrainMagics.bucket = None")
    _nothing_created(jobs_dir, "no-bucket")


def test_no_role_names_the_option(ip, aws, jobs_dir):
    with pytest.raises(UsageError, match=r"^--role: sagemaker mode needs an execution role"):
        ip.run_cell_magic("sm_train", f"--mode sagemaker --image {IMAGE} --job-name no-role",
                          "print(1)\n")
    _nothing_created(jobs_dir, "no-role")


@pytest.mark.parametrize("image", ["pytorch:latest", "my-image:1"])
def test_an_image_in_no_registry_is_refused_before_any_upload(ip, aws, jobs_dir, image):
    with pytest.raises(UsageError, match=rf"^--image: {image} names no registry, and SageMaker "
                       r"pulls training images from one \(ECR\)"):
        ip.run_cell_magic("sm_train", f"--mode sagemaker --image {image} --role {ROLE} "
                          "--job-name no-registry", "print(1)\n")
    _nothing_created(jobs_dir, "no-registry")


def test_attach_follows_a_job_created_outside_sm_notebook_and_sm_jobs_lists_the_account(
        ip, service):
    boto3.client("sagemaker").create_training_job(
        TrainingJobName="made-elsewhere", RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        HyperParameters={"lr": "0.1", "sagemaker_program": '"fit.py"'},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/"},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1,
                        "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600})
    service.play("made-elsewhere", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "loss=0.9", "loss=0.3"),
        pause(0.3),
        status("Completed", "Completed", "Training job completed"),
    ])

    job = ip.run_line_magic("sm_attach", "made-elsewhere")

    assert job.wait(timeout=60) == "Completed"
    assert list(job.logs().message) == ["loss=0.9", "loss=0.3"]
    assert (job.spec.image, job.spec.instance_type, job.spec.entry_script,
            job.spec.hyperparameters) == (IMAGE, "ml.g5.xlarge", "fit.py", {"lr": 0.1})
    listed = ip.run_line_magic("sm_jobs", "--mode sagemaker")
    row = listed[listed.name == "made-elsewhere"].iloc[0]
    assert (row["mode"], row["status"]) == ("sagemaker", "Completed")
    assert row["directory"] == str(job.directory)  # known here now


def test_attach_to_a_name_nobody_has_says_where_it_looked(ip, aws):
    with pytest.raises(UsageError, match=r"no job named 'never-made' in .* or among the "
                       r"account's SageMaker training jobs"):
        ip.run_line_magic("sm_attach", "never-made")


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _saves_model(members: dict[str, bytes]):
    def save(service, job):
        bucket, _, key = job.model_artifacts["S3ModelArtifacts"].removeprefix(
            "s3://").partition("/")
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=_tarball(members))
    return save


def test_the_model_in_s3_is_downloaded_and_extracted(ip, service, run_dir):
    service.play("with-model", [status("InProgress", "Training", "Training in progress"),
                                _saves_model({"model.joblib": b"weights"}),
                                status("Completed", "Completed", "Training job completed")])
    job = train(ip, "with-model", "--wait")

    assert job.model_artifacts == f"s3://{BUCKET}/with-model/output/model.tar.gz"
    folder = job.extract_model(run_dir / "model")
    assert (folder / "model.joblib").read_bytes() == b"weights"
    assert (job.directory / "artifacts" / "model.tar.gz").is_file()  # kept for next time


def test_a_model_archive_reaching_outside_its_folder_is_refused(ip, service, run_dir):
    service.play("evil-model", [_saves_model({"../../escaped.txt": b"x"}),
                                status("Completed", "Completed", "Training job completed")])
    job = train(ip, "evil-model", "--wait")

    with pytest.raises(SmNotebookError, match="outside"):
        job.extract_model(run_dir / "model")
    assert not (run_dir / "escaped.txt").exists()


def test_a_dataframe_input_is_uploaded_as_csv_and_an_alias_image_resolves(ip, service):
    import pandas as pd

    ip.user_ns["frame"] = pd.DataFrame({"label": [0, 1], "x": [0.5, 1.5]})
    service.play("frame-input", [status("Completed", "Completed", "Training job completed")])
    ip.run_cell_magic("sm_train", f"job --mode sagemaker --image pytorch:2.8 --role {ROLE} "
                      "--instance-type ml.g5.xlarge --job-name frame-input "
                      "--input train=$frame --wait", "print(1)\n")

    body = boto3.client("s3").get_object(Bucket=BUCKET, Key="frame-input/input/train/train.csv")
    assert body["Body"].read() == b"label,x\n0,0.5\n1,1.5\n"
    sent = boto3.client("sagemaker").describe_training_job(TrainingJobName="frame-input")
    assert sent["AlgorithmSpecification"]["TrainingImage"] == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-gpu-py312")
    assert sent["InputDataConfig"][0]["ContentType"] == "text/csv"


def _as_the_service_would_lay_out(request: dict, root: Path) -> None:
    """``/opt/ml`` of algo-1 from a CreateTrainingJob request and its S3 objects."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(request["HyperParameters"]))
    (config / "resourceconfig.json").write_text(json.dumps({
        "current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type":
        request["ResourceConfig"]["InstanceType"], "network_interface_name": "eth0"}))
    (config / "inputdataconfig.json").write_text(json.dumps({
        c["ChannelName"]: {"TrainingInputMode": "File",
                           **({"ContentType": c["ContentType"]} if "ContentType" in c else {})}
        for c in request["InputDataConfig"]}))
    s3 = boto3.client("s3")
    for channel in request["InputDataConfig"]:
        uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")["Contents"]:
            target = root / "input" / "data" / channel["ChannelName"] / \
                item["Key"][len(prefix) + 1:]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target))
    for sub in ("model", "output/data", "code"):
        (root / sub).mkdir(parents=True, exist_ok=True)


def _run_as_the_service_would(request: dict, root: Path, image: str) -> str:
    """Run a job's container as SageMaker would, in a test image; its output."""
    _as_the_service_would_lay_out(request, root)
    algorithm = request["AlgorithmSpecification"]
    return docker.from_env().containers.run(
        image, algorithm["ContainerArguments"], entrypoint=algorithm["ContainerEntrypoint"],
        remove=True, stderr=True, environment={"TRAINING_JOB_NAME": request["TrainingJobName"]},
        volumes={str(root): {"bind": "/opt/ml", "mode": "rw"}}).decode()


def test_an_image_without_the_toolkit_runs_through_the_launcher_in_its_code_channel(
        ip, service, run_dir, tmp_path):
    (run_dir / "data").mkdir()
    (run_dir / "data" / "rows.csv").write_text("1,2\n")
    service.play("plain-image", [status("Completed", "Completed", "Training job completed")])
    cell = ("import os, sys\n"
            "print('host', os.environ['SM_CURRENT_HOST'], 'hps', os.environ['SM_HPS'])\n"
            "print('args', sys.argv[1:], 'train', os.listdir(os.environ['SM_CHANNEL_TRAIN']))\n"
            "open(os.path.join(os.environ['SM_MODEL_DIR'], 'm.txt'), 'w').write('ok')\n")
    train(ip, "plain-image", "--image-kind plain --hp lr=0.1 --input train=data --wait", cell)
    request = boto3.client("sagemaker").describe_training_job(TrainingJobName="plain-image")
    algorithm = request["AlgorithmSpecification"]
    assert algorithm["ContainerEntrypoint"] == [
        "python3", "/opt/ml/input/data/code/sm_notebook_launcher.py"]

    root = tmp_path / "opt-ml"  # run as SageMaker would, in the plain test image
    output = _run_as_the_service_would(request, root, "smnb-test/sklearn:1")

    assert "host algo-1 hps {\"lr\": 0.1}" in output  # V3's SM_HPS (the default style)
    assert "args ['--lr', '0.1'] train ['rows.csv']" in output
    assert (root / "model" / "m.txt").read_text() == "ok"


def test_under_v3_any_image_runs_the_v3_example_through_the_launcher_as_modeltrainer_does(
        ip, service, run_dir, tmp_path):
    # V3 sends the user's hyperparameters alone and bypasses the toolkit's `train`
    import shutil

    from tests.e2e import test_sdk_examples as examples

    source = run_dir / "source"
    source.mkdir()
    shutil.copy(examples.EXAMPLES / "v3_hyperparameters" / "train.py", source / "train.py")
    ip.user_ns["expected_hps"] = examples.EXPECTED
    service.play("v3-example", [status("Completed", "Completed", "Training job completed")])
    ip.run_line_magic("sm_train", f"job --mode sagemaker --image {IMAGE} --role {ROLE} "
                      "--job-name v3-example --source-dir source --hps $expected_hps --wait")
    request = boto3.client("sagemaker").describe_training_job(TrainingJobName="v3-example")
    assert request["HyperParameters"] == {k: v if isinstance(v, str) else json.dumps(v)
                                          for k, v in examples.EXPECTED.items()}
    algorithm = request["AlgorithmSpecification"]
    assert algorithm["ContainerEntrypoint"] == [
        "python3", "/opt/ml/input/data/code/sm_notebook_launcher.py"]

    root = tmp_path / "opt-ml"  # as SageMaker would run it, in the image with the toolkit
    output = _run_as_the_service_would(request, root, "smnb-test/toolkit:2")
    assert "All hyperparameter validations passed!" in output
    assert json.loads((root / "model" / "results.json").read_text())["hyperparameters"] \
        == examples.EXPECTED


@pytest.mark.parametrize(("name", "line", "cell", "expected"), [
    ("shell-cell", "--entry-script train.sh --hp n=2",
     'echo "sh args: $*; bash ${BASH_VERSION:+yes}"\n', "sh args: --n 2; bash yes"),
    ("command", "--command 'python3 fit.py && echo \"hp: $SM_HP_N\"' --hp n=2", None, "hp: 2"),
    ("program", "--entry-script prog --hp n=2", None, "prog got --n 2"),
])
def test_on_sagemaker_shell_scripts_programs_and_commands_run_through_the_launcher(
        ip, service, run_dir, tmp_path, name, line, cell, expected):
    src = run_dir / "src"
    src.mkdir()
    (src / "fit.py").write_text("print('fit ran')\n")
    (src / "prog").write_text('#!/bin/sh\necho "prog got $*"\n')  # not executable
    service.play(name, [status("Completed", "Completed", "Training job completed")])
    command = f"job --mode sagemaker --image {IMAGE} --role {ROLE} --job-name {name} " \
              f"--source-dir src {line} --wait"
    if cell is None:
        ip.run_line_magic("sm_train", command)
    else:
        ip.run_cell_magic("sm_train", command, cell)
    request = boto3.client("sagemaker").describe_training_job(TrainingJobName=name)

    output = _run_as_the_service_would(request, tmp_path / "opt-ml", "smnb-test/sklearn:1")
    assert expected in output


def test_on_sagemaker_the_notebook_execution_role_is_used_when_none_is_given(
        ip, service, monkeypatch, tmp_path, capsys):
    from sm_notebook.backends.sagemaker import backend as sagemaker

    iam = boto3.client("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="AmazonSageMaker-ExecutionRole-1", Path="/service-role/",
                        AssumeRolePolicyDocument="{}")
    assumed = boto3.client("sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-1",
        RoleSessionName="SageMaker")["Credentials"]
    for key, value in {"AWS_ACCESS_KEY_ID": assumed["AccessKeyId"],
                       "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
                       "AWS_SESSION_TOKEN": assumed["SessionToken"]}.items():
        monkeypatch.setenv(key, value)
    metadata = tmp_path / "resource-metadata.json"
    metadata.write_text('{"ResourceName": "my-notebook"}')
    monkeypatch.setattr(sagemaker, "SAGEMAKER_METADATA", metadata)
    service.play("own-role", [status("Completed", "Completed", "Training job completed")])

    ip.run_cell_magic("sm_train", f"job --mode sagemaker --image {IMAGE} --job-name own-role "
                      "--wait", "print(1)\n")

    role = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-1"
    sent = boto3.client("sagemaker").describe_training_job(TrainingJobName="own-role")
    assert sent["RoleArn"] == role
    assert f"note: --role: using this notebook's execution role {role}" in \
        capsys.readouterr().out


def test_with_network_isolation_the_code_is_uploaded_as_the_code_channel(ip, service):
    service.play("isolated", [status("Completed", "Completed", "Training job completed")])
    train(ip, "isolated", "--network-isolation --subnets subnet-0abc1234 --security-groups "
                          "sg-0abc1234 --hp-style v2 --wait")

    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="isolated/")["Contents"]]
    assert keys == ["isolated/input/code/sourcedir.tar.gz"]
    sent = boto3.client("sagemaker").describe_training_job(TrainingJobName="isolated")
    assert sent["EnableNetworkIsolation"] is True
    assert sent["VpcConfig"]["Subnets"] == ["subnet-0abc1234"]


def test_the_sagemaker_notebook_runs_against_the_service(service, jobs_dir, tmp_path,
                                                         monkeypatch, price_list):
    from tests.e2e.test_notebooks import ROOT, execute, outputs_text

    price_list.products.append(product("us-east-1", "Train:ml.m5.large", 0.115, "LARGE"))
    monkeypatch.setenv("SMNB_ROLE", ROLE)
    monkeypatch.setenv("SMNB_JOB_NAME", "notebook-demo")
    service.play("notebook-demo", [
        status("InProgress", "Downloading", "Downloading input data"),
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", *(f"epoch {n} loss={1 / n:.5f}" for n in range(1, 21))),
        pause(0.5), finals(61, loss=0.05),
        status("Completed", "Completed", "Training job completed")])
    nb = execute(ROOT / "notebooks" / "sagemaker.ipynb", tmp_path)

    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    text = outputs_text(nb)
    assert "sagemaker notebook OK" in text
    assert re.search(r"\('Completed',\s+61,\s+'s3://sagemaker-us-east-1-123456789012/"
                     r"notebook-demo/output/model.tar.gz'\)", text)
    assert "notebook-demo" in text  # %sm_jobs lists it
    assert "≈ $0.002" in text  # the snapshot's cost: 61 billable seconds at $0.115 an hour


def test_attach_to_a_job_that_ended_elsewhere_is_final_on_return(ip, service, capsys):
    service.play("ended-while-away", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "loss=0.9", "loss=0.3"),
        pause(0.3),
        status("Failed", "Failed", "Training job failed",
               failure="AlgorithmError: ValueError: bad shard, exit code: 1"),
    ])
    job = train(ip, "ended-while-away", "--quiet")
    job.detach()  # the kernel went away while the job still ran
    ip.magics_manager.registry["SmTrainMagics"].jobs.clear()
    for thread in service.threads:
        thread.join(timeout=60)  # the service finishes the job meanwhile
    capsys.readouterr()

    began = time.monotonic()
    again = ip.run_line_magic("sm_attach", "ended-while-away")

    assert time.monotonic() - began < 5
    assert (again.done, again.status) == (True, "Failed")
    assert again.failure_reason == "AlgorithmError: ValueError: bad shard, exit code: 1"
    assert list(again.logs().message) == ["loss=0.9", "loss=0.3"]
    out = capsys.readouterr().out
    assert "started" not in out
    assert out.startswith("attached to a finished job: ended-while-away · sagemaker · Failed")
