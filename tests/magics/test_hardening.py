"""Input an attacker (or an accident) would type, through the real shell: refused in one line,
at once, with nothing followed, created or printed raw (issue 12)."""

from __future__ import annotations

import resource
import shutil
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from .test_bad_input import billion_laughs, shared_lists


def _refused(ip, line: str, cell: str = "print(1)\n") -> str:
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("sm_train", line, cell)
    return str(caught.value)


def test_attach_follows_no_folder_outside_the_jobs_directory(ip, jobs_dir, tmp_path):
    ip.run_cell_magic("sm_train", "job --job-name elsewhere --wait --quiet", "print('hi')\n")
    shutil.move(jobs_dir / "elsewhere", tmp_path / "somewhere")  # a job folder, outside
    magics = ip.magics_manager.registry["SmTrainMagics"]
    magics.jobs.clear()

    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("sm_attach", "../somewhere")

    assert str(caught.value) == ("%sm_attach: invalid job name '../somewhere' (expected 1-63 "
                                 "letters, digits and hyphens, not starting or ending with a "
                                 "hyphen)")
    assert magics.jobs == {}
    assert sorted(p.name for p in jobs_dir.iterdir()) == []


def test_attach_shows_a_name_with_escapes_escaped(ip):
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("sm_attach", "a\x1b[2Jb")
    assert "\x1b" not in str(caught.value) and "'a\\x1b[2Jb'" in str(caught.value)


@pytest.mark.parametrize("line", ["--env 'X=a\x1b[2J' --dry-run", "--hp 'x=\x1b]0;t\x07' --dry-run",
                                  "--tag 'x=\x1b[31m' --dry-run", "--hps $escaped --dry-run",
                                  "--job-name 'a\x1bb' --dry-run"])
def test_a_dry_run_with_escapes_prints_nothing_raw(ip, jobs_dir, line):
    ip.user_ns["escaped"] = {"a": ["ok", {"b": "\x1b[31m"}]}
    with capture_output() as captured:
        result = ip.run_cell(f"%%sm_train {line}\nprint(1)\n")
    shown = captured.stdout + captured.stderr

    assert not result.success
    assert "\x1b" not in shown and "control character '\\x1b'" in shown
    assert "equivalent line" not in shown.split("UsageError", 1)[0]  # no dry-run text
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("line", [f"--hp aws_secret_access_key={SECRET}",
                                  f"--hp 'conf=aws_secret_access_key={SECRET}'",
                                  f"--env AWS_SECRET_ACCESS_KEY={SECRET}",
                                  f"--tag secret_access_key={SECRET}"])
def test_a_credential_is_refused_without_being_echoed(ip, jobs_dir, line):
    with capture_output() as captured:
        result = ip.run_cell(f"%%sm_train {line} --dry-run\nprint(1)\n")
    shown = captured.stdout + captured.stderr

    assert not result.success and "looks like a credential" in shown
    assert SECRET not in shown
    assert "os.environ['NAME']" in shown  # how a local job gets one instead
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_a_billion_laughs_yaml_is_refused_at_once(ip, run_dir: Path):
    (run_dir / "laughs.yaml").write_text(billion_laughs())
    assert len(billion_laughs()) < 1100

    started = time.monotonic()
    message = _refused(ip, "--hps laughs.yaml --dry-run")

    assert time.monotonic() - started < 1.0  # a guard: it expanded for 19 s
    assert message.startswith("--hps: laughs.yaml: line 2: YAML alias *a0 is not accepted")


def test_a_dict_shared_many_times_over_is_refused_at_once(ip, run_dir: Path):
    ip.user_ns["laughs"] = {"lol": shared_lists(9)}  # 387 million strings, by reference
    cyclic: list = []
    cyclic.append(cyclic)
    ip.user_ns["cyclic"] = cyclic

    started = time.monotonic()
    shared = _refused(ip, "--hps $laughs --dry-run")
    looped = _refused(ip, "--hp loop=$cyclic --dry-run")

    assert time.monotonic() - started < 1.0
    assert shared.startswith("--hp: lol: value is far over 2500 characters")
    assert looped.startswith("--hp: loop: value is far over 2500 characters")


def test_more_hosts_than_this_machine_holds_are_refused_before_planning(ip, jobs_dir):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    message = _refused(ip, "--mode container --image busybox --instance-count 100000 "
                       "--dry-run")

    assert time.monotonic() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
    assert message.startswith("--instance-count: 100000 containers of local_cpu need "
                              "25,000.0 GiB (0.25 GiB each, the least a container needs)")
    assert message.endswith("here, or --mode sagemaker for more)")
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []
