"""S3 input channels of jobs that run on this machine are downloaded into the job, as
SageMaker does (moto's S3 over HTTP; the container case on the real engine)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from IPython.utils.capture import capture_output

from sm_notebook.backends.s3_inputs import download_channels
from sm_notebook.errors import SmNotebookError
from sm_notebook.spec import Channel, TrainingSpec
from tests.test_artifacts import leftovers, tmpfs

CELL = ("import os\n"
        "root = os.environ['SM_CHANNEL_TRAIN']\n"
        "for folder, _, files in sorted(os.walk(root)):\n"
        "    for name in sorted(files):\n"
        "        path = os.path.join(folder, name)\n"
        "        print(os.path.relpath(path, root), open(path).read().strip())\n")


@pytest.fixture
def bucket(aws):
    s3 = boto3.client("s3")
    name = "smnb-inputs"
    if name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=name)
    for key, body in {"data/train/a.csv": "1,2", "data/train/part/b.csv": "3,4",
                      "data/other.csv": "not in the channel"}.items():
        s3.put_object(Bucket=name, Key=key, Body=body.encode())
    return name


@pytest.mark.parametrize("mode", ["--mode local", "--mode container --image smnb-test/sklearn:1"])
def test_an_s3_channel_is_downloaded_into_the_job_before_it_starts(ip, bucket, capsys, mode):
    ip.run_cell_magic("sm_train", f"job {mode} --input train=s3://{bucket}/data/train --wait",
                      CELL)
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert list(job.logs().message) == ["a.csv 1,2", "part/b.csv 3,4"]
    assert f"downloaded s3://{bucket}/data/train: 2 file(s)" in capsys.readouterr().out
    assert (job.directory / "inputs" / "train" / "part" / "b.csv").read_text() == "3,4"


def test_a_dry_run_says_what_it_would_download_and_fetches_nothing(ip, bucket, jobs_dir):
    with capture_output() as out:
        ip.run_cell_magic("sm_train", f"--input train=s3://{bucket}/data/train --dry-run", CELL)
    assert f"download       s3://{bucket}/data/train → " in out.stdout
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_an_empty_prefix_and_a_key_leaving_the_channel_are_refused(ip, bucket, jobs_dir):
    with pytest.raises(SmNotebookError, match=rf"^--input train: nothing in S3 under "
                       rf"s3://{bucket}/nothing$"):
        ip.run_cell_magic("sm_train", f"--input train=s3://{bucket}/nothing", CELL)
    boto3.client("s3").put_object(Bucket=bucket, Key="evil/../../escape.txt", Body=b"x")
    with pytest.raises(SmNotebookError, match=r"refusing S3 key 'evil/\.\./\.\./escape.txt'"):
        ip.run_cell_magic("sm_train", f"--input train=s3://{bucket}/evil", CELL)
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB disk."""
    with tmpfs(tmp_path / "small") as where:
        yield where


def download(bucket: str, prefix: str, directory: Path) -> list[str]:
    """``download_channels`` of one channel; what it reported."""
    said: list[str] = []
    spec = TrainingSpec(cell="print(1)\n", channels=[Channel("train", f"s3://{bucket}/{prefix}")])
    download_channels(spec, directory, lambda text, **_: said.append(text))
    return said


def test_a_channel_lands_whole_or_not_at_all_when_a_key_is_refused(bucket, tmp_path):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="half/a.csv", Body=b"1")
    s3.put_object(Bucket=bucket, Key="half/../../escape.txt", Body=b"x")
    with pytest.raises(SmNotebookError, match=r"refusing S3 key 'half/\.\./\.\./escape.txt'"):
        download(bucket, "half", tmp_path / "job")
    assert not (tmp_path / "job").exists()  # refused before anything was written
    assert download(bucket, "data/train", tmp_path / "job") == [
        f"downloaded s3://{bucket}/data/train: 2 file(s), 0.0 MB"]
    assert leftovers(tmp_path / "job" / "inputs") == ["train"]  # no staging folder left


def test_a_channel_bigger_than_the_free_space_is_refused_before_downloading(bucket,
                                                                           small_disk):
    boto3.client("s3").put_object(Bucket=bucket, Key="big/zeros.bin", Body=bytes(3 << 20))
    with pytest.raises(SmNotebookError, match=r"^--input train: no space to download "
                       rf"s3://{bucket}/big: its 1 file\(s\) come to 3\.1 MB and .* free; "
                       "nothing was downloaded$"):
        download(bucket, "big", small_disk)
    assert leftovers(small_disk / "inputs") == []


def test_a_disk_that_fills_while_downloading_is_one_line_and_keeps_nothing(bucket,
                                                                          small_disk):
    """300 objects of 1 kB fit by their sizes, but each takes a 4 kB page of the 1 MiB disk."""
    s3 = boto3.client("s3")
    for i in range(300):
        s3.put_object(Bucket=bucket, Key=f"many/{i}.csv", Body=b"x" * 1000)
    with pytest.raises(SmNotebookError, match=rf"^--input train: could not download "
                       rf"s3://{bucket}/many: no space left on the device; nothing was kept$"):
        download(bucket, "many", small_disk)
    assert leftovers(small_disk / "inputs") == []
