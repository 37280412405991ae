"""The image a container job runs: an alias resolved to AWS's image for the region, the
image on this machine (pulled, with an ECR login, when it is not), and its kind: whether
it has AWS's training toolkit, a ``train`` of its own, or neither (probed once per image
id by a throwaway container, and cached across kernels in ``kinds_cache``)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...catalog import images
from ...errors import SpecError
from ...runtime.container_supervisor import LABEL, run_throwaway
from ...spec import TrainingSpec
from ..aws import configured_region
from ..base import Progress
from . import registry_login
from .pulling import PullProgress

# `train` on the PATH: AWS's toolkit when it is the toolkit's console script, else the
# image's own program; nothing: a plain image (an image without sh is one too).
_KIND_PROBE = ('p=$(command -v train) || exit 0; '
               'if grep -q sagemaker_training "$p" 2>/dev/null; then echo toolkit; '
               'else echo own; fi')


class ImageKinds:
    """This kernel's images: the ones looked up for a launch, and the kinds found."""

    def __init__(self, client: Callable[[], Any], kinds_cache: Path | None = None):
        self.client = client  # the engine's client, asked for only when needed
        self.kinds_cache = kinds_cache
        self._images: dict[str, Any] = {}  # name → image, looked up once per launch
        self._kinds: dict[str, str] = {}

    def ensure(self, image: str, on_progress: Progress) -> None:
        """The image is on this machine: pulled (with progress, and an ECR login when the
        image lives in ECR) when it is not."""
        import docker

        client = self.client()
        try:
            self._images[image] = client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        auth = registry_login.pull_credentials(image)
        progress, began = PullProgress(image), time.monotonic()
        try:
            for event in client.api.pull(image, stream=True, decode=True, auth_config=auth):
                progress.feed(event)
                if progress.error:
                    break
                on_progress(progress.text())
        except docker.errors.APIError as exc:
            progress.error = str(exc.explanation or exc)
        if progress.error:
            on_progress(f"could not pull {image}", final=True)
            raise SpecError("--image", f"{image} is not on this machine and could not be "
                            f"pulled: {progress.error}",
                            "an image that exists locally (docker image ls) or in a "
                            "registry this machine can reach") from None
        self._images[image] = client.images.get(image)
        on_progress(f"pulled {image} ({progress.summary()}, "
                    f"{time.monotonic() - began:.0f} s)", final=True)

    def kind(self, spec: TrainingSpec, pull: bool = True) -> str | None:
        """``toolkit`` when the image has AWS's training toolkit (``train`` on its PATH),
        found by a throwaway container; None for an image not here when ``pull`` is false
        (a dry run pulls nothing)."""
        if spec.image_kind:
            return spec.image_kind
        if spec.image in self._kinds:
            return self._kinds[spec.image]
        import docker

        try:
            image = self._images.get(spec.image) or self.client().images.get(spec.image)
        except docker.errors.ImageNotFound:
            if pull:
                raise
            return None
        cache = _read_cache(self.kinds_cache)
        if image.id in cache:
            self._kinds[spec.image] = cache[image.id]
            return cache[image.id]
        env = {e.split("=", 1)[0] for e in image.attrs["Config"].get("Env") or []}
        if env & {"SAGEMAKER_TRAINING_MODULE", "SAGEMAKER_PROGRAM"}:
            kind = "toolkit"
        else:
            found = run_throwaway(self.client(), spec.image, ["sh", "-c", _KIND_PROBE],
                                  labels={LABEL: "probe"})
            kind = found.decode(errors="replace").strip() or "plain"
        cache[image.id] = kind
        _write_cache(self.kinds_cache, cache)
        self._kinds[spec.image] = kind
        return kind


def with_resolved_image(spec: TrainingSpec) -> TrainingSpec:
    """An alias (``pytorch:2.0.0``) is AWS's image for the region, as in sagemaker mode
    (pulled through an ECR login), never a Docker Hub image of that name."""
    if not spec.image or not images.is_alias(spec.image):
        return spec
    region = spec.region or configured_region()
    if not region:
        raise SpecError("--image", f"{spec.image} stands for AWS's image in a region, and no "
                        "region is set", "--region us-east-1 (or %config SmTrainMagics.region"
                        "), or the image's full name")
    uri = images.resolve(spec.image, region, spec.effective_instance_type)
    return dataclasses.replace(spec, image=uri)


def how_it_runs(spec: TrainingSpec, kind: str | None) -> str:
    """The launch note: who runs the script in this image, and why."""
    if spec.command is not None:
        bypass = ", bypassing the image's `train`" if kind in ("toolkit", "own") else ""
        return f"--command runs with the SM_* environment{bypass}"
    if kind == "own":
        return ("it has a `train` of its own, which runs as `docker run IMAGE train` "
                "(the cell is in /opt/ml/code for it)")
    if kind == "toolkit" and spec.hp_style == "v2":
        return "AWS's training toolkit runs `train` (--hp-style v2, as the V2 SDK has it)"
    if kind == "toolkit":
        return ("it has AWS's training toolkit, but --hp-style v3 runs the script with the "
                "SM_* environment itself, bypassing `train` as V3's ModelTrainer does "
                "(--hp-style v2 runs `train`)")
    return "no training toolkit in it, so the script runs with the SM_* environment"


def _read_cache(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def _write_cache(path: Path | None, cache: dict[str, str]) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cache, indent=2))
