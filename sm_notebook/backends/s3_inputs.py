"""S3 input channels for jobs that run on this machine: downloaded into the job, as
SageMaker downloads them into ``/opt/ml/input/data/<channel>`` (File mode), so a cell with
``--input train=s3://…`` runs unchanged in every mode."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import SmNotebookError
from ..spec import TrainingSpec
from .aws import aws_errors


def local_copy(directory: Path, channel_name: str) -> Path:
    return directory / "inputs" / channel_name


def as_planned(spec: TrainingSpec, directory: Path) -> TrainingSpec:
    """The spec as it will be after the downloads (for ``--dry-run``: nothing fetched)."""
    return dataclasses.replace(spec, channels=[
        dataclasses.replace(ch, source=str(local_copy(directory, ch.name))) if ch.is_s3 else ch
        for ch in spec.channels])


def planned_downloads(spec: TrainingSpec, directory: Path) -> list[str]:
    """``--dry-run`` lines for the S3 channels a job would download."""
    return [f"  download       {ch.source} → {local_copy(directory, ch.name)}"
            for ch in spec.channels if ch.is_s3]


def download_channels(spec: TrainingSpec, directory: Path,
                      report: Callable[..., None]) -> TrainingSpec:
    """The spec with each S3 channel replaced by its downloaded copy under
    ``<job>/inputs/<channel>``."""
    if not any(ch.is_s3 for ch in spec.channels):
        return spec
    import boto3

    s3 = boto3.Session(region_name=spec.region).client("s3")
    channels = []
    for channel in spec.channels:
        if channel.is_s3:
            target = local_copy(directory, channel.name)
            what = f"--input {channel.name}"
            with aws_errors(f"{what}: could not download {channel.source}"):
                count, size = _download_prefix(s3, channel.source, target, what)
            report(f"downloaded {channel.source}: {count} file(s), {size / 1e6:,.1f} MB",
                   final=True)
            channel = dataclasses.replace(channel, source=str(target))
        channels.append(channel)
    return dataclasses.replace(spec, channels=channels)


def fetch_source(spec: TrainingSpec, directory: Path,
                 report: Callable[..., None]) -> TrainingSpec:
    """An S3 ``--source-dir`` (a ``sourcedir.tar.gz``, as V3's ``SourceCode`` takes and a
    JumpStart model's training script is) downloaded and extracted into ``<job>/source``,
    by sm_notebook's safe extraction; the code is then laid out from there as from any
    folder."""
    if not spec.source_in_s3:
        return spec
    import boto3

    from ..artifacts import safe_extract

    uri = str(spec.source_dir)
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    directory.mkdir(parents=True, exist_ok=True)
    archive, target = directory / "source.tar.gz", directory / "source"
    with aws_errors(f"--source-dir: could not download {uri}"):
        boto3.Session(region_name=spec.region).client("s3").download_file(
            bucket, key, str(archive))
    safe_extract(archive, target)  # ArchiveError for an archive reaching outside
    report(f"downloaded {uri}: {archive.stat().st_size / 1e6:,.1f} MB", final=True)
    return dataclasses.replace(spec, source_dir=str(target))


def planned_source(spec: TrainingSpec, directory: Path) -> list[str]:
    """The ``--dry-run`` line for an S3 ``--source-dir``."""
    if not spec.source_in_s3:
        return []
    return [f"  download       {spec.source_dir} → {directory / 'source'} (extracted)"]


def _planned(s3: Any, uri: str, what: str) -> list[tuple[str, tuple[str, ...], int]]:
    """``(key, path below the channel, size)`` of every object under the URI's prefix (an
    exact key is one file under its own name); keys that would leave the channel are
    refused before anything is written."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects += [o for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    if not objects:
        raise SmNotebookError(f"{what}: nothing in S3 under {uri}")
    planned = []
    for obj in objects:
        key = obj["Key"]
        relative = PurePosixPath(key).name if key == prefix else key[len(prefix):].lstrip("/")
        parts = PurePosixPath(relative).parts
        if not parts or ".." in parts:
            raise SmNotebookError(f"refusing S3 key {key!r}: it would land outside the channel")
        planned.append((key, parts, obj.get("Size", 0)))
    return planned


def _download_prefix(s3: Any, uri: str, target: Path, what: str) -> tuple[int, int]:
    """The objects under the URI, into a staging folder beside ``target`` that takes its
    place once all are down: a refused key, a download that does not fit (the objects'
    sizes against the free space first; a full disk while writing) or fails leaves
    nothing behind."""
    planned = _planned(s3, uri, what)
    bucket = uri.removeprefix("s3://").partition("/")[0]
    size = sum(item[2] for item in planned)
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if size > free:
        raise SmNotebookError(f"{what}: no space to download {uri}: its {len(planned)} "
                              f"file(s) come to {size / 1e6:,.1f} MB and {target.parent} has "
                              f"{free / 1e6:,.1f} MB free; nothing was downloaded")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.downloading-", dir=target.parent))
    try:
        for key, parts, _ in planned:
            path = staging.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(path))
        os.rename(staging, target)
    except OSError as exc:
        problem = ("no space left on the device" if exc.errno in (errno.ENOSPC, errno.EDQUOT)
                   else exc.strerror or str(exc))
        raise SmNotebookError(f"{what}: could not download {uri}: {problem}; nothing was "
                              "kept") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(planned), size
