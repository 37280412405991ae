"""What the form holds, as plain values, and the ``%%sm_train`` line they stand for (pure:
no widgets).

The form never builds a spec itself: its values become a magic line, and that line goes
through the magic's own parser.  So the form accepts exactly what the line accepts, its
errors are the line's (naming the option), and the line it shows is, by construction, the
one that gives the spec it launches.  Options the form has no field for (``--source-dir``,
tags, VPC, ...) ride along verbatim in ``extra``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import hyperparameters as hp
from .. import modes
from ..line.grammar import FORM_OPTIONS, FormField, Option
from ..line.render import hp_text, quote, render_line, words
from ..spec import TrainingSpec

HP_KINDS = ("auto", "str", "int", "float", "bool", "json")
FORM_FLAGS = frozenset(opt.flag for opt in FORM_OPTIONS)  # the rest ride along in extra
_DEFAULT_SPEC = TrainingSpec()


class FieldError(ValueError):
    """A value the form cannot turn into a line: ``field`` says which (``hp:2``, ...)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass
class HpRow:
    key: str = ""
    value: str = ""
    kind: str = "auto"  # auto: a JSON literal when it parses, else text (as on the line)


@dataclass
class InputRow:
    name: str = ""
    source: str = ""  # a path, an s3:// URI, or $variable (a DataFrame)


@dataclass
class FormValues:
    """The form's fields; their names are the grammar's ``FormField.name`` values."""

    variable: str = "job"
    mode: str = modes.DEFAULT
    image: str = ""
    instance_type: str = ""
    instance_count: int = 1
    hyperparameters: list[HpRow] = field(default_factory=list)
    inputs: list[InputRow] = field(default_factory=list)
    max_run: str = ""
    spot: bool = False
    max_wait: str = ""
    checkpoint_s3: str = ""
    keep_alive: str = ""
    environment: str = ""  # KEY=VALUE, a line each
    metrics: str = ""  # NAME=REGEX, a line each
    role: str = ""
    output: str = ""
    distribution: str = ""  # "", torchrun, mpi or a driver's path
    jumpstart: str = ""  # a JumpStart model id (the picker suggests the hub's)
    queue: str = ""  # an AWS Batch training queue
    wait: bool = False
    extra: str = ""  # the line's other options, verbatim

    def to_line(self) -> str:
        """The ``%%sm_train`` line of these values; FieldError for a value no line can
        carry (a hyperparameter that is not of its kind)."""
        out = ["%%sm_train", self.variable] if self.variable else ["%%sm_train"]
        for opt in FORM_OPTIONS:
            out.extend(self._words(opt))
        if self.extra.strip():
            out.append(self.extra.strip())
        if self.wait:
            out.append("--wait")
        return " ".join(out)

    def _words(self, opt: Option) -> list[str]:
        """The line's words for one option's field (none when it is left empty)."""
        form = _form(opt)
        value = getattr(self, form.name)
        if form.widget == "rows":
            return ROW_WORDS[form.name](opt.flag, value)
        if form.widget == "toggle":
            return words(opt.flag, value)
        if form.widget == "count":
            return words(opt.flag, str(value)) if value != _spec_default(opt) else []
        if form.widget == "check":
            return words(opt.flag, None) if value else []
        if form.widget == "lines":
            return [w for item in value.splitlines() if item.strip()
                    for w in words(opt.flag, item.strip())]
        return words(opt.flag, value.strip()) if value.strip() else []

    @classmethod
    def from_spec(cls, spec: TrainingSpec, variable: str | None = "job", wait: bool = False,
                  frames: dict[str, str] | None = None) -> FormValues:
        """The form's values for a spec (``frames``: channel name → the ``$variable`` a
        DataFrame input came from)."""
        frames = frames or {}
        extra = render_line(spec, skip=FORM_FLAGS).removeprefix("%%sm_train").strip()
        fields = {_form(opt).name: _field_value(opt, getattr(spec, opt.field or ""))
                  for opt in FORM_OPTIONS if _form(opt).widget != "rows"}
        fields["hyperparameters"] = [_hp_row(k, v) for k, v in spec.hyperparameters.items()]
        fields["inputs"] = [InputRow(c.name, f"${frames[c.name]}" if c.name in frames
                                     else c.source) for c in spec.channels]
        return cls(variable=variable or "", wait=wait, extra=extra, **fields)

    def import_hyperparameters(self, text: str) -> None:
        """Rows from a JSON or YAML mapping (replacing rows of the same key)."""
        import yaml

        try:
            data = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError as exc:
            raise FieldError("hp-import", f"not JSON or YAML: {exc}") from None
        if not isinstance(data, dict):
            raise FieldError("hp-import", "expected a mapping of name: value")
        rows = {row.key: row for row in self.hyperparameters}
        for key, value in data.items():
            rows[str(key)] = _hp_row(str(key), value)
        self.hyperparameters = list(rows.values())


def _hp_row(key: str, value: Any) -> HpRow:
    if isinstance(value, str):
        return HpRow(key, value, "auto" if _reads_as_itself(value) else "str")
    kind = {bool: "bool", int: "int", float: "float"}.get(type(value), "json")
    return HpRow(key, hp_text(value), kind)


def _reads_as_itself(text: str) -> bool:
    """Whether the line reads ``text`` back as this very string (``'"x"'`` reads as
    ``'x'``, ``'3'`` as a number: those are quoted as JSON)."""
    value = hp.parse_value(text)
    return type(value) is str and value == text


def _hp_value(row: HpRow, index: int) -> str:
    """The text after ``KEY=`` that the line parser turns into a value of ``row.kind``."""
    text = row.value.strip()
    where = f"hp:{index}"
    if not row.key.strip():
        raise FieldError(where, "a hyperparameter needs a name")
    try:
        if row.kind == "str":
            return row.value if _reads_as_itself(row.value) else json.dumps(row.value)
        if row.kind == "int":
            return str(int(text))
        if row.kind == "float":
            return repr(float(text))
        if row.kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower()
        if row.kind == "json":
            return json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        raise FieldError(where, f"{row.key}: {text!r} is not a{'n' if row.kind == 'int' else ''}"
                         f" {row.kind}") from None
    return row.value  # auto: as typed, spaces included (the line keeps them)


def _form(opt: Option) -> FormField:
    assert opt.form is not None  # FORM_OPTIONS only
    return opt.form


def _spec_default(opt: Option) -> Any:
    return getattr(_DEFAULT_SPEC, opt.field or "")


def _field_value(opt: Option, value: Any) -> Any:
    """A spec value as its field holds it: the number or flag itself, else the text the
    line would carry (a line each for a repeated option; empty when unset)."""
    if _form(opt).widget in ("count", "check"):
        return value
    if value is None or opt.kind.render is None:
        return ""
    return "\n".join(str(text) for text in opt.kind.render(value))


def _hp_words(flag: str, rows: list[HpRow]) -> list[str]:
    return [w for index, row in enumerate(rows) if row.key.strip() or row.value.strip()
            for w in words(flag, f"{row.key.strip()}={_hp_value(row, index)}")]


def _input_words(flag: str, rows: list[InputRow]) -> list[str]:
    """A ``$variable`` source stays unquoted, so the line expands it to the DataFrame."""
    out = []
    for row in rows:
        name, source = row.name.strip(), row.source.strip()
        if name or source:
            out += [flag, f"{name}={source}" if source.startswith("$")
                    else quote(f"{name}={source}")]
    return out


ROW_WORDS: dict[str, Callable[[str, Any], list[str]]] = {
    "hyperparameters": _hp_words, "inputs": _input_words}
