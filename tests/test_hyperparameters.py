"""Typed hyperparameters ⇄ the string map, argv, SM_HPS and SM_HP_* a script sees, in the
V3 SDK's style (the default) and the V2 SDK's (with the training toolkit).

Reference: /work/shared/reference/sagemaker-contract.md §1.2 (stored form and limits),
§2.3-2.4 (SM_HPS / SM_HP_*), §2.5 (V3's driver and the toolkit's ``to_cmd_args``), §7.
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


# ---- the stored (string) form, in each SDK's style ------------------------------------
# reference §1.2: V3 ModelTrainer's safe_serialize keeps strings as they are and writes the
# rest as JSON; V2's framework estimators json.dumps every value.

@given(st.dictionaries(st.text(min_size=1), json_values, max_size=6))
def test_v2_maps_survive_hyperparameters_json_exactly(typed):
    stored = hp.encode(typed, "v2")
    assert stored == {k: json.dumps(v) for k, v in typed.items()}  # V2's encoding
    on_disk = json.loads(json.dumps(stored))                       # hyperparameters.json
    assert same(hp.decode(on_disk), typed)


@given(st.dictionaries(st.text(min_size=1), json_values, max_size=6))
def test_v3_stores_strings_as_they_are_and_the_rest_as_json(typed):
    stored = hp.encode(typed)
    assert stored == {k: v if isinstance(v, str) else json.dumps(v) for k, v in typed.items()}
    assert all(isinstance(v, str) for v in stored.values())  # the service stores strings


@pytest.mark.parametrize(("value", "v3", "v2"), [
    (True, "true", "true"),
    ("adam", "adam", '"adam"'),
    ("reg:squarederror", "reg:squarederror", '"reg:squarederror"'),  # V2's XGBoost bug #5317
    ("5", "5", '"5"'),                    # issue 10 case 2: v3 writes the string as it is
    ("Hello World", "Hello World", '"Hello World"'),
    ([1, 2, 3], "[1, 2, 3]", "[1, 2, 3]"),
    ({"a": 1}, '{"a": 1}', '{"a": 1}'),   # JSON, never the Python repr "{'a': 1}"
    (None, "null", "null"),
    (3.14, "3.14", "3.14"),
])
def test_each_style_stores_a_value_as_its_sdk_does(value, v3, v2):
    assert hp.encode_value(value, "v3") == v3
    assert hp.encode_value(value, "v2") == v2


def test_a_number_looking_string_reaches_a_v3_script_as_the_sdk_delivers_it():
    # V3 stores "5" as 5's text: a script reading hyperparameters.json itself gets "5" and
    # int() works (the bring-your-own example); the decoded SM_HPS holds the number
    typed = {"max_leaf_nodes": "5"}
    assert hp.encode(typed) == {"max_leaf_nodes": "5"}
    assert json.loads(hp.to_env(typed)["SM_HPS"]) == {"max_leaf_nodes": 5}
    assert hp.encode(typed, "v2") == {"max_leaf_nodes": '"5"'}
    assert json.loads(hp.to_env(typed, "v2")["SM_HPS"]) == {"max_leaf_nodes": "5"}


def test_booleans_arrive_as_json_booleans_in_both_styles():
    # §7 #14 (aws/sagemaker-python-sdk#302, #4247): V2's generic str(False) == "False"
    for style in hp.STYLES:
        stored = hp.encode({"flag": False, "amp": True}, style)
        assert stored == {"flag": "false", "amp": "true"}
        assert hp.decode(stored) == {"flag": False, "amp": True}
        assert json.loads(hp.to_env({"flag": False}, style)["SM_HPS"]) == {"flag": False}


# ---- argv: V3's driver and the toolkit's mapping.to_cmd_args ---------------------------

V3_EXAMPLE = {"integer": 1, "boolean": True, "float": 3.14, "string": "Hello World",
              "list": [1, 2, 3], "dict": {"string": "value", "integer": 3, "boolean": True}}


def test_v3_cli_args_are_the_drivers_json_in_the_given_order():
    # V3's hyperparameters-training example parses --boolean/--list/--dict with json.loads
    assert hp.to_cli_args(V3_EXAMPLE) == [
        "--integer", "1", "--boolean", "true", "--float", "3.14", "--string", "Hello World",
        "--list", "[1, 2, 3]", "--dict", '{"string": "value", "integer": 3, "boolean": true}']
    args = hp.to_cli_args(V3_EXAMPLE)
    decoded = {args[i][2:]: args[i + 1] for i in range(0, len(args), 2)}
    assert json.loads(decoded["boolean"]) is True
    assert json.loads(decoded["dict"]) == V3_EXAMPLE["dict"]


@pytest.mark.parametrize(("typed", "argv"), [
    ({"e": 5}, ["--e", "5"]),                          # one letter: still two dashes
    ({"resume": None}, ["--resume", "null"]),
    ({"b": 1, "a": 2}, ["--b", "1", "--a", "2"]),       # insertion order, not sorted
    ({"n": "5"}, ["--n", "5"]),
    ({"msg": "two words; $HOME"}, ["--msg", "two words; $HOME"]),  # one argv item, no shell
])
def test_v3_cli_args_follow_the_drivers_rules(typed, argv):
    assert hp.to_cli_args(typed, "v3") == argv


def test_v2_cli_args_match_the_training_toolkit_worked_example():
    # reference §2.5, run against the toolkit's mapping.to_cmd_args
    typed = {"lr": 0.1, "flag": True, "name": "adam", "layers": [1, 2], "cfg": {"a": 1},
             "learning-rate": 3, "e": 5}
    assert hp.to_cli_args(typed, "v2") == [
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
def test_v2_cli_args_follow_the_toolkit_rules(typed, argv):
    assert hp.to_cli_args(typed, "v2") == argv


@pytest.mark.parametrize("style", hp.STYLES)
def test_cli_args_are_the_same_from_the_typed_or_the_stored_form(style):
    typed = {"lr": 0.1, "flag": True, "tags": ["x"], "cfg": {"k": 1}, "one": "1", "s": "a b"}
    assert hp.to_cli_args(hp.decode(hp.encode(typed, style)), style) \
        == hp.to_cli_args(typed, style)


# ---- environment: SM_HPS and SM_HP_<NAME> --------------------------------------------

def test_v3_environment_is_the_drivers():
    env = hp.to_env({"learning-rate": 0.01, "layers": [64, 32], "name": "adam", "amp": True})
    assert env == {
        "SM_HPS": '{"learning-rate": 0.01, "layers": [64, 32], "name": "adam", "amp": true}',
        "SM_HP_LEARNING_RATE": "0.01", "SM_HP_LAYERS": "[64, 32]", "SM_HP_NAME": "adam",
        "SM_HP_AMP": "true"}


def test_v2_environment_is_the_toolkits():
    env = hp.to_env({"learning-rate": 0.01, "layers": [64, 32], "name": "adam", "amp": True},
                    "v2")
    assert env == {
        "SM_HPS": '{"amp":true,"layers":[64,32],"learning-rate":0.01,"name":"adam"}',
        "SM_HP_LEARNING-RATE": "0.01", "SM_HP_LAYERS": "[64,32]", "SM_HP_NAME": "adam",
        "SM_HP_AMP": "true"}


def test_v2_environment_values_are_formatted_as_the_toolkit_does():
    env = hp.to_env({"none": None, "cfg": {"b": 1, "a": [True, None]}, "text": "ü", "u": ["ü"]},
                    "v2")
    assert env["SM_HP_NONE"] == ""                       # None → ""
    assert env["SM_HP_CFG"] == '{"a":[true,null],"b":1}'  # compact, sorted keys
    assert env["SM_HP_TEXT"] == "ü"                      # strings as they are
    assert env["SM_HP_U"] == '["\\u00fc"]'               # JSON is ASCII-escaped
    assert json.loads(env["SM_HPS"])["none"] is None


@given(st.dictionaries(st.text(min_size=1), json_values, max_size=5)
       .filter(lambda d: len({k.upper() for k in d}) == len(d)))  # "a" and "A" share SM_HP_A
def test_v2_sm_hps_is_type_preserving_compact_json(typed):
    env = hp.to_env(typed, "v2")
    assert same(json.loads(env["SM_HPS"]), typed)
    assert env["SM_HPS"] == json.dumps(typed, sort_keys=True, separators=(",", ":"))
    for key, value in typed.items():
        assert env[f"SM_HP_{key.upper()}"] == hp.env_value(value)


@given(st.dictionaries(st.text(min_size=1), json_values, max_size=5))
def test_v3_sm_hps_is_the_decoded_stored_map(typed):
    assert json.loads(hp.to_env(typed)["SM_HPS"]) == hp.decode(hp.encode(typed))


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


def test_the_value_limit_applies_to_the_styles_stored_string():
    hp.validate({"digits": "1" * 2500})                 # v3: stored as it is
    hp.validate({"digits": "1" * 2498}, style="v2")     # v2: "111…" with quotes, 2500
    with pytest.raises(SpecError, match="2501 characters"):
        hp.validate({"digits": "1" * 2499}, style="v2")
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
    ("", "the bare argument --"),
    ("a=b", "cannot hold '='"),      # SM_HP_A=B cannot be an environment variable
    ("a\x00", "NUL"), ("a\nb", "no line break"),
])
def test_names_that_cannot_reach_the_script_are_refused_saying_why(key, problem):
    with pytest.raises(SpecError, match=problem):
        hp.validate({key: 1})


@pytest.mark.parametrize("key", ["bad key", "-lr", "ünï", "a.b/c:d"])
def test_names_sagemaker_accepts_are_accepted(key):
    hp.validate({key: 1})  # the service's pattern is .*


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
        hp.validate({"a=b": 1}, option="--hps")
    assert str(caught.value).startswith("--hps: ")
    assert caught.value.option == "--hps"


def test_a_value_shared_many_times_over_is_refused_before_it_is_encoded():
    row: list = ["lol"] * 9
    for _ in range(8):
        row = [row] * 9  # 387 million strings, by reference; json.dumps would build them all
    cyclic: dict = {}
    cyclic["self"] = cyclic
    for value in (row, cyclic):
        with pytest.raises(SpecError, match="far over 2500 characters"):
            hp.validate({"x": value})
    hp.validate({"x": [["a" * 10] * 10] * 10})  # 1,000 strings, shared: about 1,400 characters


@pytest.mark.parametrize(("hyperparameters", "credential"), [
    ({"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG"}, True),
    ({"db": {"password": "hunter2hunter2"}}, True),
    ({"keys": ["AKIAIOSFODNN7EXAMPLE"]}, True),
    ({"use_auth_token": True, "pad_token": "<pad>", "max_tokens": 512}, False),
])
def test_credentials_are_refused_by_name_or_shape_with_the_hint_given(hyperparameters,
                                                                       credential):
    if not credential:
        hp.validate(hyperparameters)
        return
    with pytest.raises(SpecError, match=r"looks like a credential.*\(expected no credentials: "
                       r"read it elsewhere\)"):
        hp.validate(hyperparameters, secrets="read it elsewhere")
