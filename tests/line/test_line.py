"""The magic line: shell-like tokens, explicit expansion, and spec → line → spec."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sm_notebook.errors import SpecError
from sm_notebook.line import values
from sm_notebook.line.argv import parse_args
from sm_notebook.line.expand import expand_line, split_line
from sm_notebook.line.grammar import OPTIONS, SPEC_OPTIONS
from sm_notebook.line.parse import Defaults, build_spec, parse_duration, parse_line
from sm_notebook.line.render import quote, render_line
from sm_notebook.secrets import is_secret_value
from sm_notebook.spec import Channel, MetricDefinition, TrainingSpec

PRINTABLE = (string.printable.replace("\n", "").replace("\r", "").replace("\x0b", "")
             .replace("\x0c", ""))


def args(line: str, **namespace) -> list[str]:
    return expand_line(line, namespace).args


def spec_of(line: str, namespace: dict | None = None, base: Path = Path("/nonexistent")):
    """The line parser's own steps (as ``parse_line`` takes them), without a shell and
    without validation: line → (spec, launch options)."""
    expanded = expand_line(line, namespace or {})
    return build_spec(parse_args(expanded), expanded, "print('train')\n", base_dir=base)


def test_tokens_split_like_a_shell():
    assert args("--hp a=1   --input 'train=my data' \"--env\" X=y") == [
        "--hp", "a=1", "--input", "train=my data", "--env", "X=y"]
    assert args(r"--hp name=two\ words") == ["--hp", "name=two words"]
    assert [len(t) for t in split_line("a'b'\"c\"")] == [3]  # one token, three segments


def test_variables_and_expressions_expand_outside_single_quotes():
    line = expand_line("--hp lr=$lr --hp n={n * 2} --hp raw='$lr' --hp dq=\"x$lr\"",
                       {"lr": 0.5, "n": 4})
    values = [line.resolve(a) for a in line.args[1::2]]
    assert values == ["lr=0.5", "n=8", "raw=$lr", "dq=x0.5"]


def test_a_whole_reference_keeps_the_object():
    params = {"epochs": 3, "layers": [64, 32]}
    line = expand_line("--hps $params --hp lr={1 / 4}", {"params": params})
    assert line.resolve(line.args[1]) is params
    key, value = line.args[3].split("=", 1)
    assert (key, line.resolve(value)) == ("lr", 0.25)


def test_escapes_and_regex_quantifiers_stay_literal():
    assert args("--metric 'loss=loss: ([0-9]{1,5})' --hp cost=$$5 --hp b={{x}}") == [
        "--metric", "loss=loss: ([0-9]{1,5})", "--hp", "cost=$5", "--hp", "b={x}"]
    assert args(r"--metric acc=acc=(\d{3})") == ["--metric", r"acc=acc=(\d{3})"]


def test_an_expression_may_contain_spaces_and_quotes():
    line = expand_line("--hp x={d['a b'] + 1} --hp y=2", {"d": {"a b": 1}})
    assert line.args[0] == "--hp" and line.resolve(line.args[1].split("=", 1)[1]) == 2
    assert line.args[2:] == ["--hp", "y=2"]


def test_an_unknown_variable_is_an_error_naming_the_option():
    with pytest.raises(SpecError, match=r"^--input: \$data: no variable named 'data'"):
        expand_line("--input train=$data", {})


def test_a_failing_expression_is_an_error_naming_the_option():
    with pytest.raises(SpecError, match=r"^--hp: \{1/0\}: ZeroDivisionError"):
        expand_line("--hp x={1/0}", {})


def test_unclosed_quotes_are_errors():
    with pytest.raises(SpecError, match="unclosed single quote"):
        split_line("--hp 'x")
    with pytest.raises(SpecError, match="unclosed double quote"):
        split_line('--hp "x')


@pytest.mark.parametrize(("text", "seconds"), [
    ("3600", 3600), ("90m", 5400), ("2h", 7200), ("1d", 86400), ("1h30m", 5400),
    ("1d2h3m4s", 93784), ("45s", 45)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5", "1.5h", "h", "", "30m1h"])
def test_malformed_durations(text):
    assert parse_duration(text) is None


@given(st.text(alphabet=string.printable.replace("\n", "").replace("\r", "")
               .replace("\x0b", "").replace("\x0c", "")))
def test_quote_makes_any_text_one_literal_token(text):
    assert args(quote(text)) == [text]


# ---- spec → magic line → spec -------------------------------------------------------

hp_keys = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1,
                  max_size=12).filter(lambda k: not k.startswith(("-", "sagemaker_")))
hp_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=string.printable.replace("\n", "").replace("\r", "")
              .replace("\x0b", "").replace("\x0c", ""), max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(string.ascii_letters, max_size=5), inner, max_size=3),
    max_leaves=6,
).filter(lambda v: not (isinstance(v, str) and is_secret_value(v)))


@pytest.fixture
def parse(run_dir):
    """The magic's whole parser: line (without %%sm_train) → (spec, launch options)."""
    (run_dir / "data" / "train").mkdir(parents=True)
    (run_dir / "data" / "my validation").mkdir(parents=True)
    return lambda line: parse_line(line, "print('train')\n", {}, Defaults(), run_dir)


def reparse(parse, spec):
    rendered = render_line(spec, "job")
    assert rendered.startswith("%%sm_train job ")
    return parse(rendered[len("%%sm_train "):])


@pytest.mark.parametrize("line", [
    "job",
    "job --hp lr=0.1 --hp epochs=3 --hp amp=true --hp name=adam --hp layers=[64,32]",
    "job --hp text='two words' --hp num='\"1\"' --hp dollar='$HOME' --hp brace='{x}'",
    "job --input train=data/train --input 'val=data/my validation' --content-type train=text/csv",
    "job --metric 'loss=loss: ([0-9.]+)' --metric 'acc=acc=([0-9]{1,3})' --max-run 2h",
    "job --env MODE=fast --tag team=ml --job-name my-job-1 --output out",
    "job --distributed torchrun --processes-per-host 2 --entry-script main.py",
    "job --mode sagemaker --instance-type ml.g5.xlarge --instance-count 2 --volume-gb 100 "
    "--spot --max-run 1h --max-wait 2h --checkpoint-s3 s3://my-bucket/ckpt --keep-alive 10m "
    "--role arn:aws:iam::123456789012:role/Train --region eu-west-1 --image repo/img:1",
    "job --mode sagemaker --subnets subnet-0abc1234,subnet-0def5678 --security-groups "
    "sg-0abc1234 --network-isolation --image-kind plain --image repo/img:1",
])
def test_rendered_line_parses_back_to_the_same_spec(parse, line):
    spec, _ = parse(line)
    again, launch = reparse(parse, spec)
    assert again == spec
    assert launch.variable == "job"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(hp_keys, hp_values, max_size=6))
def test_any_hyperparameters_survive_render_and_parse(parse, hyperparameters):
    spec, _ = parse("job")
    spec.hyperparameters = hyperparameters
    again, _ = reparse(parse, spec)
    assert again.hyperparameters == hyperparameters
    assert [type(v) for v in again.hyperparameters.values()] == [
        type(v) for v in hyperparameters.values()]


# ---- more of the expansion rules ------------------------------------------------------

def test_a_token_split_into_quoted_and_unquoted_segments():
    assert split_line("a\"b c\"'d'") == [[("a", True), ("b c", True), ("d", False)]]
    assert split_line("  one\ttwo  ") == [[("one", True)], [("two", True)]]
    assert split_line("''") == [[("", False)]]  # an empty quoted token is still a token
    assert split_line("") == []


def test_single_quotes_are_literal_and_double_quotes_expand():
    line = expand_line("""--hp a='$lr {lr} $$' --hp b="$lr {lr}" --hp c="\\$lr" --hp d=\\$lr""",
                       {"lr": 0.5})
    assert [line.resolve(a) for a in line.args[1::2]] == [
        "a=$lr {lr} $$", "b=0.5 0.5", "c=$lr", "d=$lr"]


def test_dollar_dollar_and_doubled_braces_are_literal_characters():
    assert args("--hp cost=$$5 --hp b={{x}} --hp c=\"{{$$}}\"") == [
        "--hp", "cost=$5", "--hp", "b={x}", "--hp", "c={$}"]


@pytest.mark.parametrize("text", ["{3}", "{1,5}", "{2,}", "{,4}", "{ 2 }", "{}"])
def test_regex_quantifiers_are_not_expressions(text):
    assert args(f"--metric n=a{text}(\\d)") == ["--metric", f"n=a{text}(\\d)"]


def test_several_references_or_surrounding_text_make_a_string():
    line = expand_line("--hp v=$lr$lr --hp w=x$lr --hp u={n}-{n}", {"lr": 0.5, "n": 2})
    assert [line.resolve(a) for a in line.args[1::2]] == ["v=0.50.5", "w=x0.5", "u=2-2"]


def test_whole_references_keep_the_object_for_hps_and_hp():
    params, layers = {"epochs": 3, "cfg": {"a": [1]}}, [64, 32]
    spec, _ = spec_of("--hps $params --hp layers=$layers --hp lr={1 / 4} --hp n=\"$layers\"",
                      {"params": params, "layers": layers})
    assert spec.hyperparameters == {"epochs": 3, "cfg": {"a": [1]}, "layers": [64, 32],
                                    "lr": 0.25, "n": [64, 32]}
    assert spec.hyperparameters["layers"] is layers  # the object, not its text
    assert type(spec.hyperparameters["lr"]) is float


def test_a_typed_hp_value_is_a_json_literal_unless_quoted():
    spec, _ = spec_of("""--hp a=1 --hp b='"1"' --hp c=true --hp d=adam --hp e=[1,2]""")
    assert spec.hyperparameters == {"a": 1, "b": "1", "c": True, "d": "adam", "e": [1, 2]}
    assert type(spec.hyperparameters["b"]) is str


@pytest.mark.parametrize(("line", "option"), [
    ("--input train=$data", "--input"),
    ("--input=train=$data", "--input"),
    ("--hps $data", "--hps"),
    ("$data --wait", "line"),          # the variable-name position belongs to no option
])
def test_an_unknown_variable_names_its_option(line, option):
    with pytest.raises(SpecError) as caught:
        expand_line(line, {})
    assert caught.value.option == option
    assert "$data: no variable named 'data'" in str(caught.value)


@pytest.mark.parametrize(("expr", "error"), [
    ("{nope + 1}", "NameError"), ("{1 +}", "SyntaxError"), ("{[][1]}", "IndexError")])
def test_a_failing_expression_names_its_option_and_the_error(expr, error):
    with pytest.raises(SpecError) as caught:
        expand_line(f"--max-run {expr}", {})
    assert caught.value.option == "--max-run"
    assert f"{expr}: {error}" in str(caught.value)


# ---- durations, quoting, rendering -----------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [(" 2h ", 7200), ("0", 0), ("10s", 10),
                                               ("1d12h", 129600)])
def test_more_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2 h", "1h 30m", "m", "1w", "2H", "h30"])
def test_more_malformed_durations(text):
    assert parse_duration(text) is None


def test_a_duration_option_takes_numbers_forms_and_objects():
    spec, _ = spec_of("--max-run 1h30m --keep-alive $ka --max-wait 7200", {"ka": 600})
    assert (spec.max_run, spec.keep_alive, spec.max_wait) == (5400, 600, 7200)
    with pytest.raises(SpecError, match=r"^--max-run: 'soon' is not a duration"):
        spec_of("--max-run soon")


@pytest.mark.parametrize(("token", "quoted"), [
    ("abc", "abc"), ("s3://b/k.csv", "s3://b/k.csv"), ("a=b,c:d@e+f%g", "a=b,c:d@e+f%g"),
    ("", "''"), ("a b", "'a b'"), ("$x", "'$x'"), ("{x}", "'{x}'"),
    ("it's", "'it'\"'\"'s'"), ("back\\slash", "'back\\slash'")])
def test_quote_leaves_safe_tokens_bare_and_single_quotes_the_rest(token, quoted):
    assert quote(token) == quoted
    assert args(quoted) == [token]


def test_render_line_writes_each_set_option_once_in_a_fixed_order():
    spec = TrainingSpec(
        cell="print(1)", hyperparameters={"lr": 0.1, "name": "adam", "one": "1", "flag": True,
                                          "cfg": {"a": [1, None]}, "msg": "two words"},
        channels=[Channel("train", "data/train", "text/csv")], max_run=5400,
        tags={"team": "ml x"}, metrics=[MetricDefinition("loss", "loss=([0-9.]+)")])
    assert render_line(spec, "job") == (
        "%%sm_train job --mode local --hp-style v3 --hp lr=0.1 --hp name=adam --hp 'one=\"1\"' "
        "--hp flag=true --hp 'cfg={\"a\":[1,null]}' --hp 'msg=two words' "
        "--input train=data/train --content-type train=text/csv --max-run 5400 "
        "--tag 'team=ml x' --metric 'loss=loss=([0-9.]+)'")
    # defaults left out; mode and style always said (a %config default may differ)
    assert render_line(TrainingSpec()) == "%%sm_train --mode local --hp-style v3"


def test_rendered_lines_parse_back_without_the_shell():
    spec, _ = spec_of("job --mode container --image repo/img:1 --hp lr=0.1 --hp 'msg=a b' "
                      "--input 'val=my data' --metric 'acc=acc=([0-9]{1,3})' --env X='$HOME' "
                      "--tag team=ml --max-run 2h --base-job-name exp")
    again, launch = spec_of(render_line(spec, "job")[len("%%sm_train "):])
    assert again == spec and launch.variable == "job"
    assert spec.environment == {"X": "$HOME"} and spec.max_run == 7200


plain_text = st.text(alphabet=PRINTABLE, min_size=1, max_size=15).filter(
    lambda s: s.strip() == s and not s.startswith("-"))


@settings(max_examples=150, deadline=None)
@given(
    env=st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
                        plain_text, max_size=3),
    tags=st.dictionaries(plain_text.filter(lambda k: "=" not in k), plain_text, max_size=3),
    metrics=st.lists(st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), plain_text),
                     max_size=3, unique_by=lambda m: m[0]),
    channels=st.lists(st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), plain_text,
                                st.none() | plain_text), max_size=3, unique_by=lambda c: c[0]),
    paths=st.tuples(*[st.none() | plain_text] * 4),
    dependencies=st.lists(plain_text, max_size=2),
    numbers=st.tuples(st.integers(1, 8), st.none() | st.integers(1, 500),
                      st.none() | st.integers(1, 10**6)),
    spot=st.booleans(),
)
def test_any_options_survive_render_and_parse(env, tags, metrics, channels, paths,
                                              dependencies, numbers, spot):
    output, source_dir, image, requirements = paths
    count, volume, max_run = numbers
    spec = TrainingSpec(
        cell="print('train')\n", mode="sagemaker", environment=env, tags=tags,
        metrics=[MetricDefinition(*m) for m in metrics],
        channels=[Channel(*c) for c in channels], output=output, source_dir=source_dir,
        image=image, requirements=requirements, dependencies=dependencies,
        instance_count=count, volume_gb=volume, max_run=max_run, spot=spot)
    again, _ = spec_of(render_line(spec)[len("%%sm_train "):])
    assert again == spec


def test_a_value_starting_with_a_dash_survives_render_and_parse():
    spec, _ = spec_of("--tag=-x=1 --output=-out")
    assert (spec.tags, spec.output) == ({"-x": "1"}, "-out")
    again, _ = spec_of(render_line(spec)[len("%%sm_train "):])
    assert again == spec


# ---- every option of the grammar ------------------------------------------------------

SAMPLES = {  # a value of each kind of option, as the spec holds it
    values.TEXT: "some-text", values.INT: 3, values.DURATION: 5400, values.FLAG: True,
    values.TEXT_LIST: ["a", "b c"], values.ID_LIST: ["subnet-0abc1234", "subnet-2"],
    values.TEXT_PAIRS: {"KEY": "two words", "B": "-x"},
    values.METRICS: [MetricDefinition("loss", "loss=([0-9.]+)")],
    values.HYPERPARAMETERS: {"lr": 0.1, "name": "two words", "layers": [64, 32]},
    values.CHANNELS: [Channel("train", "data/train", "text/csv"), Channel("val", "v")],
    values.JSON_OBJECT: {"process_count_per_node": 2, "note": "two words"},
}


@pytest.mark.parametrize("option", [o for o in SPEC_OPTIONS if o.kind.render],
                         ids=lambda o: o.flag)
def test_every_option_of_the_grammar_renders_and_parses_back(option):
    """A companion (--content-type) is read with the option owning its field (--input)."""
    owner = next(o for o in SPEC_OPTIONS if o.field == option.field and o.kind.parse)
    spec = TrainingSpec(cell="print('train')\n", **{option.field: SAMPLES[owner.kind]})
    line = render_line(spec)
    assert f" {option.flag}" in line
    again, _ = spec_of(line[len("%%sm_train "):])
    assert again == spec


def test_every_option_is_one_declaration_with_a_spec_field_or_a_launch_flag():
    fields = set(TrainingSpec.__dataclass_fields__)
    for option in OPTIONS:
        assert (option.field in fields) != option.launch, option.flag
        assert option.flags == (option.flag,) and option.help
    assert {o.field for o in SPEC_OPTIONS} == fields - {"cell"}  # every field has a flag


def test_a_distribution_config_is_a_json_object_or_a_dict_of_the_notebook():
    spec, _ = spec_of("job --distributed mpi --distribution-config "
                      "'{\"mpi_additional_options\": [\"-x\", \"A\"]}'")
    assert spec.distribution_config == {"mpi_additional_options": ["-x", "A"]}
    spec, _ = spec_of("job --distributed mpi --distribution-config $config",
                      namespace={"config": {"process_count_per_node": 2}})
    assert spec.launch.config == {"process_count_per_node": 2, "mpi_additional_options": None}
