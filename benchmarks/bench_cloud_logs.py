"""SageMaker mode: how soon a log line reaches the job handle, and at what API cost.

moto's AWS API server runs in this process with the tests' service simulator
(``tests/fakes/sagemaker_service.py``): a job whose one host writes a line every half second,
each line carrying the time it was written, and StartLiveTail streaming as CloudWatch's
does (an update a second).  sm_notebook follows it through its real backend; the baseline
is the V2 SDK's ``logs_for_job`` algorithm (``session.py``: a 10 s poll,
DescribeTrainingJob at most every 30 s, each stream read until an empty page), replayed
with plain boto3 against the same server.  Calls are counted on the server.

The same job submitted through an AWS Batch training queue (``--queue``; the tests'
service-job simulator, which creates the training job in moto once the job leaves the
queue) is followed too: once it runs, its lines should reach the handle as soon as a
direct job's.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from .common import Result, benchmark_shell, median

TARGET_LATENCY_S = 2.0
QUEUE_ALLOWANCE_S = 0.5  # a queued job's lines: the direct job's latency, give or take this
QUEUE = "bench-queue"
LINE_EVERY_S = 0.5
ROOT = Path(__file__).resolve().parent.parent


def _writer(service, name: str, seconds: float):
    """The job's host: one line every half second, stamped with when it was written."""
    from tests.fakes.sagemaker_service import status

    def run(svc, job) -> None:
        status("InProgress", "Training", "Training in progress")(svc, job)
        deadline = time.monotonic() + seconds
        number = 0
        while time.monotonic() < deadline:
            svc.put(job, "algo-1", [f"line {number} written {time.time():.3f}"])
            number += 1
            time.sleep(LINE_EVERY_S)
        time.sleep(1)
        status("Completed", "Completed", "Training job completed")(svc, job)
    service.play(name, [run])


def _latencies(arrivals: dict[str, float]) -> list[float]:
    return [arrived - float(message.rsplit(" ", 1)[1]) for message, arrived in arrivals.items()]


def _follow_with_sm_notebook(shell, name: str, extra: str = "") -> dict[str, float]:
    from IPython.utils.capture import capture_output

    arrivals: dict[str, float] = {}
    with capture_output():
        shell.run_cell_magic("sm_train", f"job --mode sagemaker --image pytorch:2.8 --role "
                             f"arn:aws:iam::123456789012:role/R --job-name {name} --quiet "
                             f"{extra}", "print(1)\n")
    job = shell.user_ns.pop("job")
    seen = 0

    def listener(j) -> None:
        nonlocal seen
        now = time.time()
        for event in j.recent_lines(j.line_count - seen):
            arrivals.setdefault(event.message, now)
        seen = j.line_count

    job.add_listener(listener)
    job.wait(timeout=600)
    return arrivals


def _follow_like_the_v2_sdk(name: str) -> dict[str, float]:
    """``logs_for_job(wait=True, poll=10)``: its polling, describe and paging pattern."""
    import boto3

    sagemaker, logs = boto3.client("sagemaker"), boto3.client("logs")
    arrivals: dict[str, float] = {}
    tokens: dict[str, str | None] = {}
    group = "/aws/sagemaker/TrainingJobs"
    last_describe, state = 0.0, "TAILING"
    while True:
        if not tokens:
            streams = logs.describe_log_streams(logGroupName=group,
                                                logStreamNamePrefix=f"{name}/",
                                                orderBy="LogStreamName", limit=1)["logStreams"]
            tokens = {s["logStreamName"]: None for s in streams}
        for stream in tokens:
            while True:  # until an empty page
                kwargs = {"logGroupName": group, "logStreamName": stream,
                          "startFromHead": True}
                if tokens[stream]:
                    kwargs["nextToken"] = tokens[stream]
                page = logs.get_log_events(**kwargs)
                tokens[stream] = page["nextForwardToken"]
                now = time.time()
                for event in page["events"]:
                    arrivals.setdefault(event["message"], now)
                if not page["events"]:
                    break
        if state == "COMPLETE":
            return arrivals
        time.sleep(10)
        if state == "JOB_COMPLETE":
            state = "COMPLETE"
        elif time.time() - last_describe > 30:
            last_describe = time.time()
            status = sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"]
            if status in ("Completed", "Failed", "Stopped"):
                state = "JOB_COMPLETE"


def run(seconds: float) -> list[Result]:
    sys.path.insert(0, str(ROOT))
    import tempfile

    from moto.server import ThreadedMotoServer

    from tests.fakes.batch_service import BatchService
    from tests.fakes.pricing_service import PriceListService, product
    from tests.fakes.sagemaker_service import CallCounter, LiveTail, Service

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    prices = PriceListService([product("us-east-1", "Train:ml.m5.xlarge", 0.23, "BENCH")])
    saved = dict(os.environ)
    os.environ.update({"AWS_ENDPOINT_URL": f"http://{host}:{port}",
                       "AWS_ENDPOINT_URL_PRICING": prices.endpoint,  # moto has no price list
                       "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    batch = BatchService(os.environ["AWS_ENDPOINT_URL"], step_seconds=1.0)
    batch.add_queue(QUEUE)
    os.environ["AWS_ENDPOINT_URL_BATCH"] = batch.endpoint
    live = LiveTail()  # StartLiveTail as CloudWatch streams it: an update a second
    counter = CallCounter()  # counts it too
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SM_NOTEBOOK_JOBS_DIR"] = str(Path(tmp, "jobs"))
            shell = benchmark_shell()
            service = Service(os.environ["AWS_ENDPOINT_URL"])
            results = {}
            for who, follow in (("sm_notebook", lambda n: _follow_with_sm_notebook(shell, n)),
                                ("v2", _follow_like_the_v2_sdk),
                                ("queued", lambda n: _follow_with_sm_notebook(
                                    shell, n, f"--queue {QUEUE}"))):
                name = f"bench-logs-{who.replace('_', '-')}-{int(time.time())}"
                counter.counts.clear()
                _writer(service, name, seconds)
                if who == "v2":  # the SDK's fit() creates the job first
                    _create_like_the_sdk(name)
                began = time.monotonic()
                arrivals = follow(name)
                minutes = (time.monotonic() - began) / 60
                results[who] = (median(_latencies(arrivals)), sum(counter.counts.values())
                                / minutes, dict(counter.counts), len(arrivals))
                for thread in service.threads:
                    thread.join(timeout=30)
    finally:
        counter.restore()
        live.restore()
        batch.close()
        server.stop()
        prices.close()
        os.environ.clear()
        os.environ.update(saved)
    ours, v2 = results["sm_notebook"], results["v2"]
    result = Result("sagemaker mode: log latency (1 host, a line every 0.5 s)",
                    ours[0] * 1000, "ms", f"≤ {TARGET_LATENCY_S * 1000:g} ms at ≤ V2's calls",
                    False, "V2 logs_for_job", v2[0] * 1000)
    result.passed = ours[0] <= TARGET_LATENCY_S and ours[1] <= v2[1]
    result.notes += [
        f"API calls per job-minute: sm_notebook {ours[1]:.1f} {ours[2]}, V2 {v2[1]:.1f} "
        f"{v2[2]}",
        f"lines received: sm_notebook {ours[3]}, V2 {v2[3]} (of one every {LINE_EVERY_S} s "
        f"for {seconds:g} s)"]
    queued = results["queued"]
    through_queue = Result("sagemaker mode via a Batch queue: log latency once it runs",
                           queued[0] * 1000, "ms", f"≤ the direct job's + "
                           f"{QUEUE_ALLOWANCE_S * 1000:g} ms", False, "direct job",
                           ours[0] * 1000)
    through_queue.passed = queued[0] <= ours[0] + QUEUE_ALLOWANCE_S
    through_queue.notes.append(f"lines received through the queue: {queued[3]}; API calls "
                               f"per job-minute {queued[1]:.1f} {queued[2]}, the queue "
                               "simulator's own DescribeTrainingJob every second included")
    return [result, through_queue]


def _create_like_the_sdk(name: str) -> None:
    import boto3

    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name, RoleArn="arn:aws:iam::123456789012:role/R",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://b/"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1,
                        "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600})
