"""A script's inference handlers, loaded and called as AWS's serving containers call them.

Runs where the model is served (a local server process, or a container), so it needs the
standard library only; numpy, xgboost and torch are imported when a default needs them.
The semantics are the inference toolkit's (``reference/serving-tuning-v3.md`` §1):

- ``model_fn(model_dir)`` once; per request ``input_fn(body, content_type)``,
  ``predict_fn(data, model)`` and ``output_fn(prediction, accept)``, or ``transform_fn(model,
  body, content_type, accept)`` instead of those three (never both);
- each may take a trailing ``context`` (told by its arity);
- JSON and CSV bodies reach ``input_fn`` as ``str``, other types as ``bytes``;
- ``output_fn`` may return ``(body, content_type)``;
- a missing Content-Type is JSON, a missing Accept the default (JSON);
- an ``UnsupportedFormatError`` (ours, or any exception of that name, as the toolkit's) is
  HTTP 415; anything else a handler raises is HTTP 500.

Missing handlers take the framework's defaults (``framework``, or told from the model's
type): scikit-learn has no default ``model_fn``; XGBoost loads its model file and predicts
on a ``DMatrix``; PyTorch loads ``model.pt`` with ``torch.jit.load`` and predicts on
tensors; anything with ``.predict`` is called.  Importing the script never runs its
``__main__`` block.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
TEXT_TYPES = (JSON, CSV)  # decoded to str before input_fn, as the toolkit does
HANDLERS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")
#: how many arguments each handler takes without ``context``
ARITY = {"model_fn": 1, "input_fn": 2, "predict_fn": 2, "output_fn": 2, "transform_fn": 4}
FRAMEWORKS = ("sklearn", "xgboost", "pytorch")
XGBOOST_FILES = ("xgboost-model", "model.json", "model.ubj", "model.bin", "model.xgb")


class HandlerError(Exception):
    """A script whose handlers cannot serve (one line, naming the handler)."""


class UnsupportedFormatError(Exception):
    """A content type or accept a handler does not take: HTTP 415."""


@dataclass
class Context:
    """What a handler with a trailing ``context`` argument is given."""

    model_dir: str
    system_properties: dict[str, Any] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str


def load_script(path: str | Path) -> Any:
    """Import the entry script as a module (not as ``__main__``: it does not train).  Its
    folder is first on ``sys.path``, so its own imports resolve as in training."""
    path = Path(path).resolve()
    if not path.is_file():
        raise HandlerError(f"{path.name}: no such script in {path.parent}")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"sm_notebook_serving_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise HandlerError(f"{path.name}: not a Python script")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise HandlerError(f"importing {path.name} failed: {type(exc).__name__}: {exc}") from exc
    return module


class Handlers:
    """The handlers a module defines, checked, with the framework's defaults beside."""

    def __init__(self, module: Any, framework: str | None = None, name: str = "the script"):
        if framework is not None and framework not in FRAMEWORKS:
            raise HandlerError(f"framework {framework!r}: one of {', '.join(FRAMEWORKS)}")
        self.name = name
        self.framework = framework
        self.defined = {h: getattr(module, h) for h in HANDLERS
                        if callable(getattr(module, h, None))}
        if "transform_fn" in self.defined:
            others = [h for h in ("input_fn", "predict_fn", "output_fn") if h in self.defined]
            if others:
                raise HandlerError(f"{name}: transform_fn replaces input_fn, predict_fn and "
                                   f"output_fn; it also defines {', '.join(others)}")
        self.takes_context = {h: _takes_context(h, fn) for h, fn in self.defined.items()}

    # ---- loading -------------------------------------------------------------------------
    def load_model(self, model_dir: str | Path, context: Context | None = None) -> Any:
        """``model_fn(model_dir)``, or the framework's default loader."""
        model_dir = str(model_dir)
        context = context or Context(model_dir)
        if "model_fn" in self.defined:
            return self._call("model_fn", context, model_dir)
        if self.framework == "pytorch":
            import torch

            return torch.jit.load(str(Path(model_dir) / "model.pt"), map_location="cpu")
        if self.framework == "xgboost":
            return _load_xgboost(Path(model_dir))
        which = "scikit-learn has" if self.framework == "sklearn" else "there is"
        raise HandlerError(f"{self.name}: no model_fn, and {which} no default loader: define "
                           "model_fn(model_dir) returning the model saved in model_dir")

    # ---- a request -----------------------------------------------------------------------
    def invoke(self, model: Any, body: bytes, content_type: str | None = None,
               accept: str | None = None, context: Context | None = None) -> Reply:
        """One request: 200 with the encoded prediction, 415 for a format refused, 500
        for anything else a handler raised (the caller logs the traceback)."""
        content_type = _media(content_type) or JSON
        accept = _media(accept) or JSON
        context = context or Context("")
        try:
            if "transform_fn" in self.defined:
                data = _as_input(body, content_type)
                result = self._call("transform_fn", context, model, data, content_type, accept)
                return _reply(result, accept)
            data = self._input(body, content_type, context, model)
            prediction = self._predict(data, model, context)
            return _reply(self._output(prediction, accept, context), accept)
        except Exception as exc:
            if _refuses_format(exc):
                return Reply(415, str(exc).encode(), "text/plain")
            raise

    def _input(self, body: bytes, content_type: str, context: Context, model: Any) -> Any:
        data = _as_input(body, content_type)
        if "input_fn" in self.defined:
            return self._call("input_fn", context, data, content_type)
        array = decode(data, content_type)
        return _framework_input(array, self.framework or framework_of(model))

    def _predict(self, data: Any, model: Any, context: Context) -> Any:
        if "predict_fn" in self.defined:
            return self._call("predict_fn", context, data, model)
        kind = self.framework or framework_of(model)
        if kind == "pytorch":
            import torch

            with torch.no_grad():
                return model(data)
        if kind == "xgboost" and type(model).__name__ == "Booster":
            return model.predict(data, validate_features=False)
        if hasattr(model, "predict"):
            return model.predict(data)
        raise HandlerError(f"{self.name}: no predict_fn, and the model "
                           f"({type(model).__name__}) has no predict method")

    def _output(self, prediction: Any, accept: str, context: Context) -> Any:
        if "output_fn" in self.defined:
            return self._call("output_fn", context, prediction, accept)
        return encode(prediction, accept), accept

    def _call(self, handler: str, context: Context, *args: Any) -> Any:
        fn = self.defined[handler]
        return fn(*args, context) if self.takes_context[handler] else fn(*args)


def _takes_context(handler: str, fn: Any) -> bool:
    """Whether ``fn`` takes the trailing ``context`` (one argument more than usual)."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
    expected, count = ARITY[handler], len(positional)
    if count in (expected, expected + 1):
        return count == expected + 1
    required = sum(1 for p in positional if p.default is p.empty)
    if required <= expected <= count:  # optional extras: called as the toolkit calls it
        return False
    raise HandlerError(f"{handler} takes {count} arguments; the toolkit passes {expected} "
                       f"(or {expected + 1} with context)")


def _media(value: str | None) -> str:
    """``text/csv; charset=utf-8`` → ``text/csv``; ``*/*`` and empty → ``""``."""
    media = (value or "").split(";", 1)[0].strip().lower()
    return "" if media in ("", "*/*") else media


def _as_input(body: bytes, content_type: str) -> str | bytes:
    return body.decode("utf-8") if content_type in TEXT_TYPES else body


def _refuses_format(exc: BaseException) -> bool:
    return any(cls.__name__ == "UnsupportedFormatError" for cls in type(exc).__mro__)


def framework_of(model: Any) -> str | None:
    """The framework a model comes from, by its type's module."""
    root = type(model).__module__.split(".", 1)[0]
    return {"sklearn": "sklearn", "xgboost": "xgboost", "torch": "pytorch"}.get(root)


def decode(data: str | bytes, content_type: str) -> Any:
    """A request body as an array (numpy where it is installed, else lists)."""
    if content_type == JSON:
        value = json.loads(data)
        return _array(value)
    if content_type == CSV:
        rows = [[float(cell) for cell in line.split(",")]
                for line in str(data).splitlines() if line.strip()]
        return _array(rows)
    if content_type == NPY:
        import numpy as np

        return np.load(io.BytesIO(data if isinstance(data, bytes) else data.encode()),
                       allow_pickle=False)
    raise UnsupportedFormatError(f"content type {content_type} is not supported: send "
                                 f"{JSON}, {CSV} or {NPY}, or define input_fn")


def encode(prediction: Any, accept: str) -> bytes:
    """A prediction as ``accept`` says."""
    value = _plain(prediction)
    if accept == JSON:
        return json.dumps(value).encode()
    if accept == CSV:
        rows = value if isinstance(value, list) else [value]
        return "".join(",".join(str(v) for v in (row if isinstance(row, list) else [row]))
                       + "\n" for row in rows).encode()
    if accept == NPY:
        import numpy as np

        out = io.BytesIO()
        np.save(out, np.asarray(value), allow_pickle=False)
        return out.getvalue()
    raise UnsupportedFormatError(f"accept {accept} is not supported: ask for {JSON}, "
                                 f"{CSV} or {NPY}, or define output_fn")


def _reply(result: Any, accept: str) -> Reply:
    """What output_fn (or transform_fn) returned: a body, or ``(body, content_type)``."""
    body, content_type = result if isinstance(result, tuple) and len(result) == 2 \
        else (result, accept)
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, (bytes, bytearray)):
        body = json.dumps(_plain(body)).encode()
    return Reply(200, bytes(body), str(content_type))


def _array(value: Any) -> Any:
    try:
        import numpy as np
    except ImportError:
        return value
    return np.asarray(value, dtype="float32") if _numeric(value) else np.asarray(value)


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, list) and bool(value) and all(_numeric(v) for v in value)


def _plain(value: Any) -> Any:
    """numpy arrays, tensors and scalars → lists and numbers, for JSON and CSV, also
    inside lists, tuples and dicts (``[x * w for x in array]`` is a list of numpy scalars)."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _framework_input(array: Any, framework: str | None) -> Any:
    if framework == "xgboost":
        import xgboost

        return xgboost.DMatrix(array)
    if framework == "pytorch":
        import torch

        return torch.as_tensor(array)
    return array


def _load_xgboost(model_dir: Path) -> Any:
    import xgboost

    for name in XGBOOST_FILES:
        if (model_dir / name).is_file():
            booster = xgboost.Booster()
            booster.load_model(str(model_dir / name))
            return booster
    raise HandlerError(f"no model_fn, and no XGBoost model file in {model_dir} (looked for "
                       f"{', '.join(XGBOOST_FILES)})")
