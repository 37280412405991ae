"""The form's values and the magic line are one: values → line → the magic's own parser →
spec → values gives the same line, and a value no line can carry names its field."""

from __future__ import annotations

import string
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sm_notebook.line.grammar import FORM_OPTIONS
from sm_notebook.ui.form import FIELD_OF
from sm_notebook.ui.form_model import FORM_FLAGS, FieldError, FormValues, HpRow, InputRow

CELL = "print('hi')\n"


def parse(ip, line: str):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    head, _, rest = line.removeprefix("%%sm_train").strip().partition(" ")
    return magics.parse(f"{head} {rest}", CELL)


def test_every_field_reaches_the_spec_and_comes_back_as_the_same_line(ip, run_dir):
    (run_dir / "data").mkdir()
    values = FormValues(
        mode="sagemaker", image="pytorch:2.8", instance_type="ml.g5.xlarge", instance_count=2,
        hyperparameters=[HpRow("epochs", "10"), HpRow("lr", "0.1", "float"),
                         HpRow("name", "007", "str"), HpRow("layers", "[64, 32]", "json"),
                         HpRow("fast", "True", "bool")],
        inputs=[InputRow("train", "data"), InputRow("test", "s3://bucket/test/")],
        max_run="2h", spot=True, max_wait="3h", checkpoint_s3="s3://bucket/ckpt",
        keep_alive="600", environment="A=1\nB=two words", metrics="acc=acc=([0-9.]+)",
        role="arn:aws:iam::123456789012:role/R", output="s3://bucket/out",
        distribution="torchrun", extra="--tag team=ml --source-dir .")
    spec, launch = parse(ip, values.to_line())

    assert (spec.mode, spec.image, spec.instance_type, spec.instance_count) == (
        "sagemaker", "pytorch:2.8", "ml.g5.xlarge", 2)
    assert spec.hyperparameters == {"epochs": 10, "lr": 0.1, "name": "007",
                                    "layers": [64, 32], "fast": True}
    assert [(c.name, c.source) for c in spec.channels] == [("train", "data"),
                                                            ("test", "s3://bucket/test/")]
    assert (spec.max_run, spec.spot, spec.max_wait, spec.keep_alive) == (7200, True, 10800,
                                                                         600)
    assert spec.environment == {"A": "1", "B": "two words"}
    assert [(m.name, m.regex) for m in spec.metrics] == [("acc", "acc=([0-9.]+)")]
    assert (spec.distribution, spec.tags, spec.source_dir) == ("torchrun", {"team": "ml"}, ".")
    again = FormValues.from_spec(spec, launch.variable)
    assert parse(ip, again.to_line())[0] == spec
    assert again.to_line() == FormValues.from_spec(parse(ip, again.to_line())[0]).to_line()


hp_values = st.one_of(
    st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=string.printable.translate({ord(c): None for c in "\n\r\x0b\x0c"}),
            max_size=12),  # control characters are refused (tests/magics/test_hardening.py)
    st.lists(st.integers(), max_size=3))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(string.ascii_letters + "_", min_size=1, max_size=8),
                       hp_values, max_size=5))
@example({"A": '""', "B": '"y"', "C": "'x'"})  # strings that look quoted stay themselves
def test_any_hyperparameters_survive_the_round_trip(ip, hyperparameters):
    ip.user_ns["hps"] = hyperparameters
    magics = ip.magics_manager.registry["SmTrainMagics"]
    spec, _ = magics.parse("job --hps $hps", CELL)
    values = FormValues.from_spec(spec)
    assert parse(ip, values.to_line())[0].hyperparameters == spec.hyperparameters


@pytest.mark.parametrize(("row", "message"), [
    (HpRow("epochs", "ten", "int"), "epochs: 'ten' is not an int"),
    (HpRow("lr", "fast", "float"), "lr: 'fast' is not a float"),
    (HpRow("", "3"), "a hyperparameter needs a name"),
    (HpRow("layers", "[1,", "json"), "layers: '[1,' is not a json"),
])
def test_a_value_that_is_not_of_its_kind_names_its_row(row, message):
    values = FormValues(hyperparameters=[HpRow("ok", "1"), row])
    with pytest.raises(FieldError) as caught:
        values.to_line()
    assert (str(caught.value), caught.value.field) == (message, "hp:1")


def test_hyperparameters_import_from_json_or_yaml():
    values = FormValues(hyperparameters=[HpRow("epochs", "1")])
    values.import_hyperparameters('{"epochs": 20, "lr": 0.01}')
    values.import_hyperparameters("optimizer: adam\nlayers: [64, 32]\n")
    assert [(r.key, r.value, r.kind) for r in values.hyperparameters] == [
        ("epochs", "20", "int"), ("lr", "0.01", "float"), ("optimizer", "adam", "auto"),
        ("layers", "[64,32]", "json")]
    with pytest.raises(FieldError, match="expected a mapping"):
        values.import_hyperparameters("- just\n- a list\n")


def test_a_dataframe_input_stays_a_variable(ip):
    import pandas as pd

    ip.user_ns["frame"] = pd.DataFrame({"a": [1]})
    values = FormValues(inputs=[InputRow("train", "$frame")])
    _, launch = parse(ip, values.to_line())
    assert "train" in launch.frames


def test_each_form_field_is_declared_by_its_option_in_the_grammar():
    names = {f.name for f in fields(FormValues)}
    assert {o.form.name for o in FORM_OPTIONS} <= names
    assert {o.flag for o in FORM_OPTIONS} == FORM_FLAGS  # the rest ride along in extra


def test_an_error_marks_the_field_of_the_option_it_names():
    assert (FIELD_OF["--keep-alive"], FIELD_OF["--hps"], FIELD_OF["--content-type"]) == (
        "keep_alive", "hps", "inputs")
    assert "--tag" not in FIELD_OF  # shown under Launch, as the line's other options
