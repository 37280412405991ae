"""SageMaker mode: the cell runs as a real training job, created and followed through boto3.

``submit`` uploads the code (one ``sourcedir.tar.gz``, as the V2 SDK lays it out) and the
local inputs, then sends ``CreateTrainingJob`` built by ``request.py`` (what ``--dry-run``
prints); ``follow.py`` follows the job from there.  Jobs made elsewhere in the account can
be listed, found and adopted (``description.py`` reads what the service says of them).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ... import distribution, sourcedir
from ...catalog import images
from ...clock import utc_now_iso
from ...contract import LAUNCH_FILE
from ...errors import SmNotebookError, SpecError
from ...jobdir import JobDir, JobState, write_json
from ...spec import TrainingSpec, no_code_error, resolve_path
from ..aws import aws_errors, reason
from ..base import Batch, JobRef, Progress, no_progress
from ..s3_inputs import fetch_source
from .clients import AwsClients
from .description import check_instance_type, job_row, spec_from_description, state_from
from .follow import JobFollower
from .queue import QueueCursor, QueueFollower, Queues, submit_request
from .request import (
    PLAIN_CODE_CHANNEL,
    channel_s3_uri,
    code_in_channel,
    code_s3_uri,
    create_training_job_request,
    describe_plan,
    drivers_s3_uri,
    launch_settings,
    plain_code_s3_uri,
    uses_launcher,
    validate_request,
)
from .uploads import UploadProgress, files_under, plain_code_channel

# Present on SageMaker notebook instances and in Studio: the notebook runs on SageMaker.
SAGEMAKER_METADATA = Path("/opt/ml/metadata/resource-metadata.json")
SOURCEDIR_TARBALL = "sourcedir.tar.gz"


@dataclasses.dataclass
class Uploaded:
    """What ``upload`` did: the spec to send, where, and what is already in S3."""

    spec: TrainingSpec
    region: str
    bucket: str
    uploaded: list[str]
    notes: list[str]


class SageMakerBackend:
    """Runs jobs on SageMaker; see the module docstring."""

    mode = "sagemaker"

    def __init__(self, bucket: str | None = None, role: str | None = None,
                 live_tail: bool = True):
        self.bucket = bucket
        self.role = role
        self.aws = AwsClients()
        self.follower = JobFollower(self.aws, live_tail)
        self.queued = QueueFollower(self.aws, self.follower)
        self._account: str | None = None
        self.on_progress: Progress = no_progress

    @classmethod
    def from_settings(cls, settings: Any) -> SageMakerBackend:
        return cls(bucket=settings.bucket, role=settings.role, live_tail=settings.live_tail)

    @property
    def live_tail(self) -> bool:
        """Whether logs follow through CloudWatch Live Tail (billed) or polling alone."""
        return self.follower.live_tail

    def own_role_available(self) -> bool:
        """On a SageMaker notebook instance or in Studio the notebook's role runs jobs."""
        return SAGEMAKER_METADATA.is_file()

    # ---- before anything exists ---------------------------------------------------------
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
        region = self.aws.region_of(spec)
        check_instance_type(spec.effective_instance_type)
        identity = self.identify(region)
        if spec.queue is not None:  # before anything is uploaded
            Queues(self.aws, region).check(spec.queue)
        notes = []
        if not (spec.role or self.role):
            self.role = self.execution_role(identity["Arn"], region)
            notes.append(f"--role: using this notebook's execution role {self.role}")
        notes.append(f"code and data go to s3://{self.bucket_name(region)}/")
        image = images.resolve(spec.image, region, spec.effective_instance_type)
        if image != spec.image:
            notes.insert(0, f"--image {spec.image} is {image}")
        return notes

    def identify(self, region: str) -> dict[str, Any]:
        """Who the credentials are (``GetCallerIdentity``); one line when there are none."""
        if self.aws.session(region).get_credentials() is None:
            raise SmNotebookError("--mode sagemaker: no AWS credentials found; configure them "
                                  "(aws configure, AWS_PROFILE, or an instance role)")
        with aws_errors("could not identify the AWS account"):
            identity = self.aws.client("sts", region).get_caller_identity()
        self._account = identity["Account"]
        return identity

    def execution_role(self, caller: str, region: str) -> str:
        """The role this notebook runs as, when it runs on SageMaker (a notebook instance
        or Studio), as the SDK's ``get_execution_role``; anywhere else a role must be given."""
        if not self.own_role_available() or ":assumed-role/" not in caller:
            raise SpecError("--role", "sagemaker mode needs an execution role",
                            "--role arn:aws:iam::ACCOUNT:role/NAME, or %config "
                            "SmTrainMagics.role")
        name = caller.split(":assumed-role/", 1)[1].split("/")[0]
        try:  # the role's full ARN, with its path (service-role/…)
            return self.aws.client("iam", region).get_role(RoleName=name)["Role"]["Arn"]
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
                raise SmNotebookError(f"bucket {bucket}: {reason(exc)}") from None
        if self.bucket:
            raise SmNotebookError(f"bucket {bucket} does not exist (set by %config "
                                  "SmTrainMagics.bucket); create it or unset the option")
        extra = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        with aws_errors(f"could not create bucket {bucket}"):
            s3.create_bucket(Bucket=bucket, **extra)
        return True

    # ---- launching -------------------------------------------------------------------------
    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef:
        upload = self.upload(spec, name, directory, base)
        request = create_training_job_request(upload.spec, name, bucket=upload.bucket,
                                              region=upload.region,
                                              role=spec.role or self.role)
        extra: dict[str, Any] = {"region": upload.region, "bucket": upload.bucket}
        handle: dict[str, Any] = {"region": upload.region,
                                  "instance_count": spec.instance_count}
        if spec.queue is None:
            sagemaker = self.aws.client("sagemaker", upload.region)
            with aws_errors("CreateTrainingJob failed", upload.uploaded):
                sagemaker.create_training_job(**request)
            message = "Training job created"
        else:
            handle["queue_job"] = self.enqueue(spec, name, request, upload)
            extra.update(queue=spec.queue, queue_job=handle["queue_job"])
            message = f"Submitted to queue {spec.queue}"
        folder = JobDir(directory)
        folder.write_state(JobState(created=utc_now_iso(), message=message, extra=extra))
        folder.log_file.touch()
        notes = upload.notes
        if self.live_tail:
            notes.append("logs follow through CloudWatch Live Tail, which AWS bills per "
                         "session-minute (%config SmTrainMagics.live_tail = False polls)")
        return JobRef(name, directory, handle, notes)

    def enqueue(self, spec: TrainingSpec, name: str, request: dict[str, Any],
                upload: Uploaded) -> str:
        """Submit the job to its Batch queue (the request checked as CreateTrainingJob's
        first: Batch would only refuse it later); the service job's id."""
        submit = submit_request(request, spec, name)
        with aws_errors("the job is not one SageMaker and Batch take", upload.uploaded):
            validate_request(request)  # botocore's ParamValidationError: said in one line
            validate_request(submit, "SubmitServiceJob", "batch")
        return Queues(self.aws, upload.region).submit(submit, upload.uploaded)["jobId"]

    def submit_tuning(self, spec: TrainingSpec, options: Any, name: str, directory: Path,
                      base: Path) -> tuple[str, list[str]]:
        """A tuning job of ``spec``'s trials (``tuning.py``): its region and the notes."""
        from .tuning import TuningJobs, tuning_request

        upload = self.upload(spec, name, directory, base)
        training = create_training_job_request(upload.spec, name, bucket=upload.bucket,
                                               region=upload.region,
                                               role=spec.role or self.role)
        request, notes = tuning_request(name, training, options)
        TuningJobs(self.aws, upload.region).create(request, upload.uploaded)
        return upload.region, upload.notes + notes

    def upload(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> Uploaded:
        """The code (one ``sourcedir.tar.gz``) and local channels, uploaded under
        ``s3://BUCKET/NAME/``, the bucket made when it is the default one; the spec with
        its image resolved, for the request (a training job's, or a tuning job's)."""
        region = self.aws.region_of(spec)
        bucket = self.bucket_name(region)
        s3 = self.aws.client("s3", region)
        notes = [f"created bucket s3://{bucket}"] if self.ensure_bucket(s3, bucket, region) \
            else []
        code_dir = directory / "code"
        fetched = fetch_source(spec, directory, self.on_progress)  # an S3 --source-dir
        notes += sourcedir.lay_out(fetched, base, code_dir)
        tarball = sourcedir.make_tarball(code_dir, directory / SOURCEDIR_TARBALL)
        if code_in_channel(spec):  # the code channel: the code (and the launcher)
            channel = plain_code_s3_uri(bucket, name)
            code = files_under(code_dir, "") if distribution.is_driver(spec.distribution) \
                else [(tarball, SOURCEDIR_TARBALL)]  # a driver's code lies as files, as V3's
            files = (plain_code_channel(code, _launch_file(spec, directory))
                     if uses_launcher(spec) else code)
            uploads = [(path, f"{channel.removeprefix(f's3://{bucket}/')}/{relative}", channel)
                       for path, relative in files]
        else:
            uri = code_s3_uri(bucket, name)
            uploads = [(tarball, uri.removeprefix(f"s3://{bucket}/"), uri)]
        if distribution.is_driver(spec.distribution):
            drivers = directory / distribution.DRIVERS_CHANNEL
            sourcedir.lay_out_drivers(spec, base, drivers)
            uri = drivers_s3_uri(bucket, name)
            uploads += [(path, key, uri) for path, key in files_under(
                drivers, uri.removeprefix(f"s3://{bucket}/"))]
        for channel in spec.channels:
            if not channel.is_s3:
                uri = channel_s3_uri(channel.source, bucket, name, channel.name)
                uploads += [(path, key, uri) for path, key in files_under(
                    resolve_path(base, channel.source), uri.removeprefix(f"s3://{bucket}/"))]
        uploaded: list[str] = []
        progress = UploadProgress(f"s3://{bucket}/{name}/", [u[0] for u in uploads],
                                   self.on_progress)
        for path, key, uri in uploads:
            with aws_errors(f"could not upload {path.name}", uploaded):
                s3.upload_file(str(path), bucket, key, Callback=progress.add)
            if uri not in uploaded:
                uploaded.append(uri)
        progress.done()
        image = images.resolve(spec.image or "", region, spec.effective_instance_type)
        return Uploaded(dataclasses.replace(spec, image=image), region, bucket, uploaded,
                        notes)

    def attach(self, name: str, directory: Path) -> JobRef:
        folder = JobDir(directory)
        meta = folder.read_meta()
        spec = meta.spec if meta is not None else {}
        state = folder.state_dict()
        handle = {"region": state.get("region"), "instance_count": spec.get("instance_count", 1)}
        if state.get("queue_job"):
            handle["queue_job"] = state["queue_job"]
        return JobRef(name, directory, handle)

    def find(self, name: str, region: str | None) -> dict[str, Any] | None:
        """DescribeTrainingJob of any job in the account (None when there is none by that
        name); for attaching to jobs not started from here."""
        import botocore.exceptions

        region = region or self.aws.session(None).region_name
        if not region or self.aws.session(region).get_credentials() is None:
            return None
        try:
            return self.aws.client("sagemaker", region).describe_training_job(
                TrainingJobName=name)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException":
                return None
            raise SmNotebookError(f"could not look up training job {name}: "
                                  f"{reason(exc)}") from None

    def adopt(self, description: dict[str, Any], directory: Path) -> TrainingSpec:
        """A job directory for a job created elsewhere: its spec, as far as the
        description tells it, and its region."""
        region = description["TrainingJobArn"].split(":")[3]
        folder = JobDir(directory)
        folder.write_state({"region": region, "transitions": [], **state_from(description)})
        folder.log_file.touch()
        return spec_from_description(description)

    def list_jobs(self, region: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """The account's newest training jobs (ListTrainingJobs), as ``%sm_jobs`` rows."""
        region = self.aws.region_of(TrainingSpec(mode="sagemaker", region=region))
        rows: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending",
                                  "MaxResults": min(limit, 100)}
        with aws_errors("could not list training jobs"):
            client = self.aws.client("sagemaker", region)
            while len(rows) < limit:
                page = client.list_training_jobs(**kwargs)
                rows += [job_row(job) for job in page.get("TrainingJobSummaries", [])]
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        return rows[:limit]

    def queue_jobs(self, queue: str, region: str | None) -> list[dict[str, Any]]:
        """``%sm_jobs --queue NAME``: the queue's jobs (ListServiceJobs), newest first."""
        region = self.aws.region_of(TrainingSpec(mode="sagemaker", region=region))
        Queues(self.aws, region).check(queue)
        return Queues(self.aws, region).jobs(queue)

    # ---- following: follow.py's ----------------------------------------------------------
    def poll(self, ref: JobRef, cursor: Any) -> Batch:
        if ref.handle.get("queue_job"):  # through its queue, then as a training job
            return self.queued.poll(ref, cursor)
        return self.follower.poll(ref, cursor)

    def release(self, cursor: Any) -> None:
        """End the Live Tail session (billed while open) when the job is no longer
        followed."""
        if isinstance(cursor, QueueCursor):
            self.queued.release(cursor)
        else:
            self.follower.release(cursor)

    # ---- control --------------------------------------------------------------------------
    def stop(self, ref: JobRef) -> None:
        if ref.handle.get("queue_job"):  # Batch stops its training job, if it has one
            Queues(self.aws, ref.handle.get("region")).terminate(ref.handle["queue_job"],
                                                                 ref.name)
            return
        with aws_errors(f"could not stop {ref.name}"):
            self.aws.client("sagemaker", ref.handle.get("region")).stop_training_job(
                TrainingJobName=ref.name)

    def describe(self, ref: JobRef) -> dict[str, Any]:
        return JobDir(ref.directory).state_dict()

    def download(self, ref: JobRef, uri: str, folder: Path) -> Path:
        """An S3 object into ``folder`` (kept: a second call reads the local copy)."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        target = folder / Path(key).name
        if not target.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            with aws_errors(f"could not download {uri}"):
                self.aws.client("s3", ref.handle.get("region")).download_file(bucket, key,
                                                                          str(partial))
            partial.replace(target)
        return target

    def plan(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> str:
        return describe_plan(spec, name, base)


def _launch_file(spec: TrainingSpec, directory: Path) -> Path:
    """The launcher's settings, written beside the job for the code channel."""
    path = directory / LAUNCH_FILE
    write_json(path, launch_settings(spec))
    return path
