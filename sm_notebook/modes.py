"""The table of modes: where a job can run, and what each place needs and allows.

Every question that depends on the mode (does it need an image, may it take several
hosts, what does Ctrl-C do, what does the dry run call the job) is answered here, so the
spec, the line parser, the form, the magics and the dashboard ask one table instead of
comparing mode names.  Which class runs a mode is the backends' business
(``backends.get``); this module is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import SpecError

LOCAL_INSTANCE_TYPES = ("local", "local_cpu", "local_gpu")
CONTAINER_INSTANCE_TYPES = ("local_cpu", "local_gpu")


@dataclass(frozen=True)
class Mode:
    """One place a job runs, as the rest of the package needs to know it."""

    name: str
    summary: str  # what runs, in a few words (help text and the form)
    on_this_machine: bool  # Ctrl-C during --wait stops it; stop is SIGTERM then SIGKILL
    needs_image: bool
    needs_role: bool
    multi_host: bool  # --instance-count above 1
    default_instance_type: str
    instance_choices: tuple[tuple[str, str], ...]  # (label, value) offered before the catalog
    offers_catalog: bool  # the form lists SageMaker's instance types
    local_instance_types: tuple[str, ...] = ()  # local_* types this mode takes
    implied_by: tuple[str, ...] = ()  # instance types that choose this mode by themselves
    always_needs_code: bool = False  # no image here can run without our code
    takes_image: bool = True  # --image, --image-kind and --volume-gb have an effect
    takes_role: bool = True
    takes_python: bool = False  # --python (the interpreter of a process here)
    s3_output: bool = True  # --output may be an s3:// URI
    sends_tags: bool = False  # tags reach AWS (elsewhere they are only recorded)
    #: options refused in this mode → what to use instead
    unavailable: dict[str, str] = field(default_factory=dict)
    names_job_in_dry_run: bool = True  # a dry run shows the generated name
    lists_account_jobs: bool = False  # %sm_jobs --mode NAME lists jobs made elsewhere too
    stop_wording: str = "SIGTERM, then SIGKILL after the grace period"
    interrupt_wording: str = "interrupt the kernel (■) to stop it"  # a --wait cell's Ctrl-C
    describes_instance_only: bool = False  # --instance-type is only told to the script
    runs_in: str = ""  # where its jobs run, as in "local_cpu runs in Docker containers"
    #: options accepted but without effect here (a note says so), and why
    ignored: tuple[str, ...] = ()
    ignored_because: str = ""
    hosts_share_machine: bool = False  # every host is a container here: they share its memory
    #: how a job here gets a credential, which --hp, --env and --tag would store in clear
    secrets_from: str = ("read it in the script from a secret store (AWS Secrets Manager, SSM "
                         "Parameter Store) with the job's role")


_MANAGED = "--mode sagemaker for managed spot, checkpoints and warm pools"
_VPC = "--mode sagemaker"
_QUEUE = "--mode sagemaker (an AWS Batch training queue runs SageMaker training jobs)"

LOCAL = Mode(
    name="local",
    summary="a process on this machine (the default)",
    on_this_machine=True,
    needs_image=False,
    needs_role=False,
    multi_host=False,
    default_instance_type="local",
    instance_choices=(("local (this machine, a process)", ""),),
    offers_catalog=False,
    always_needs_code=True,
    takes_image=False,
    takes_role=False,
    takes_python=True,
    s3_output=False,
    unavailable={"--spot": _MANAGED, "--max-wait": _MANAGED, "--checkpoint-s3": _MANAGED,
                 "--keep-alive": _MANAGED, "--subnets": _VPC, "--security-groups": _VPC,
                 "--network-isolation": _VPC,
                 "--jumpstart": "--mode sagemaker, or --mode container (a JumpStart model "
                                "trains in its own image, which a local process has not)",
                 "--queue": _QUEUE},
    describes_instance_only=True,
    ignored=("--image", "--image-kind", "--volume-gb", "--role"),
    ignored_because="the script runs as a process on this machine",
    secrets_from=("set it in the kernel's environment before the job starts (os.environ["
                  "'NAME'] = ...), which a local job inherits and no file of the job holds, "
                  "or read it in the script from a secret store"),
)

CONTAINER = Mode(
    name="container",
    summary="Docker containers on this machine, with SageMaker's /opt/ml contract",
    on_this_machine=True,
    needs_image=True,
    needs_role=False,
    multi_host=True,
    default_instance_type="local_cpu",
    instance_choices=(("local_cpu (this machine's CPUs)", ""),
                      ("local_gpu (every GPU here)", "local_gpu")),
    offers_catalog=True,
    local_instance_types=CONTAINER_INSTANCE_TYPES,
    implied_by=CONTAINER_INSTANCE_TYPES,
    takes_role=False,
    runs_in="Docker containers",
    hosts_share_machine=True,
    secrets_from=("keep it in a file of an --input channel (mounted read-only, never copied "
                  "into the job) and read it there, or read it from a secret store"),
    unavailable={"--spot": "--mode sagemaker", "--subnets": _VPC, "--security-groups": _VPC,
                 "--network-isolation": _VPC, "--queue": _QUEUE},
)

SAGEMAKER = Mode(
    name="sagemaker",
    summary="a SageMaker training job through boto3",
    on_this_machine=False,
    needs_image=True,
    needs_role=True,
    multi_host=True,
    default_instance_type="ml.m5.xlarge",
    instance_choices=(("ml.m5.xlarge — default", ""),),
    offers_catalog=True,
    sends_tags=True,
    names_job_in_dry_run=False,
    lists_account_jobs=True,
    stop_wording="StopTrainingJob: SageMaker stops the job and keeps what it saved",
    interrupt_wording=("interrupt the kernel (■), then job.stop() stops it"
                       " (an interrupt alone leaves it running)"),
)

MODES: dict[str, Mode] = {m.name: m for m in (LOCAL, CONTAINER, SAGEMAKER)}
NAMES: tuple[str, ...] = tuple(MODES)
DEFAULT = LOCAL.name


def get(name: str) -> Mode:
    """The mode called ``name``; a :class:`SpecError` naming ``--mode`` otherwise."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise SpecError("--mode", f"unknown mode {name!r}", " or ".join(NAMES)) from None


def implied_by(instance_type: str | None) -> Mode | None:
    """The mode an instance type chooses by itself (``local_cpu`` → container), if any."""
    return next((m for m in MODES.values() if instance_type in m.implied_by), None)
