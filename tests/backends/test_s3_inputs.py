"""S3 input channels of jobs that run on this machine are downloaded into the job, as
SageMaker does (moto's S3 over HTTP; the container case on the real engine)."""

from __future__ import annotations

import boto3
import pytest
from IPython.utils.capture import capture_output

from sm_notebook.errors import SmNotebookError

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
