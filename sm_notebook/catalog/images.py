"""Image aliases: ``pytorch:2.8``, ``sklearn:1.2-1``, ... → the AWS training image URI for a
region, as the SDK's ``image_uris.retrieve`` builds it.

The figures (every training version, its Python tags, processors, repository and registry
accounts by region, which differ between old and new releases) are the training entries of
the SageMaker Python SDK's ``image_uri_config`` (Apache-2.0), generated into
``image_versions.json`` by ``tests/gen_image_versions.py`` and read on first use.  Any other
image is given by its URI.  Pure.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..errors import SpecError

NAMES = ("pytorch", "tensorflow", "sklearn", "xgboost", "huggingface")  # what is_alias knows
ALIAS_RE = re.compile(r"^(?P<framework>[a-z]+)(?::(?P<version>[0-9][\w.\-]*))?$")
DNS_SUFFIXES = {"cn-": "amazonaws.com.cn", "us-iso-": "c2s.ic.gov", "us-isob-": "sc2s.sgov.gov",
                "us-isof-": "csp.hci.ic.gov", "eu-isoe-": "cloud.adc-e.uk"}  # else amazonaws.com
KNOWN_SHOWN = 6  # newest versions an error lists before "…"


def _py_key(py: str) -> tuple[int, int]:
    """``py3`` < ``py36`` < ``py39`` < ``py310``: Python tags compared as versions."""
    digits = py.removeprefix("py")
    return int(digits[0]), int(digits[1:] or -1)


@dataclass(frozen=True)
class Release:
    """One framework version's training image, as AWS publishes it."""

    version: str
    repository: str
    registry: Mapping[str, str]  # region → account
    py_versions: tuple[str, ...] = ()
    processors: tuple[str, ...] = ()  # empty: one image for every instance (XGBoost 1.2+)
    tag_prefix: str | None = None  # Hugging Face: "<torch>-transformers<version>"
    container_version: Mapping[str, str] = field(default_factory=dict)  # processor → suffix
    p4d_container_version: str | None = None  # CUDA 11 suffix the SDK adds on ml.p4d

    @property
    def py_version(self) -> str | None:
        """The newest Python tag: where a version has several, the SDK wants one named, and
        sm_notebook's alias syntax names none, so it takes the newest (py3 → py36 → py310)."""
        return max(self.py_versions, key=_py_key) if self.py_versions else None

    def tag(self, processor: str | None, family: str = "") -> str:
        """``<version or prefix>-<processor>-<py>-<container>``, parts omitted when empty."""
        parts = [self.tag_prefix or self.version, processor, self.py_version,
                 self.container_version.get(processor or "")]
        if processor == "gpu" and family == "p4d":
            parts.append(self.p4d_container_version)
        return "-".join(p for p in parts if p)


@dataclass(frozen=True)
class Framework:
    """An alias's releases, oldest first, and the SDK's minor-version aliases."""

    name: str
    versions: Mapping[str, Release]
    aliases: Mapping[str, str] = field(default_factory=dict)  # "1.13" → "1.13.1"


def _release(version: str, entry: dict[str, Any], processors: list[str],
             registries: list[dict[str, str]]) -> Release:
    return Release(version, entry["repository"], registries[entry["registry"]],
                   tuple(entry.get("py_versions", ())),
                   tuple(entry.get("processors", processors)), entry.get("tag_prefix"),
                   entry.get("container_version", {}), entry.get("p4d_container_version"))


@functools.cache
def frameworks() -> dict[str, Framework]:
    """The vendored table, read once on first use (about 20 kB): importing stays free."""
    data = json.loads(resources.files(__package__).joinpath("image_versions.json").read_text())
    return {name: Framework(name, {v: _release(v, e, fw["processors"], data["registries"])
                                   for v, e in fw["versions"].items()},
                            fw["version_aliases"])
            for name, fw in data["frameworks"].items()}


def __getattr__(name: str) -> Any:
    """``images.FRAMEWORKS`` (name → Framework), loaded lazily."""
    if name == "FRAMEWORKS":
        return frameworks()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_alias(image: str) -> bool:
    m = ALIAS_RE.match(image)
    return bool(m) and m.group("framework") in NAMES


def _known(versions: list[str]) -> str:
    """Newest first; a long list keeps the newest few, the oldest and the count."""
    newest = versions[::-1]
    if len(newest) <= KNOWN_SHOWN + 2:
        return ", ".join(newest)
    return f"{', '.join(newest[:KNOWN_SHOWN])}, …, {newest[-1]}; {len(newest)} versions"


def _version(spec: Framework, asked: str | None) -> str:
    """The exact version, else the SDK's alias (``1.13`` → ``1.13.1``), else the newest
    release under the prefix (``2`` → ``2.8.0``, ``0.23`` → ``0.23-1``)."""
    versions = list(spec.versions)
    if asked in spec.versions:
        return asked
    if asked in spec.aliases:
        return spec.aliases[asked]
    matching = [v for v in versions if asked is None or v.startswith((asked + ".", asked + "-"))]
    if matching:  # a Python build of a release (1.4-2-py312) only when named
        return ([v for v in matching if "-py" not in v] or matching)[-1]
    raise SpecError("--image", f"{spec.name} {asked} is not a version sm_notebook knows",
                    f"{spec.name}:{versions[-1]} (known: {_known(versions)}), "
                    "or the image's full URI")


def _family(instance_type: str) -> str:
    return instance_type.removeprefix("ml.").split(".")[0]


def processor_for(instance_type: str) -> str:
    """``gpu`` for GPU instances (``ml.g*``, ``ml.p*``, ``local_gpu``), else ``cpu``."""
    return "gpu" if instance_type == "local_gpu" or _family(instance_type)[:1] in ("g", "p") \
        else "cpu"


def host(account: str, region: str) -> str:
    """The registry's host: ECR's DNS suffix differs in the China and isolated partitions."""
    suffix = next((s for prefix, s in DNS_SUFFIXES.items() if region.startswith(prefix)),
                  "amazonaws.com")
    return f"{account}.dkr.ecr.{region}.{suffix}"


def resolve(image: str, region: str, instance_type: str) -> str:
    """The URI an alias stands for in ``region``; any other image unchanged.

    The tag names the full version (``pytorch:2.8`` → ``2.8.0-gpu-py312``), a pinned tag
    AWS publishes beside the SDK's alias-as-given ``2.8-gpu-py312``.
    """
    m = ALIAS_RE.match(image)
    if not m or m.group("framework") not in NAMES:
        return image
    spec = frameworks()[m.group("framework")]
    release = spec.versions[_version(spec, m.group("version"))]
    account = release.registry.get(region)
    if account is None:
        raise SpecError("--image", f"{spec.name} {release.version} images are not published in"
                        f" {region}", "another --region, or the image's full URI")
    processor = processor_for(instance_type) if release.processors else None
    if processor and processor not in release.processors:
        raise SpecError("--image", f"{spec.name} {release.version} has no {processor} image "
                        f"(only {'/'.join(release.processors)})", "a matching --instance-type")
    tag = release.tag(processor, _family(instance_type))
    return f"{host(account, region)}/{release.repository}:{tag}"


def inference_image(uri: str) -> str:
    """The serving sibling of an AWS training image: ``pytorch-training`` →
    ``pytorch-inference`` (same tag); scikit-learn and XGBoost serve from their training
    image itself.  Any other image unchanged."""
    registry, slash, rest = uri.rpartition("/")
    repository, colon, tag = rest.partition(":")
    if not registry.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return uri
    if repository.endswith("-training"):
        repository = repository.removesuffix("-training") + "-inference"
    return f"{registry}{slash}{repository}{colon}{tag}"
