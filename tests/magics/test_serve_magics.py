"""``%sm_deploy``, ``%sm_endpoints`` and ``%sm_attach --endpoint`` in a real IPython shell,
bad input typed by hand, and endpoints surviving a real kernel's restart."""

from __future__ import annotations

import json
import urllib.request

import pytest
from IPython.core.error import UsageError

from sm_notebook.runtime import processes
from tests.kernel import Kernel
from tests.serving.scripts import weights_script

SCRIPT = weights_script(2.0)


@pytest.fixture
def trained(ip):
    ip.run_cell_magic("sm_train", "job --job-name magic-served --wait --quiet", SCRIPT)
    return ip.user_ns["job"]


def test_sm_deploy_serves_a_job_by_name_and_sm_endpoints_lists_it(ip, trained):
    predictor = ip.run_line_magic("sm_deploy", "magic-served --name by-magic --env LEVEL=debug")
    try:
        assert predictor.predict([1, 2]) == [2.0, 4.0]
        assert predictor.record.environment == {"LEVEL": "debug"}
        frame = ip.run_line_magic("sm_endpoints", "")
        row = frame.set_index("endpoint").loc["by-magic"]
        assert (row["mode"], row["status"], row["job"], row["url"]) == (
            "local", "InService", "magic-served", predictor.url)
        again = ip.run_line_magic("sm_attach", "--endpoint by-magic")
        assert again.url == predictor.url and again.predict([3]) == [6.0]
        assert ip.run_line_magic("sm_attach", "by-magic").name == "by-magic"  # only an endpoint
    finally:
        predictor.delete()
    frame = ip.run_line_magic("sm_endpoints", "")
    assert frame.set_index("endpoint").loc["by-magic", "status"] == "Deleted"


def test_sm_deploy_dry_run_prints_the_plan_and_starts_nothing(ip, trained, capsys):
    assert ip.run_line_magic("sm_deploy", "magic-served --dry-run --port 8123") is None
    out = capsys.readouterr().out
    assert out.startswith("local endpoint magic-served: job magic-served's model, served by "
                          "sm_notebook's model server") and "127.0.0.1:8123" in out
    assert ip.run_line_magic("sm_endpoints", "").empty


@pytest.mark.parametrize(("line", "message"), [
    ("", r"^%sm_deploy: give the job's name first \(see %sm_jobs\): %sm_deploy JOB "),
    ("--mode local", r"^%sm_deploy: give the job's name first"),
    ("../etc", r"^%sm_deploy: invalid job name '\.\./etc'"),
    ("magic-served --colour red", r"^%sm_deploy: unknown option '--colour'; %sm_deploy JOB"),
    ("magic-served --instance-count two", r"^%sm_deploy --instance-count: expected a whole "
                                          r"number ≥ 1, got 'two'$"),
    ("magic-served --instance-count 0", r"^%sm_deploy --instance-count: expected a whole "
                                        r"number ≥ 1, got '0'$"),
    ("magic-served --port", r"^%sm_deploy --port: give a value: a port number, 1 to 65535$"),
    ("magic-served --port 70000", r"^%sm_deploy --port 70000: 1 to 65535$"),
    ("magic-served --env LEVEL", r"^%sm_deploy --env: expected NAME=VALUE \(repeatable\), "
                                 r"got 'LEVEL'$"),
    ("magic-served --env API_TOKEN=abc123", r"^%sm_deploy --env API_TOKEN: looks like a "
                                            r"credential; an endpoint's environment is stored"),
    ("magic-served --env 1X=2", r"^%sm_deploy --env '1X': a name of letters, digits and _"),
    ("magic-served --mode cloud", r"^%sm_deploy --mode 'cloud': one of local, container, "
                                  r"sagemaker$"),
    ("magic-served --framework keras", r"^%sm_deploy --framework 'keras': one of sklearn, "),
    ("magic-served --serverless-memory 2048", r"^%sm_deploy --serverless-memory and "
                                              r"--serverless-concurrency go together"),
    ("magic-served --timeout -1", r"^%sm_deploy --timeout: expected seconds, a number > 0"),
    ("magic-served --image 'unclosed", r"^%sm_deploy: No closing quotation \(quote values"),
    ("never-trained", r"^%sm_deploy: .*never-trained"),
])
def test_bad_input_to_sm_deploy_is_one_usage_error_and_starts_nothing(ip, trained, line,
                                                                      message):
    with pytest.raises(UsageError, match=message):
        ip.run_line_magic("sm_deploy", line)
    assert ip.run_line_magic("sm_endpoints", "").empty


def test_sm_endpoints_and_attach_refuse_what_they_do_not_take(ip):
    with pytest.raises(UsageError, match=r"^%sm_endpoints takes no options$"):
        ip.run_line_magic("sm_endpoints", "--all")
    with pytest.raises(UsageError, match=r"^%sm_attach --endpoint: no endpoint 'absent'"):
        ip.run_line_magic("sm_attach", "--endpoint absent")


def test_an_endpoint_survives_a_kernel_restart_and_is_found_listed_and_deleted(run_dir):
    kernel, record = Kernel(run_dir), None
    try:
        kernel.run("%%sm_train job --job-name restart-served --wait --quiet\n" + SCRIPT)
        record = json.loads(kernel.run(
            "predictor = job.deploy()\nimport json\n"
            "print(json.dumps({'url': predictor.url, 'pid': predictor.record.pid,\n"
            "                  'identity': predictor.record.identity}))").strip()
            .splitlines()[-1])
        kernel.manager.restart_kernel(now=True)
        kernel.client.wait_for_ready(timeout=120)
        kernel.run("%load_ext sm_notebook")
        assert processes.running(record["pid"], record["identity"])  # still serving
        with urllib.request.urlopen(f"{record['url']}/ping", timeout=10) as reply:
            assert reply.status == 200
        listed = kernel.run("frame = %sm_endpoints\n"
                            "print(frame.set_index('endpoint').loc['restart-served', 'status'])")
        assert listed.strip() == "InService"
        said = kernel.run("p = %sm_attach --endpoint restart-served\nprint(p.predict([5]))\n"
                          "p.delete()\nprint(p.status)")
        assert said.split() == ["[10.0]", "Deleted"]
    finally:
        kernel.close()
        if record is not None:  # a failed test leaves no server either
            alive = processes.running(record["pid"], record["identity"])
            processes.terminate([(record["pid"], record["identity"])], 5.0, reap_all=False)
    assert not alive  # delete() left nothing running
