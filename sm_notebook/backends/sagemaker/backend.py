"""SageMaker mode: the cell runs as a real training job, created and followed through boto3.

``submit`` uploads the code (one ``sourcedir.tar.gz``, as the V2 SDK lays it out) and the
local inputs, then sends ``CreateTrainingJob`` built by ``plans.py`` (what ``--dry-run``
prints).  ``poll`` describes the job at an adaptive interval and follows its CloudWatch
streams (``cloudwatch.py``); every line goes to ``job.log`` and every status to
``state.json`` here, with the stream positions beside them, so a re-attached job replays
the log from disk and carries on from the saved positions: nothing lost, nothing twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import sourcedir
from ...catalog import images
from ...catalog.pricing import PriceCache
from ...clock import utc_now_iso
from ...errors import SmNotebookError, SpecError
from ...events import LogEvent, StatusEvent
from ...jobdir import parse_records, read_json, write_json
from ...plans import (
    PLAIN_CODE_CHANNEL,
    channel_s3_uri,
    code_in_channel,
    code_s3_uri,
    create_training_job_request,
    launch_settings,
    plain_code_s3_uri,
    uses_launcher,
)
from ...spec import TrainingSpec, no_code_error, resolve_path
from ..aws import aws_errors as _aws_errors
from ..aws import reason as _reason
from ..base import Batch, JobRef
from .cloudwatch import LOG_GROUP, LogFollower, LogPositions, log_events
from .live_tail import LiveTail
from .log_ledger import LogLedger
from .prices import PriceLookup
from .uploads import UploadProgress, files_under, plain_code_channel

TERMINAL = ("Completed", "Failed", "Stopped")
# Present on SageMaker notebook instances and in Studio: the notebook runs on SageMaker.
SAGEMAKER_METADATA = Path("/opt/ml/metadata/resource-metadata.json")
LOG_POLL = 1.0  # seconds between log reads without Live Tail
SAFETY_READ = 60.0  # seconds between reads of every stream while Live Tail runs
# Describe often while starting or changing, then less and less: up to every 30 s with Live
# Tail (V2's pace; lines that stop coming ask sooner), every 10 s when polling anyway.
DESCRIBE_EVERY = (2.0, 30.0)
DESCRIBE_POLLING_MAX = 10.0
LIVE_START_GRACE = 5.0  # seconds a Live Tail session may take to start before reads go on
QUIET = 5.0  # seconds without a line after lines: describe once, it may have ended
REDISCOVER_EVERY = 30.0  # seconds: new streams after every host has one (a restart)
PRICES_FILE = "prices.json"  # beside the job directories: the price list's answers
PRICE_WAIT = 5.0  # seconds an ended job waits for its price before it is done
DRAIN_AFTER = 2.0  # seconds after the end before the last read: CloudWatch lags a little


@dataclass
class _Cursor:
    replayed: bool = False
    next_logs: float = 0.0
    next_describe: float = 0.0
    describe_interval: float = DESCRIBE_EVERY[0]
    next_discovery: float = 0.0
    last_status: tuple[Any, ...] | None = None
    terminal: bool = False
    terminal_at: float = 0.0
    drained: bool = False
    next_waiting: float = 0.0
    last_line_at: float = 0.0
    quiet_checked: bool = False
    live_refused: bool = False
    live_since: float = 0.0
    discovered_at_end: bool = False
    saved_positions: dict[str, Any] | None = None
    follower: Any = field(default=None, repr=False)
    ledger: LogLedger = field(default_factory=LogLedger, repr=False)
    live: LiveTail | None = field(default=None, repr=False)
    price: PriceLookup | None = field(default=None, repr=False)
    price_recorded: bool = False


class SageMakerBackend:
    """Runs jobs on SageMaker; see the module docstring."""

    mode = "sagemaker"
    persists = True

    def __init__(self, bucket: str | None = None, role: str | None = None,
                 live_tail: bool = True):
        self.bucket = bucket
        self.role = role
        self.live_tail = live_tail
        self._session: Any = None
        self._account: str | None = None
        self.on_progress: Callable[..., None] = lambda text, final=False: None

    # ---- AWS --------------------------------------------------------------------------------
    def session(self, region: str | None) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.Session(region_name=region) if region else boto3.Session()
        return self._session

    def client(self, service: str, region: str | None) -> Any:
        from botocore.config import Config

        retries = {"max_attempts": 10, "mode": "adaptive"}  # throttling is retried, not lost
        return self.session(region).client(service, region_name=region,
                                           config=Config(retries=retries))

    def region_of(self, spec: TrainingSpec) -> str:
        region = spec.region or self.session(None).region_name
        if not region:
            raise SpecError("--region", "no AWS region is configured",
                            "--region us-east-1, %config SmTrainMagics.region, or "
                            "AWS_DEFAULT_REGION")
        return region

    def preflight(self, spec: TrainingSpec, base: Path) -> list[str]:
        if spec.image is None:
            raise SpecError("--image", "sagemaker mode needs an image",
                            "--image URI (an ECR image), or %config SmTrainMagics.default_image")
        first, _, rest = spec.image.partition("/")
        if not images.is_alias(spec.image) and not (rest and ("." in first or ":" in first)):
            raise SpecError("--image", f"{spec.image} names no registry, and SageMaker pulls "
                            "training images from one (ECR)", "an alias such as pytorch:2.8, "
                            "or a URI such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/"
                            "repo:tag")
        if not spec.has_code and spec.image_kind != "own":  # AWS's images need code
            raise no_code_error()
        if code_in_channel(spec) and PLAIN_CODE_CHANNEL in spec.channel_names:
            raise SpecError("--input", f"the channel name {PLAIN_CODE_CHANNEL!r} carries the "
                            "code for images without the toolkit", "another channel name")
        region = self.region_of(spec)
        _check_instance_type(spec.effective_instance_type)
        if self.session(region).get_credentials() is None:
            raise SmNotebookError("--mode sagemaker: no AWS credentials found; configure them "
                                  "(aws configure, AWS_PROFILE, or an instance role)")
        with _aws_errors("could not identify the AWS account"):
            identity = self.client("sts", region).get_caller_identity()
        self._account = identity["Account"]
        notes = []
        if not (spec.role or self.role):
            self.role = self.execution_role(identity["Arn"], region)
            notes.append(f"--role: using this notebook's execution role {self.role}")
        notes.append(f"code and data go to s3://{self.bucket_name(region)}/")
        image = images.resolve(spec.image, region, spec.effective_instance_type)
        if image != spec.image:
            notes.insert(0, f"--image {spec.image} is {image}")
        return notes

    def execution_role(self, caller: str, region: str) -> str:
        """The role this notebook runs as, when it runs on SageMaker (a notebook instance
        or Studio), as the SDK's ``get_execution_role``; anywhere else a role must be given."""
        if not SAGEMAKER_METADATA.is_file() or ":assumed-role/" not in caller:
            raise SpecError("--role", "sagemaker mode needs an execution role",
                            "--role arn:aws:iam::ACCOUNT:role/NAME, or %config "
                            "SmTrainMagics.role")
        name = caller.split(":assumed-role/", 1)[1].split("/")[0]
        try:  # the role's full ARN, with its path (service-role/…)
            return self.client("iam", region).get_role(RoleName=name)["Role"]["Arn"]
        except Exception:
            path = "service-role/" if "AmazonSageMaker-ExecutionRole" in name else ""
            return f"arn:aws:iam::{self._account}:role/{path}{name}"

    def bucket_name(self, region: str) -> str:
        return self.bucket or f"sagemaker-{region}-{self._account}"

    def ensure_bucket(self, s3: Any, bucket: str, region: str) -> bool:
        """Create the default bucket when it is missing, as the SDK does; True if created."""
        import botocore.exceptions

        try:
            s3.head_bucket(Bucket=bucket)
            return False
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise SmNotebookError(f"bucket {bucket}: {_reason(exc)}") from None
        if self.bucket:
            raise SmNotebookError(f"bucket {bucket} does not exist (set by %config "
                                  "SmTrainMagics.bucket); create it or unset the option")
        extra = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        with _aws_errors(f"could not create bucket {bucket}"):
            s3.create_bucket(Bucket=bucket, **extra)
        return True

    # ---- launching -------------------------------------------------------------------------
    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef:
        region = self.region_of(spec)
        bucket = self.bucket_name(region)
        s3 = self.client("s3", region)
        notes = [f"created bucket s3://{bucket}"] if self.ensure_bucket(s3, bucket, region) \
            else []
        code_dir = directory / "code"
        notes += sourcedir.lay_out(spec, base, code_dir)
        tarball = sourcedir.make_tarball(code_dir, directory / "sourcedir.tar.gz")
        if code_in_channel(spec):  # the code channel: the code (and the launcher)
            channel = plain_code_s3_uri(bucket, name)
            files = (plain_code_channel(tarball, _launch_file(spec, directory))
                     if uses_launcher(spec) else [(tarball, "sourcedir.tar.gz")])
            uploads = [(path, f"{channel.removeprefix(f's3://{bucket}/')}/{relative}", channel)
                       for path, relative in files]
        else:
            uploads = [(tarball, f"{name}/source/sourcedir.tar.gz", code_s3_uri(bucket, name))]
        for channel in spec.channels:
            if not channel.is_s3:
                uri = channel_s3_uri(channel.source, bucket, name, channel.name)
                uploads += [(path, key, uri) for path, key in files_under(
                    resolve_path(base, channel.source), uri.removeprefix(f"s3://{bucket}/"))]
        uploaded: list[str] = []
        progress = UploadProgress(f"s3://{bucket}/{name}/", [u[0] for u in uploads],
                                   self.on_progress)
        for path, key, uri in uploads:
            with _aws_errors(f"could not upload {path.name}", uploaded):
                s3.upload_file(str(path), bucket, key, Callback=progress.add)
            if uri not in uploaded:
                uploaded.append(uri)
        progress.done()
        image = images.resolve(spec.image or "", region, spec.effective_instance_type)
        request = create_training_job_request(dataclasses.replace(spec, image=image), name,
                                              bucket=bucket, region=region,
                                              role=spec.role or self.role)
        sagemaker = self.client("sagemaker", region)
        with _aws_errors("CreateTrainingJob failed", uploaded):
            sagemaker.create_training_job(**request)
        now = utc_now_iso()
        write_json(directory / "state.json", {
            "status": "InProgress", "secondary_status": "Starting", "created": now,
            "message": "Training job created", "region": region, "bucket": bucket,
            "transitions": []})
        (directory / "job.log").touch()
        if self.live_tail:
            notes.append("logs follow through CloudWatch Live Tail, which AWS bills per "
                         "session-minute (%config SmTrainMagics.live_tail = False polls)")
        return JobRef(name, directory, {"region": region, "notes": notes,
                                        "instance_count": spec.instance_count})

    def attach(self, name: str, directory: Path) -> JobRef:
        state = read_json(directory / "state.json")
        spec = read_json(directory / "job.json").get("spec", {})
        return JobRef(name, directory, {"region": state.get("region"),
                                        "instance_count": spec.get("instance_count", 1)})

    def find(self, name: str, region: str | None) -> dict[str, Any] | None:
        """DescribeTrainingJob of any job in the account (None when there is none by that
        name); for attaching to jobs not started from here."""
        import botocore.exceptions

        region = region or self.session(None).region_name
        if not region or self.session(region).get_credentials() is None:
            return None
        try:
            return self.client("sagemaker", region).describe_training_job(
                TrainingJobName=name)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException":
                return None
            raise SmNotebookError(f"could not look up training job {name}: "
                                  f"{_reason(exc)}") from None

    def adopt(self, description: dict[str, Any], directory: Path) -> TrainingSpec:
        """A job directory for a job created elsewhere: its spec, as far as the
        description tells it, and its region."""
        region = description["TrainingJobArn"].split(":")[3]
        write_json(directory / "state.json", {"region": region, "transitions": [],
                                              **_state_from(description)})
        (directory / "job.log").touch()
        return spec_from_description(description)

    def list_jobs(self, region: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """The account's newest training jobs (ListTrainingJobs), as ``%sm_jobs`` rows."""
        region = self.region_of(TrainingSpec(mode="sagemaker", region=region))
        rows: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending",
                                  "MaxResults": min(limit, 100)}
        with _aws_errors("could not list training jobs"):
            client = self.client("sagemaker", region)
            while len(rows) < limit:
                page = client.list_training_jobs(**kwargs)
                for job in page.get("TrainingJobSummaries", []):
                    end = job.get("TrainingEndTime")
                    rows.append({"name": job["TrainingJobName"], "mode": "sagemaker",
                                 "status": job["TrainingJobStatus"],
                                 "secondary_status": job.get("SecondaryStatus"),
                                 "created": job["CreationTime"].isoformat(),
                                 "ended": end.isoformat() if end else None})
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        return rows[:limit]

    # ---- following ------------------------------------------------------------------------
    def poll(self, ref: JobRef, cursor: _Cursor | None) -> Batch:
        cur = cursor or _Cursor()
        replayed: list[LogEvent] = []
        statuses: list[StatusEvent] = []
        if not cur.replayed:  # a re-attached job: what is on disk first
            cur.replayed = True
            replayed = parse_records((ref.directory / "job.log").read_bytes())
            saved = read_json(ref.directory / "positions.json")
            cur.follower = LogFollower(self.client("logs", ref.handle.get("region")),
                                       ref.name, LogPositions.from_dict(saved))
            cur.ledger = LogLedger.from_dict(saved.get("live_unread", {}))
        now = time.monotonic()
        if not cur.terminal and (now >= cur.next_describe or self._gone_quiet(cur, now)):
            statuses += self._describe(ref, cur)
        fresh = self._live_events(ref, cur, now)
        names = self._reads_due(ref, cur, now)
        if names is None or names:
            read = self._read(cur, names)
            fresh += read
            if cur.terminal and cur.live is None:  # the drain: until a read finds nothing
                cur.drained = now - cur.terminal_at >= DRAIN_AFTER and not read \
                    and not cur.follower.errors
        if fresh:
            cur.last_line_at, cur.quiet_checked = now, False
        self._keep(ref, cur, fresh)
        done = cur.terminal and cur.drained
        if not cur.price_recorded and cur.last_status is not None:
            self._price(ref, cur, finishing=done)
        return Batch(replayed + fresh, statuses, cur, done)

    def _live_events(self, ref: JobRef, cur: _Cursor, now: float) -> list[LogEvent]:
        """Start Live Tail once the job is known, end it after the end, and pass what it
        heard through the ledger."""
        wanted = self.live_tail and not cur.terminal and not cur.live_refused
        arn = read_json(ref.directory / "state.json").get("arn") \
            if wanted and cur.live is None else None
        if arn:
            region = ref.handle.get("region")
            partition, account = arn.split(":")[1], arn.split(":")[4]
            cur.live = LiveTail(lambda: self.live_tail_client(region),
                                f"arn:{partition}:logs:{region}:{account}:log-group:"
                                f"{LOG_GROUP}", f"{ref.name}/").start()
            cur.live_since = now
        if cur.live is None:
            return []
        out = []
        for item in cur.live.take():
            if item[0] == "start":  # blind to what came before: read every stream first
                self._discover(cur)
                cur.ledger.session_started(list(cur.follower.positions.tokens))
                cur.next_logs = now + SAFETY_READ
            elif item[0] == "update":
                out += cur.ledger.from_live(item[2], sampled=item[1])
            else:  # the session ended (another follows) or Live Tail is refused
                cur.ledger.session_ended()
                cur.live_refused = item[0] == "refused"
                cur.next_logs = min(cur.next_logs, now + LOG_POLL)  # reads carry on meanwhile
        if cur.live_refused or (cur.terminal and now - cur.terminal_at >= DRAIN_AFTER):
            self.release(cur)
        return log_events(out, interleave=False)

    def _reads_due(self, ref: JobRef, cur: _Cursor, now: float) -> list[str] | None:
        """Which streams to read now: ``None`` for all of them (after finding new ones),
        a list for some, an empty list for none."""
        live = cur.ledger.live
        if cur.terminal:  # Live Tail brings the last lines; then reads drain the streams
            if cur.live is not None or now < cur.next_logs:
                return []
            cur.next_logs = now + LOG_POLL
            if not cur.discovered_at_end:
                cur.discovered_at_end = True
                self._discover(cur)
            return None
        if cur.live is not None and not live and cur.live.sessions == 0 \
                and now - cur.live_since < LIVE_START_GRACE:
            return []  # the session is on its way, and reads every stream when it starts
        if now >= cur.next_logs:
            cur.next_logs = now + (SAFETY_READ if live else LOG_POLL)
            expected = ref.handle.get("instance_count", 1)
            if now >= cur.next_discovery or (
                    not live and len(cur.follower.positions.tokens) < expected):
                cur.next_discovery = now + (SAFETY_READ if live else REDISCOVER_EVERY)
                self._discover(cur)
            return None
        waiting = cur.ledger.waiting()
        if waiting and now >= cur.next_waiting:
            cur.next_waiting = now + LOG_POLL
            return waiting
        return []

    @staticmethod
    def _discover(cur: _Cursor) -> None:
        with contextlib.suppress(Exception):  # retried next round
            cur.follower.discover()

    def _read(self, cur: _Cursor, names: list[str] | None) -> list[LogEvent]:
        out = []
        for name, (events, caught_up) in cur.follower.read(names).items():
            out += cur.ledger.from_read(name, events, caught_up)
        return log_events(out)

    @staticmethod
    def _gone_quiet(cur: _Cursor, now: float) -> bool:
        """Lines stopped coming: often the end, so the status is asked once, early."""
        if cur.last_line_at and not cur.quiet_checked and now - cur.last_line_at >= QUIET:
            cur.quiet_checked = True
            return True
        return False

    def _keep(self, ref: JobRef, cur: _Cursor, fresh: list[LogEvent]) -> None:
        """New lines to ``job.log``, then where each stream was read to."""
        if fresh:
            with open(ref.directory / "job.log", "a", encoding="utf-8") as log:
                log.writelines(ev.to_record() for ev in fresh)
        positions = {**cur.follower.positions.to_dict(),
                     "live_unread": cur.ledger.to_dict()}
        if positions != cur.saved_positions:
            write_json(ref.directory / "positions.json", positions)
            cur.saved_positions = positions

    def release(self, cursor: Any) -> None:
        """End the Live Tail session (billed while open) when the job is no longer
        followed."""
        if cursor is not None and cursor.live is not None:
            cursor.live.close()
            cursor.live = None
            cursor.ledger.session_ended()
            cursor.next_logs = 0.0  # reads alone from now: the next one at once

    def live_tail_client(self, region: str | None) -> Any:
        """A logs client for StartLiveTail: one attempt per call (``live_tail.py`` decides
        what is worth another), and without the ``stream-`` host prefix AWS serves it
        under when the endpoint is a custom one (``AWS_ENDPOINT_URL``)."""
        from botocore.config import Config

        endpoint = self.client("logs", region).meta.endpoint_url
        return self.session(region).client("logs", region_name=region, config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            inject_host_prefix=_is_aws_endpoint(endpoint)))

    def _describe(self, ref: JobRef, cur: _Cursor) -> list[StatusEvent]:
        ceiling = DESCRIBE_EVERY[1] if cur.live is not None else DESCRIBE_POLLING_MAX
        try:
            job = self.client("sagemaker", ref.handle.get("region")).describe_training_job(
                TrainingJobName=ref.name)
        except Exception:  # throttled or offline: the next round tries again
            cur.next_describe = time.monotonic() + cur.describe_interval
            return []
        state = read_json(ref.directory / "state.json")
        state.update(_state_from(job))
        write_json(ref.directory / "state.json", state)
        key = (state["status"], state["secondary_status"], state.get("failure_reason"))
        changed = key != cur.last_status
        cur.describe_interval = DESCRIBE_EVERY[0] if changed else min(
            ceiling, cur.describe_interval * 3)
        cur.next_describe = time.monotonic() + cur.describe_interval
        if not changed:
            return []
        cur.last_status = key
        if state["status"] in TERMINAL and not cur.terminal:
            cur.terminal, cur.terminal_at = True, time.monotonic()
            cur.next_logs = 0.0  # without Live Tail, the lines written last at once
        return [StatusEvent(state.get("last_modified") or utc_now_iso(), state["status"],
                            state["secondary_status"], state.get("message", ""),
                            state.get("failure_reason"))]

    def _price(self, ref: JobRef, cur: _Cursor, finishing: bool) -> None:
        """Once the job is described: look its instance type's price up (on a thread),
        then keep it in ``state.json`` (``hourly_price``, None when unknown).  A job that
        ends before the answer waits a little for it, so its last state has the cost."""
        if cur.price is None:
            state = read_json(ref.directory / "state.json")
            if "hourly_price" in state:  # a re-attached job: known already
                cur.price_recorded = True
                return
            cur.price = PriceLookup(self.session(None), ref.handle.get("region"),
                                    state.get("instance_type"),
                                    PriceCache(ref.directory.parent / PRICES_FILE))
        if not cur.price.wait(PRICE_WAIT if finishing else 0):
            return
        state = read_json(ref.directory / "state.json")
        state["hourly_price"] = cur.price.result
        write_json(ref.directory / "state.json", state)
        cur.price_recorded = True

    # ---- control --------------------------------------------------------------------------
    def stop(self, ref: JobRef) -> None:
        with _aws_errors(f"could not stop {ref.name}"):
            self.client("sagemaker", ref.handle.get("region")).stop_training_job(
                TrainingJobName=ref.name)

    def describe(self, ref: JobRef) -> dict[str, Any]:
        return read_json(ref.directory / "state.json")

    def download(self, ref: JobRef, uri: str, folder: Path) -> Path:
        """An S3 object into ``folder`` (kept: a second call reads the local copy)."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        target = folder / Path(key).name
        if not target.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            with _aws_errors(f"could not download {uri}"):
                self.client("s3", ref.handle.get("region")).download_file(bucket, key,
                                                                          str(partial))
            partial.replace(target)
        return target

    def plan(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> str:
        from ...plans import describe_plan

        return describe_plan(spec, name, base)


def spec_from_description(job: dict[str, Any]) -> TrainingSpec:
    """What sm_notebook can tell of a job from DescribeTrainingJob (for display and
    ``job.spec``; such a job is never launched again from this spec)."""
    import json

    hyperparameters: dict[str, Any] = {}
    for key, value in (job.get("HyperParameters") or {}).items():
        if key.startswith("sagemaker_"):
            continue
        try:
            hyperparameters[key] = json.loads(value)
        except ValueError:
            hyperparameters[key] = value
    entry = (job.get("HyperParameters") or {}).get("sagemaker_program", '"train.py"')
    resource = job.get("ResourceConfig") or {}
    algorithm = job.get("AlgorithmSpecification") or {}
    return TrainingSpec(
        cell="", mode="sagemaker", image=algorithm.get("TrainingImage"),
        entry_script=entry.strip('"') or "train.py",
        instance_type=resource.get("InstanceType"),
        instance_count=resource.get("InstanceCount", 1), hyperparameters=hyperparameters,
        job_name=job["TrainingJobName"], role=job.get("RoleArn"),
        region=job["TrainingJobArn"].split(":")[3])


def _check_instance_type(instance_type: str) -> None:
    """Against botocore's list of training instance types, before anything is uploaded."""
    import difflib

    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    valid = model.shape_for("TrainingInstanceType").enum
    if instance_type not in valid:
        close = difflib.get_close_matches(instance_type, valid, n=3)
        raise SpecError("--instance-type", f"{instance_type} is not a SageMaker training "
                        "instance type", " or ".join(close) if close else "ml.m5.xlarge, "
                        "ml.g5.xlarge, ... (aws sagemaker's TrainingInstanceType)")


def _state_from(job: dict[str, Any]) -> dict[str, Any]:
    """DescribeTrainingJob → the fields ``state.json`` keeps."""
    transitions = [{key: (value.isoformat() if hasattr(value, "isoformat") else value)
                    for key, value in t.items()}
                   for t in job.get("SecondaryStatusTransitions", [])]
    state: dict[str, Any] = {
        "arn": job["TrainingJobArn"], "status": job["TrainingJobStatus"],
        "secondary_status": job.get("SecondaryStatus", ""),
        "message": transitions[-1].get("StatusMessage", "") if transitions else "",
        "transitions": transitions, "failure_reason": job.get("FailureReason"),
        "billable_seconds": job.get("BillableTimeInSeconds"),
        "training_seconds": job.get("TrainingTimeInSeconds"),
        "instance_type": (job.get("ResourceConfig") or {}).get("InstanceType"),
        "instance_count": (job.get("ResourceConfig") or {}).get("InstanceCount"),
        "final_metrics": [{"metric": m["MetricName"], "value": m["Value"]}
                          for m in job.get("FinalMetricDataList", [])]}
    if job.get("LastModifiedTime"):
        state["last_modified"] = job["LastModifiedTime"].isoformat()
    if job.get("TrainingStartTime"):  # billing starts here
        state["training_start"] = job["TrainingStartTime"].isoformat()
    if job["TrainingJobStatus"] in TERMINAL:
        end = job.get("TrainingEndTime") or job.get("LastModifiedTime")
        state["ended"] = end.isoformat() if end else utc_now_iso()
        artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        if artifacts:
            state["model_artifacts"] = artifacts
    return state


def _is_aws_endpoint(url: str) -> bool:
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


def _launch_file(spec: TrainingSpec, directory: Path) -> Path:
    """The launcher's settings, written beside the job for the code channel."""
    from ...contract import LAUNCH_FILE

    path = directory / LAUNCH_FILE
    write_json(path, launch_settings(spec))
    return path
