"""Typed hyperparameters ⇄ the string map, argv, SM_HPS and SM_HP_* a script sees."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sm_notebook import hyperparameters as hp
from sm_notebook.errors import SpecError

# JSON values as a notebook user types them: finite numbers, any text, nesting.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(("typed", "value"), [
    ("3", 3), ("0.1", 0.1), ("1e-4", 1e-4), ("-2", -2),
    ("true", True), ("True", True), ("false", False), ("False", False),
    ("null", None), ("None", None),
    ("[64, 32]", [64, 32]), ('{"a": 1}', {"a": 1}),
    ("adam", "adam"), ("reg:squarederror", "reg:squarederror"), ('"1"', "1"),
    ("NaN", "NaN"), ("Infinity", "Infinity"),  # not portable JSON: kept as text
    ("", ""),
])
def test_values_typed_on_the_line_are_json_literals_else_strings(typed, value):
    assert hp.parse_value(typed) == value
    assert type(hp.parse_value(typed)) is type(value)


@given(json_values)
def test_every_json_value_survives_the_string_map_exactly(value):
    decoded = hp.decode(hp.encode({"k": value}))["k"]
    assert decoded == value
    assert json.dumps(decoded) == json.dumps(value)  # also the type: 1 is not 1.0 or True


@pytest.mark.parametrize(("value", "stored"), [
    (True, "true"),                       # V2 generic Estimator sent "True": a string in-container
    ("adam", "adam"),                     # readable; built-in algorithms see it unquoted
    ("reg:squarederror", "reg:squarederror"),  # V2's XGBoost sent "\"reg:squarederror\""
    ("1", '"1"'),                         # V3 sent "1", which decodes to the number 1
    ("true", '"true"'),
    ("null", '"null"'),
    ([1, 2], "[1, 2]"),
    ({"a": 1}, '{"a": 1}'),
    (None, "null"),
    (0.1, "0.1"),
])
def test_stored_form_avoids_the_sdk_encoding_bugs(value, stored):
    assert hp.encode_value(value) == stored
    assert hp.decode_value(stored) == value


def test_cli_args_match_the_training_toolkit_worked_example():
    # reference/sagemaker-contract.md §2.5, run against the toolkit's mapping.to_cmd_args
    typed = {"lr": 0.1, "flag": True, "name": "adam", "layers": [1, 2], "cfg": {"a": 1},
             "learning-rate": 3, "e": 5}
    assert hp.to_cli_args(typed) == [
        "--cfg", "a=1", "-e", "5", "--flag", "True", "--layers", "[1, 2]",
        "--learning-rate", "3", "--lr", "0.1", "--name", "adam"]


def test_none_becomes_an_empty_argument_as_in_the_toolkit():
    assert hp.to_cli_args({"resume": None}) == ["--resume", ""]


def test_environment_has_sm_hps_and_both_spellings_of_sm_hp():
    env = hp.to_env({"learning-rate": 0.01, "layers": [64, 32], "name": "adam", "amp": True})
    assert json.loads(env["SM_HPS"]) == {"learning-rate": 0.01, "layers": [64, 32],
                                         "name": "adam", "amp": True}
    assert env["SM_HPS"] == '{"amp":true,"layers":[64,32],"learning-rate":0.01,"name":"adam"}'
    assert env["SM_HP_LEARNING-RATE"] == env["SM_HP_LEARNING_RATE"] == "0.01"
    assert env["SM_HP_LAYERS"] == "[64,32]"
    assert env["SM_HP_NAME"] == "adam"  # strings as-is, not JSON-quoted
    assert env["SM_HP_AMP"] == "true"


def test_service_limits_and_reserved_names_are_enforced():
    hp.validate({f"k{i}": i for i in range(100)})
    with pytest.raises(SpecError, match="100"):
        hp.validate({f"k{i}": i for i in range(101)})
    with pytest.raises(SpecError, match="256"):
        hp.validate({"k" * 257: 1})
    hp.validate({"text": "x" * 2500})
    with pytest.raises(SpecError, match="2500"):
        hp.validate({"text": "x" * 2501})
    with pytest.raises(SpecError, match="sagemaker_"):
        hp.validate({"sagemaker_program": "train.py"})
    with pytest.raises(SpecError, match="credential"):
        hp.validate({"key": "AKIAIOSFODNN7EXAMPLE"})


def test_a_validation_error_names_the_option_it_came_from():
    with pytest.raises(SpecError) as caught:
        hp.validate({"bad key": 1}, option="--hps")
    assert str(caught.value).startswith("--hps: ")
