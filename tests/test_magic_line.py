"""The magic line: shell-like tokens, explicit expansion, and spec → line → spec."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sm_notebook.errors import SpecError
from sm_notebook.magic_line import expand_line, parse_duration, quote, split_line
from sm_notebook.secrets import is_secret_value


def args(line: str, **namespace) -> list[str]:
    return expand_line(line, namespace).args


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
def parse(ip, run_dir):
    """The magic's own parser: line (without %%sm_train) → (spec, launch options)."""
    magics = ip.magics_manager.registry["SmTrainMagics"]
    (run_dir / "data" / "train").mkdir(parents=True)
    (run_dir / "data" / "my validation").mkdir(parents=True)
    return lambda line: magics.parse(line, "print('train')\n")


def reparse(parse, spec):
    rendered = spec.to_magic_line("job")
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
