"""Typed hyperparameters ⇄ the string map, argv, SM_HPS and SM_HP_* a script sees.

Reference: /work/shared/reference/sagemaker-contract.md §1.2 (stored form and limits),
§2.3 (SM_HPS / SM_HP_*), §2.5 (the toolkit's ``mapping.to_cmd_args``), §7 (SDK bugs).
"""

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


def same(a, b) -> bool:
    """Equal and of the same JSON types all the way down (1 is not 1.0 or True)."""
    return a == b and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# ---- parse_value: what a value typed on the magic line means ---------------------------

@pytest.mark.parametrize(("typed", "value"), [
    ("3", 3), ("0.1", 0.1), ("1e-4", 1e-4), ("-2", -2), ("1.0", 1.0),
    ("true", True), ("True", True), ("false", False), ("False", False),
    ("null", None), ("None", None),
    ("[64, 32]", [64, 32]), ('{"a": 1}', {"a": 1}), ('{"a": [1, {"b": null}]}',
                                                     {"a": [1, {"b": None}]}),
    ("adam", "adam"), ("reg:squarederror", "reg:squarederror"), ('"1"', "1"), ('"true"', "true"),
    ("{'a': 1}", "{'a': 1}"),              # a Python repr is not JSON: it stays text
    ("[1, 'a']", "[1, 'a']"),
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("1e400", "1e400"),  # not portable JSON
    ("", ""),
])
def test_values_typed_on_the_line_are_json_literals_else_strings(typed, value):
    assert same(hp.parse_value(typed), value)
    assert type(hp.parse_value(typed)) is type(value)


# ---- the stored (string) form ---------------------------------------------------------

@given(json_values)
def test_every_json_value_survives_the_string_map_exactly(value):
    decoded = hp.decode(hp.encode({"k": value}))["k"]
    assert same(decoded, value)


@given(st.dictionaries(st.text(min_size=1), json_values, max_size=6))
def test_a_whole_map_survives_hyperparameters_json_exactly(typed):
    stored = hp.encode(typed)
    assert all(isinstance(v, str) for v in stored.values())  # the service stores strings
    on_disk = json.loads(json.dumps(stored))                   # hyperparameters.json
    assert same(hp.decode(on_disk), typed)


@pytest.mark.parametrize("typed", [
    {"lr": 0.1, "epochs": 3, "amp": True, "debug": False, "resume": None},
    {"layers": [64, 32], "cfg": {"opt": {"name": "adam", "betas": [0.9, 0.999]}, "n": None}},
    {"one": "1", "t": "true", "n": "null", "list": "[1]", "obj": '{"a": 1}', "q": '"x"'},
    {"plain": "adam", "path": "s3://b/k", "spaces": "two words", "empty": ""},
    {"mixed": [1, 1.0, "1", True, None, {"k": [False]}]},
])
def test_typed_values_round_trip_exactly(typed):
    decoded = hp.decode(hp.encode(typed))
    assert same(decoded, typed)
    assert [type(v) for v in decoded.values()] == [type(v) for v in typed.values()]


def test_strings_that_look_like_numbers_stay_strings():
    stored = hp.encode({"a": "1", "b": "0.5", "c": "1e3", "d": "-2"})
    assert stored == {"a": '"1"', "b": '"0.5"', "c": '"1e3"', "d": '"-2"'}
    assert hp.decode(stored) == {"a": "1", "b": "0.5", "c": "1e3", "d": "-2"}
    assert all(type(v) is str for v in hp.decode(stored).values())


@pytest.mark.parametrize(("value", "stored"), [
    (True, "true"),                       # V2 generic Estimator sent "True": a string in-container
    (False, "false"),
    ("adam", "adam"),                     # readable; built-in algorithms see it unquoted
    ("reg:squarederror", "reg:squarederror"),  # V2's XGBoost sent "\"reg:squarederror\""
    ("1", '"1"'),                         # V3 sent "1", which decodes to the number 1
    ("true", '"true"'),
    ("null", '"null"'),
    ([1, 2], "[1, 2]"),
    ({"a": 1}, '{"a": 1}'),               # JSON, never the Python repr "{'a': 1}"
    (None, "null"),
    (0.1, "0.1"),
    (3, "3"),
])
def test_stored_form_avoids_the_sdk_encoding_bugs(value, stored):
    assert hp.encode_value(value) == stored
    assert same(hp.decode_value(stored), value)


# ---- §7 of the reference: none of the SDKs' encoding bugs happen -----------------------

def test_booleans_arrive_as_booleans_not_the_strings_true_false():
    # §7 #14 (aws/sagemaker-python-sdk#302, #4247): str(False) == "False" decodes to a string
    stored = hp.encode({"flag": False, "amp": True})
    assert stored == {"flag": "false", "amp": "true"}
    assert hp.decode(stored)["flag"] is False and hp.decode(stored)["amp"] is True
    assert hp.to_env({"flag": False})["SM_HP_FLAG"] == "false"
    assert json.loads(hp.to_env({"flag": False})["SM_HPS"]) == {"flag": False}


def test_types_and_lists_are_not_lost_on_the_way_to_the_script():
    # §7 #15 (aws/sagemaker-python-sdk#613): values forced to strings, lists split
    typed = {"layers": [64, 32], "lr": 0.001, "epochs": 10}
    assert hp.decode(hp.encode(typed)) == typed
    assert json.loads(hp.to_env(typed)["SM_HPS"]) == typed
    args = hp.to_cli_args(typed)
    assert args[args.index("--layers") + 1] == "[64, 32]"  # one argument, not split


def test_plain_strings_are_not_json_quoted_for_built_in_algorithms():
    # §7 #16 (aws/sagemaker-python-sdk#5317): XGBoost got "\"reg:squarederror\""
    assert hp.encode({"objective": "reg:squarederror"}) == {"objective": "reg:squarederror"}
    assert hp.to_cli_args({"objective": "reg:squarederror"}) == [
        "--objective", "reg:squarederror"]
    assert hp.to_env({"objective": "reg:squarederror"})["SM_HP_OBJECTIVE"] == "reg:squarederror"


def test_a_numeric_looking_string_is_not_turned_into_a_number():
    # V3 safe_serialize keeps str as-is, so "1" comes back as the number 1 (§1.2)
    assert hp.decode(hp.encode({"version": "1"})) == {"version": "1"}
    assert type(hp.decode(hp.encode({"version": "1"}))["version"]) is str


# ---- argv: the toolkit's mapping.to_cmd_args ------------------------------------------

def test_cli_args_match_the_training_toolkit_worked_example():
    # reference §2.5, run against the toolkit's mapping.to_cmd_args
    typed = {"lr": 0.1, "flag": True, "name": "adam", "layers": [1, 2], "cfg": {"a": 1},
             "learning-rate": 3, "e": 5}
    assert hp.to_cli_args(typed) == [
        "--cfg", "a=1", "-e", "5", "--flag", "True", "--layers", "[1, 2]",
        "--learning-rate", "3", "--lr", "0.1", "--name", "adam"]


@pytest.mark.parametrize(("typed", "argv"), [
    ({"resume": None}, ["--resume", ""]),                      # None → empty string
    ({"amp": False}, ["--amp", "False"]),                      # Python str(), like the toolkit
    ({"cfg": {"b": [1, 2], "a": "x", "c": None}}, ["--cfg", "a=x,b=[1, 2],c=None"]),
    ({"cfg": {}}, ["--cfg", ""]),
    ({"names": ["a", "b"]}, ["--names", "['a', 'b']"]),      # Python repr of a list
    ({"version": "1"}, ["--version", "1"]),
    ({"msg": "two words; $HOME"}, ["--msg", "two words; $HOME"]),  # one argv item, no shell
    ({"lr": 1e-4, "big": 1e20}, ["--big", "1e+20", "--lr", "0.0001"]),
    ({"b": 1, "B": 2, "a": 3}, ["-B", "2", "-a", "3", "-b", "1"]),  # sorted; one letter: '-'
])
def test_cli_args_follow_the_toolkit_rules(typed, argv):
    assert hp.to_cli_args(typed) == argv


def test_cli_args_are_the_same_from_the_typed_or_the_stored_form():
    typed = {"lr": 0.1, "flag": True, "tags": ["x"], "cfg": {"k": 1}, "one": "1"}
    assert hp.to_cli_args(hp.decode(hp.encode(typed))) == hp.to_cli_args(typed)


# ---- environment: SM_HPS and SM_HP_<NAME> --------------------------------------------

def test_environment_has_sm_hps_and_both_spellings_of_sm_hp():
    env = hp.to_env({"learning-rate": 0.01, "layers": [64, 32], "name": "adam", "amp": True})
    assert json.loads(env["SM_HPS"]) == {"learning-rate": 0.01, "layers": [64, 32],
                                         "name": "adam", "amp": True}
    assert env["SM_HPS"] == '{"amp":true,"layers":[64,32],"learning-rate":0.01,"name":"adam"}'
    assert env["SM_HP_LEARNING-RATE"] == env["SM_HP_LEARNING_RATE"] == "0.01"
    assert env["SM_HP_LAYERS"] == "[64,32]"
    assert env["SM_HP_NAME"] == "adam"  # strings as-is, not JSON-quoted
    assert env["SM_HP_AMP"] == "true"
    assert set(env) == {"SM_HPS", "SM_HP_LEARNING-RATE", "SM_HP_LEARNING_RATE", "SM_HP_LAYERS",
                        "SM_HP_NAME", "SM_HP_AMP"}


def test_environment_values_are_formatted_as_the_toolkit_does():
    env = hp.to_env({"none": None, "cfg": {"b": 1, "a": [True, None]}, "text": "ü", "u": ["ü"]})
    assert env["SM_HP_NONE"] == ""                       # None → ""
    assert env["SM_HP_CFG"] == '{"a":[true,null],"b":1}'  # compact, sorted keys
    assert env["SM_HP_TEXT"] == "ü"                      # strings as they are
    assert env["SM_HP_U"] == '["\\u00fc"]'               # JSON is ASCII-escaped
    assert json.loads(env["SM_HPS"])["none"] is None


def test_the_toolkits_exact_name_wins_over_another_keys_underscore_alias():
    # a_b → SM_HP_A_B (toolkit); a-b → SM_HP_A-B (toolkit) and SM_HP_A_B (V3 alias)
    for typed in ({"a_b": 1, "a-b": 2}, {"a-b": 2, "a_b": 1}):
        env = hp.to_env(typed)
        assert env["SM_HP_A_B"] == "1" and env["SM_HP_A-B"] == "2"


@given(st.dictionaries(st.text(min_size=1), json_values, max_size=5)
       .filter(lambda d: len({k.upper() for k in d}) == len(d)))  # "a" and "A" share SM_HP_A
def test_sm_hps_is_type_preserving_compact_json(typed):
    env = hp.to_env(typed)
    assert same(json.loads(env["SM_HPS"]), typed)
    assert env["SM_HPS"] == json.dumps(typed, sort_keys=True, separators=(",", ":"))
    for key, value in typed.items():
        assert env[f"SM_HP_{key.upper()}"] == hp.env_value(value)


# ---- validation: the service limits and what can never work ---------------------------

def test_service_limits_are_enforced_at_their_boundaries():
    hp.validate({f"k{i}": i for i in range(100)})
    with pytest.raises(SpecError, match="101 hyperparameters, the limit is 100"):
        hp.validate({f"k{i}": i for i in range(101)})
    hp.validate({"k" * 256: 1})
    with pytest.raises(SpecError, match="256"):
        hp.validate({"k" * 257: 1})
    hp.validate({"text": "x" * 2500})
    with pytest.raises(SpecError, match="2501 characters, the limit is 2500"):
        hp.validate({"text": "x" * 2501})


def test_the_value_limit_applies_to_the_stored_string():
    hp.validate({"digits": "1" * 2498})                 # stored as "111…" with quotes: 2500
    with pytest.raises(SpecError, match="2501 characters"):
        hp.validate({"digits": "1" * 2499})
    with pytest.raises(SpecError, match="the limit is 2500"):
        hp.validate({"ids": list(range(1000))})


@pytest.mark.parametrize("key", ["sagemaker_program", "sagemaker_submit_directory",
                                 "sagemaker_mpi_enabled"])
def test_sagemaker_names_are_reserved(key):
    with pytest.raises(SpecError, match="reserved for SageMaker"):
        hp.validate({key: 1})


@pytest.mark.parametrize("value", [
    "AKIAIOSFODNN7EXAMPLE",
    "token hf_" + "a" * 34,
    {"wandb": {"key": "sk-" + "b" * 24}},       # nested values are checked too
    ["ghp_" + "c" * 36],
])
def test_secret_looking_values_are_refused(value):
    with pytest.raises(SpecError, match="looks like a credential"):
        hp.validate({"x": value})


def test_ordinary_names_that_mention_tokens_are_fine():
    hp.validate({"max_tokens": 512, "pad_token": "<pad>", "secret_sauce": "extra"})


@pytest.mark.parametrize(("key", "problem"), [
    ("", "invalid name"), ("bad key", "invalid name"), ("-lr", "invalid name"),
    ("a=b", "invalid name"),      # SM_HP_A=B cannot be an environment variable
    ("a\x00", "invalid name"),
])
def test_names_that_cannot_reach_the_script_are_refused(key, problem):
    with pytest.raises(SpecError, match=problem):
        hp.validate({key: 1})


@pytest.mark.parametrize("value", ["a\x00b", {"k": "a\x00b"}])
def test_values_with_a_nul_character_are_refused(value):
    # no argv item or environment value can hold NUL: the job could not even start
    with pytest.raises(SpecError, match="NUL"):
        hp.validate({"x": value})


def test_values_that_are_not_json_are_refused():
    with pytest.raises(SpecError, match="value of type object is not JSON-serialisable"):
        hp.validate({"x": object()})


def test_a_validation_error_names_the_option_it_came_from():
    with pytest.raises(SpecError) as caught:
        hp.validate({"bad key": 1}, option="--hps")
    assert str(caught.value).startswith("--hps: ")
    assert caught.value.option == "--hps"
