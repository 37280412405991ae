"""A script's inference handlers, loaded and called as AWS's serving containers call them:
the four handlers, transform_fn, context by arity, the defaults, and 415 / 500."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sm_notebook.runtime.inference import (
    CSV,
    JSON,
    NPY,
    Context,
    HandlerError,
    Handlers,
    decode,
    encode,
    load_script,
)

FOUR = """
import json, os
TRAINED = []

def model_fn(model_dir):
    return {"scale": float(open(os.path.join(model_dir, "scale")).read())}

def input_fn(body, content_type):
    assert isinstance(body, str), type(body)  # JSON and CSV arrive decoded
    return json.loads(body)["x"]

def predict_fn(data, model):
    return [v * model["scale"] for v in data]

def output_fn(prediction, accept):
    return json.dumps({"y": prediction}), "application/vnd.scaled+json"

if __name__ == "__main__":
    TRAINED.append("trained")  # training: never at serving time
"""


def script(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "scale").write_text("2.5")
    return folder


def test_the_four_handlers_are_called_in_turn_and_main_never_runs(tmp_path, model_dir):
    module = load_script(script(tmp_path, FOUR))
    assert module.TRAINED == []  # imported, not run as __main__
    handlers = Handlers(module)
    model = handlers.load_model(model_dir)
    reply = handlers.invoke(model, b'{"x": [1, 2]}', "application/json; charset=utf-8")
    assert (reply.status, json.loads(reply.body), reply.content_type) == (
        200, {"y": [2.5, 5.0]}, "application/vnd.scaled+json")  # output_fn's own type


def test_a_missing_content_type_is_json_and_a_missing_accept_the_default(tmp_path,
                                                                          model_dir):
    handlers = Handlers(load_script(script(tmp_path, FOUR)))
    reply = handlers.invoke(handlers.load_model(model_dir), b'{"x": [4]}', None, None)
    assert json.loads(reply.body) == {"y": [10.0]}


def test_transform_fn_alone_serves_and_with_the_others_is_refused(tmp_path):
    alone = ("def model_fn(model_dir):\n    return 3\n"
             "def transform_fn(model, body, content_type, accept):\n"
             "    return f'{body}x{model}', 'text/plain'\n")
    handlers = Handlers(load_script(script(tmp_path, alone, "alone.py")))
    reply = handlers.invoke(handlers.load_model("/nowhere"), b"7", "text/csv")
    assert (reply.body, reply.content_type) == (b"7x3", "text/plain")
    both = alone + "def predict_fn(data, model):\n    return data\n"
    with pytest.raises(HandlerError, match=r"transform_fn replaces input_fn, predict_fn and "
                                           r"output_fn; it also defines predict_fn"):
        Handlers(load_script(script(tmp_path, both, "both.py")), name="both.py")


def test_a_trailing_context_is_given_to_the_handlers_that_take_one(tmp_path):
    text = ("def model_fn(model_dir, context):\n    return context.model_dir\n"
            "def predict_fn(data, model, context):\n"
            "    return [model, context.system_properties['gpu_id'], data.tolist()]\n")
    handlers = Handlers(load_script(script(tmp_path, text, "ctx.py")))
    context = Context("/opt/ml/model", {"gpu_id": None})
    model = handlers.load_model("/opt/ml/model", context)
    reply = handlers.invoke(model, b"[1, 2]", JSON, JSON, context)
    assert json.loads(reply.body) == ["/opt/ml/model", None, [1.0, 2.0]]
    with pytest.raises(HandlerError, match="predict_fn takes 4 arguments; the toolkit passes "
                                           "2 \\(or 3 with context\\)"):
        Handlers(load_script(script(tmp_path, "def predict_fn(a, b, c, d):\n    pass\n",
                                    "four.py")))


def test_scikit_learn_has_no_default_model_fn_and_is_said_so(tmp_path):
    handlers = Handlers(load_script(script(tmp_path, "x = 1\n", "bare.py")), "sklearn",
                        name="bare.py")
    with pytest.raises(HandlerError, match=r"^bare.py: no model_fn, and scikit-learn has no "
                                           r"default loader: define model_fn\(model_dir\)"):
        handlers.load_model("/nowhere")


def test_an_aws_style_scikit_learn_script_with_only_model_fn_uses_the_defaults(tmp_path):
    import joblib
    from sklearn.tree import DecisionTreeClassifier

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    joblib.dump(DecisionTreeClassifier(random_state=0).fit([[0, 0], [1, 1]], [0, 1]),
                model_dir / "model.joblib")
    text = ("import os, joblib\n"
            "def model_fn(model_dir):\n"
            "    return joblib.load(os.path.join(model_dir, 'model.joblib'))\n")
    handlers = Handlers(load_script(script(tmp_path, text, "sk.py")))
    model = handlers.load_model(model_dir)
    assert json.loads(handlers.invoke(model, b"[[0, 0], [1, 1]]").body) == [0, 1]
    csv_reply = handlers.invoke(model, b"1,1\n0,0\n", CSV, CSV)
    assert csv_reply.body == b"1\n0\n" and csv_reply.content_type == CSV
    npy = encode(np.array([[1.0, 1.0]]), NPY)
    assert np.load(__import__("io").BytesIO(handlers.invoke(model, npy, NPY, NPY).body)
                   ).tolist() == [1]


def test_a_format_refused_is_415_and_any_other_error_propagates_for_a_500(tmp_path,
                                                                          model_dir):
    handlers = Handlers(load_script(script(tmp_path, FOUR)))
    model = handlers.load_model(model_dir)
    plain = Handlers(load_script(script(tmp_path, "def model_fn(d):\n    return d\n",
                                        "plain.py")))
    refused = plain.invoke(object(), b"<xml/>", "application/xml")
    assert refused.status == 415 and b"content type application/xml is not supported" \
        in refused.body
    theirs = ("class UnsupportedFormatError(Exception):\n    pass\n"  # as the toolkit's
              "def model_fn(d):\n    return d\n"
              "def input_fn(body, content_type):\n"
              "    raise UnsupportedFormatError(f'no {content_type}')\n")
    own = Handlers(load_script(script(tmp_path, theirs, "theirs.py")))
    assert own.invoke(None, b"x", "image/png").status == 415
    with pytest.raises(KeyError):  # input_fn's own bug: the server answers 500 and logs it
        handlers.invoke(model, b'{"not_x": 1}')


def test_a_script_that_fails_to_import_is_one_line_naming_it(tmp_path):
    with pytest.raises(HandlerError, match=r"^importing broken.py failed: ZeroDivisionError"):
        load_script(script(tmp_path, "x = 1 / 0\n", "broken.py"))


def test_pytorch_s_default_loads_model_pt_and_predicts_on_tensors(tmp_path):
    import torch

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    torch.jit.script(torch.nn.Linear(2, 1, bias=False).eval()).save(str(model_dir / "model.pt"))
    handlers = Handlers(load_script(script(tmp_path, "x = 1\n", "torchy.py")), "pytorch")
    model = handlers.load_model(model_dir)
    weights = model.weight.detach().numpy()[0]
    (value,) = json.loads(handlers.invoke(model, b"[[1.0, 2.0]]").body)
    assert value == pytest.approx([float(weights[0] + 2 * weights[1])], rel=1e-5)


def test_bodies_decode_to_arrays_and_predictions_encode_as_asked():
    assert decode("[[1, 2]]", JSON).dtype == np.float32
    assert decode("1,2\n3,4\n", CSV).tolist() == [[1, 2], [3, 4]]
    assert decode('{"a": 1}', JSON).item() == {"a": 1}  # not numeric: kept as it is
    assert encode(np.array([1, 2]), JSON) == b"[1, 2]"
    assert encode([[1, 2], [3, 4]], CSV) == b"1,2\n3,4\n"


def test_numpy_scalars_inside_lists_and_dicts_encode_as_plain_numbers():
    value = {"y": [np.float32(1.5), np.int64(2)], "n": (np.float64(0.25),)}
    assert json.loads(encode(value, JSON)) == {"y": [1.5, 2], "n": [0.25]}
    assert encode([np.float32(1.5), np.float32(3.0)], CSV) == b"1.5\n3.0\n"
