"""Image aliases: ``pytorch:2.8``, ``sklearn:1.2-1``, ... → the AWS training image URI for a
region, as the SDK's ``image_uris.retrieve`` builds it.

The figures (versions, Python tags, repositories, registry accounts by region) are the
training entries of the SageMaker Python SDK's ``image_uri_config`` (Apache-2.0, sagemaker
2.257), trimmed to recent versions; any other image is given by its URI.  Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SpecError

DLC_ACCOUNT = "763104351884"  # deep-learning containers, in most regions
DLC_ACCOUNTS = {
    "af-south-1": "626614931356", "ap-east-1": "871362719292", "ap-east-2": "975050140332",
    "ap-northeast-3": "364406365360", "ap-south-2": "772153158452",
    "ap-southeast-3": "907027046896", "ap-southeast-4": "457447274322",
    "ap-southeast-5": "550225433462", "ap-southeast-6": "633930458069",
    "ap-southeast-7": "590183813437", "ca-west-1": "204538143572",
    "cn-north-1": "727897471807", "cn-northwest-1": "727897471807",
    "eu-central-2": "380420809688", "eu-south-1": "692866216735",
    "eu-south-2": "503227376785", "il-central-1": "780543022126",
    "me-central-1": "914824155844", "me-south-1": "217643126080",
    "mx-central-1": "637423239942", "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353"}
DLC_DEFAULT_REGIONS = frozenset({
    "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"})
ALGORITHM_ACCOUNTS = {  # scikit-learn and XGBoost
    "af-south-1": "510948584623", "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037", "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886", "ap-south-1": "720646828776",
    "ap-south-2": "628508329040", "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285", "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589", "ca-central-1": "341280168497",
    "ca-west-1": "190319476487", "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500", "eu-central-1": "492215442770",
    "eu-central-2": "680994064768", "eu-north-1": "662702820516",
    "eu-south-1": "978288397137", "eu-south-2": "104374241257",
    "eu-west-1": "141502667606", "eu-west-2": "764974769150", "eu-west-3": "659782779980",
    "il-central-1": "898809789911", "me-central-1": "272398656194",
    "me-south-1": "801668240914", "sa-east-1": "737474898029",
    "us-east-1": "683313688378", "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967", "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791", "us-west-2": "246618743249"}


@dataclass(frozen=True)
class Framework:
    repository: str
    versions: dict[str, str]  # version → Python tag
    processors: tuple[str, ...] = ("cpu", "gpu")
    dlc: bool = True  # registry: the deep-learning containers' account, else the algorithms'
    cuda: dict[str, str] | None = None  # version → container version on GPU (Hugging Face)


FRAMEWORKS = {
    "pytorch": Framework("pytorch-training", {
        "2.3.0": "py311", "2.4.0": "py311", "2.5.1": "py311", "2.6.0": "py312",
        "2.7.1": "py312", "2.8.0": "py312"}),
    "tensorflow": Framework("tensorflow-training", {
        "2.14.1": "py310", "2.16.2": "py310", "2.18.0": "py310", "2.19.0": "py312"}),
    "sklearn": Framework("sagemaker-scikit-learn", {
        "1.0-1": "py3", "1.2-1": "py3", "1.4-2": "py3"}, ("cpu",), dlc=False),
    "xgboost": Framework("sagemaker-xgboost", {
        "1.3-1": "", "1.5-1": "", "1.7-1": "", "3.0-5": ""}, (), dlc=False),
    "huggingface": Framework("huggingface-pytorch-training", {
        "4.48.0": "py311", "4.49.0": "py311", "4.55.0": "py312", "4.56.2": "py312"},
        ("gpu",), cuda={"4.48.0": "2.3.0-transformers4.48.0/cu121-ubuntu20.04",
                        "4.49.0": "2.5.1-transformers4.49.0/cu124-ubuntu22.04",
                        "4.55.0": "2.7.1-transformers4.55.0/cu128-ubuntu22.04",
                        "4.56.2": "2.8.0-transformers4.56.2/cu129-ubuntu22.04"}),
}
ALIAS_RE = re.compile(r"^(?P<framework>[a-z]+)(?::(?P<version>[0-9][\w.\-]*))?$")


def is_alias(image: str) -> bool:
    m = ALIAS_RE.match(image)
    return bool(m) and m.group("framework") in FRAMEWORKS


def _version(framework: str, spec: Framework, asked: str | None) -> str:
    versions = list(spec.versions)
    if asked is None:
        return versions[-1]
    if asked in spec.versions:
        return asked
    matching = [v for v in versions if v.startswith((asked + ".", asked + "-"))]
    if matching:
        return matching[-1]
    raise SpecError("--image", f"{framework} {asked} is not a version sm_notebook knows",
                    f"{framework}:{versions[-1]} (known: {', '.join(reversed(versions))}), "
                    "or the image's full URI")


def processor_for(instance_type: str) -> str:
    """``gpu`` for GPU instances (``ml.g*``, ``ml.p*``, ``local_gpu``), else ``cpu``."""
    family = instance_type.removeprefix("ml.").split(".")[0]
    return "gpu" if instance_type == "local_gpu" or family[:1] in ("g", "p") else "cpu"


def resolve(image: str, region: str, instance_type: str) -> str:
    """The URI an alias stands for in ``region``; any other image unchanged."""
    m = ALIAS_RE.match(image)
    if not m or m.group("framework") not in FRAMEWORKS:
        return image
    name, spec = m.group("framework"), FRAMEWORKS[m.group("framework")]
    version = _version(name, spec, m.group("version"))
    if spec.dlc:
        account = DLC_ACCOUNTS.get(region) or (DLC_ACCOUNT if region in DLC_DEFAULT_REGIONS
                                               else None)
    else:
        account = ALGORITHM_ACCOUNTS.get(region)
    if account is None:
        raise SpecError("--image", f"{name} images are not published in {region}",
                        "another --region, or the image's full URI")
    processor = processor_for(instance_type)
    if spec.processors and processor not in spec.processors:
        raise SpecError("--image", f"{name} {version} has no {processor} image (only "
                        f"{'/'.join(spec.processors)})", "a matching --instance-type")
    suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
    host = f"{account}.dkr.ecr.{region}{suffix}"
    if spec.cuda:  # huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py312-cu129-…
        base, cuda = spec.cuda[version].split("/")
        tag = f"{base}-{processor}-{spec.versions[version]}-{cuda}"
    elif not spec.processors:  # xgboost
        tag = version
    else:
        tag = f"{version}-{processor}-{spec.versions[version]}"
    return f"{host}/{spec.repository}:{tag}"
