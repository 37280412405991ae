"""The form, without a browser: pre-filled from the line, checked by the magic's own
parser on every change (refused fields marked, Launch disabled), and launching the line
it shows, with the dashboard taking its place."""

from __future__ import annotations

import pytest

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
CELL = "print('epoch 1 loss=0.5')\n"


@pytest.fixture
def interactive(ip, monkeypatch):
    """As in JupyterLab: a kernel a Jupyter server started."""
    magics = ip.magics_manager.registry["SmTrainMagics"]
    monkeypatch.setattr(type(magics), "interactive", lambda self: True)
    return magics


def open_form(ip, magics, line: str, cell: str = CELL):
    ip.run_cell_magic("sm_train", line, cell)
    return magics.form


def test_an_incomplete_line_opens_the_form_prefilled_and_launch_waits_for_the_role(
        ip, interactive):
    form = open_form(ip, interactive, "job --mode sagemaker --image pytorch:2.8 "
                                      "--hp epochs=3 --instance-type ml.g5.xlarge")
    assert (form.mode.value, form.image.value, form.instance_type.value) == (
        "sagemaker", "pytorch:2.8", "ml.g5.xlarge")
    assert [(b.children[0].value, b.children[1].value) for b in form.hp_rows.children] == [
        ("epochs", "3")]
    assert form.launch_button.disabled
    assert form.marks["role"].value.count("--role: sagemaker mode needs an execution role")
    assert form.advanced.selected_index == 0  # the refused field is in view

    form.role.value = ROLE
    assert not form.launch_button.disabled and form.marks["role"].value == ""
    assert f"--role {ROLE}" in form.line_view.value
    spec, _ = interactive.parse(form.line.removeprefix("%%sm_train").strip(), CELL)
    assert (spec.role, spec.hyperparameters, spec.instance_type) == (
        ROLE, {"epochs": 3}, "ml.g5.xlarge")


def test_a_refused_value_is_marked_on_its_field_with_the_parser_s_reason(ip, interactive):
    form = open_form(ip, interactive, "job --form")
    form.instance_count.value = 2
    assert "a local process job runs on one host" in form.marks["instance_count"].value
    assert form.launch_button.disabled
    form.instance_count.value = 1
    form.max_run.value = "soon"
    assert form.launch_button.disabled
    assert "--max-run" in form.marks["max_run"].value
    form.max_run.value = "90m"
    assert not form.launch_button.disabled

    form.hp_add.click()
    key, value, kind, _ = form.hp_rows.children[-1].children
    key.value, value.value, kind.value = "epochs", "ten", "int"
    assert "epochs: &#x27;ten&#x27; is not an int" in form.marks["hps"].value
    value.value = "10"
    assert form.marks["hps"].value == "" and "--hp epochs=10" in form.line


def test_an_instance_count_of_zero_is_refused_as_the_line_refuses_it(ip, interactive):
    form = open_form(ip, interactive, "job --form")
    form.instance_count.value = 0
    assert form.instance_count.value == 0  # kept, not reset to 1 in silence
    assert "--instance-count" in form.marks["instance_count"].value
    assert form.launch_button.disabled and "--instance-count 0" in form.line_view.value
    form.instance_count.value = 1
    assert not form.launch_button.disabled


def test_mode_changes_offer_that_mode_s_instance_types(ip, interactive):
    form = open_form(ip, interactive, "job --form")
    assert [v for _, v in form.instance_type.options] == [""]
    form.mode.value = "container"
    values = [v for _, v in form.instance_type.options]
    assert values[:2] == ["", "local_gpu"] and "ml.m5.xlarge" in values
    label = dict((v, k) for k, v in form.instance_type.options)["ml.g5.xlarge"]
    assert "GPU" in label and "vCPU" in label


def test_hyperparameters_import_from_yaml_into_rows(ip, interactive):
    form = open_form(ip, interactive, "job --form --hp epochs=1")
    form.hp_import_text.value = "epochs: 5\nlr: 0.01\n"
    form.hp_import.click()
    assert [(b.children[0].value, b.children[1].value, b.children[2].value)
            for b in form.hp_rows.children] == [("epochs", "5", "int"),
                                                 ("lr", "0.01", "float")]


def test_launch_runs_the_shown_line_and_the_dashboard_takes_the_form_s_place(
        ip, interactive):
    form = open_form(ip, interactive, "job --form --hp epochs=2")
    form.launch_button.click()
    form.launch_button.click()  # a double click: both reach the kernel
    job = ip.user_ns["job"]
    assert len(interactive.registry.names()) == 1  # one job
    assert job.wait(timeout=60) == "Completed"
    board = interactive.boards[job.name]
    assert board.wait_finished(timeout=10)
    assert job.spec.hyperparameters == {"epochs": 2}
    line, _, dashboard = form.root.children
    (snapshot,) = dashboard.children  # the dashboard's final state, in the form's place
    assert "smnb-snapshot" in snapshot.value and "Completed" in snapshot.value
    # the line it launched stays, to copy, saying the cell still opens the form
    assert line is form.line_view and line.label == "launched:"
    assert line.value.startswith("%%sm_train job ") and "--hp epochs=2" in line.value
    assert "the cell still says --form" in line.note


def test_headless_a_complete_form_line_launches_and_an_incomplete_one_says_why(ip):
    from IPython.core.error import UsageError

    ip.run_cell_magic("sm_train", "job --form --wait --quiet", CELL)
    assert ip.user_ns["job"].status == "Completed"
    with pytest.raises(UsageError, match=r"^--form: no interactive frontend.*--image"):
        ip.run_cell_magic("sm_train", "job --form --mode container", CELL)


def test_an_image_alias_shows_the_image_it_stands_for_in_the_region(
        ip, interactive, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    form = open_form(ip, interactive, f"job --mode sagemaker --image pytorch:2.8 --role {ROLE} "
                                      "--instance-type ml.g5.xlarge --form")
    assert ("→ 763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.8.0-gpu-py312"
            in form.marks["image"].value)
    form.instance_type.value = "ml.m5.xlarge"  # the processor follows the instance
    assert "pytorch-training:2.8.0-cpu-py312" in form.marks["image"].value
    form.image.value = "pytorch:0.1"
    assert "pytorch 0.1 is not a version sm_notebook knows" in form.marks["image"].value
    assert form.launch_button.disabled
    form.image.value = "my-registry/my-image:1"  # any image name stands for itself
    assert form.marks["image"].value == "" and not form.launch_button.disabled


def test_the_distributed_field_suggests_the_launchers_and_takes_a_drivers_path(
        ip, interactive, run_dir):
    (run_dir / "drivers").mkdir()
    (run_dir / "drivers" / "driver.py").write_text("print('driver')\n")
    form = open_form(ip, interactive, "job --form --distributed ./drivers/driver.py "
                                      "--distribution-config '{\"process_count_per_node\": 2}'")
    assert form.distribution.value == "./drivers/driver.py"
    assert list(form.distribution.options) == ["torchrun", "mpi"]
    assert not form.launch_button.disabled
    assert "--distribution-config '{\"process_count_per_node\":2}'" in form.line

    form.distribution.value = "./drivers/missing.py"
    assert "--distributed: ./drivers/missing.py does not exist" in form.marks[
        "distribution"].value
    assert form.launch_button.disabled
    form.distribution.value = "mpi"
    assert not form.launch_button.disabled and "--distributed mpi" in form.line
