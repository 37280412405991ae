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
from dataclasses import dataclass, field
from typing import Any

from .. import hyperparameters as hp
from ..line.render import hp_text, quote, render_line
from ..spec import TrainingSpec

HP_KINDS = ("auto", "str", "int", "float", "bool", "json")
FORM_FLAGS = frozenset({
    "--mode", "--image", "--instance-type", "--instance-count", "--hp", "--input",
    "--max-run", "--spot", "--max-wait", "--checkpoint-s3", "--keep-alive", "--env",
    "--metric", "--role", "--output", "--distributed"})


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
    variable: str = "job"
    mode: str = "local"
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
    distribution: str = ""  # "" or torchrun
    wait: bool = False
    extra: str = ""  # the line's other options, verbatim

    def to_line(self) -> str:
        """The ``%%sm_train`` line of these values; FieldError for a value no line can
        carry (a hyperparameter that is not of its kind)."""
        out = ["%%sm_train", self.variable] if self.variable else ["%%sm_train"]

        def add(flag: str, value: Any) -> None:
            text = quote(str(value))
            out.extend([f"{flag}={text}"] if text.startswith("-") else [flag, text])

        add("--mode", self.mode)
        for flag, value in (("--image", self.image), ("--instance-type", self.instance_type)):
            if value.strip():
                add(flag, value.strip())
        if self.instance_count != 1:
            add("--instance-count", self.instance_count)
        for index, row in enumerate(self.hyperparameters):
            if row.key.strip() or row.value.strip():
                add("--hp", f"{row.key.strip()}={_hp_value(row, index)}")
        for row in self.inputs:
            if row.name.strip() or row.source.strip():
                source = row.source.strip()
                out.append(f"--input {row.name.strip()}={source}" if source.startswith("$")
                           else f"--input {quote(f'{row.name.strip()}={source}')}")
        for flag, value in (("--max-run", self.max_run), ("--max-wait", self.max_wait),
                            ("--checkpoint-s3", self.checkpoint_s3),
                            ("--keep-alive", self.keep_alive), ("--role", self.role),
                            ("--output", self.output), ("--distributed", self.distribution)):
            if value.strip():
                add(flag, value.strip())
        if self.spot:
            out.append("--spot")
        for flag, text in (("--env", self.environment), ("--metric", self.metrics)):
            for pair in text.splitlines():
                if pair.strip():
                    add(flag, pair.strip())
        if self.extra.strip():
            out.append(self.extra.strip())
        if self.wait:
            out.append("--wait")
        return " ".join(out)

    @classmethod
    def from_spec(cls, spec: TrainingSpec, variable: str | None = "job", wait: bool = False,
                  frames: dict[str, str] | None = None) -> FormValues:
        """The form's values for a spec (``frames``: channel name → the ``$variable`` a
        DataFrame input came from)."""
        frames = frames or {}
        extra = render_line(spec, skip=FORM_FLAGS).removeprefix("%%sm_train").strip()
        return cls(
            variable=variable or "", mode=spec.mode, image=spec.image or "",
            instance_type=spec.instance_type or "", instance_count=spec.instance_count,
            hyperparameters=[_hp_row(k, v) for k, v in spec.hyperparameters.items()],
            inputs=[InputRow(c.name, f"${frames[c.name]}" if c.name in frames else c.source)
                    for c in spec.channels],
            max_run=_text(spec.max_run), spot=spec.spot, max_wait=_text(spec.max_wait),
            checkpoint_s3=spec.checkpoint_s3 or "", keep_alive=_text(spec.keep_alive),
            environment="\n".join(f"{k}={v}" for k, v in spec.environment.items()),
            metrics="\n".join(f"{m.name}={m.regex}" for m in spec.metrics),
            role=spec.role or "", output=spec.output or "",
            distribution=spec.distribution or "", wait=wait, extra=extra)

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
        return HpRow(key, value, "auto" if type(hp.parse_value(value)) is str else "str")
    kind = {bool: "bool", int: "int", float: "float"}.get(type(value), "json")
    return HpRow(key, hp_text(value), kind)


def _hp_value(row: HpRow, index: int) -> str:
    """The text after ``KEY=`` that the line parser turns into a value of ``row.kind``."""
    text = row.value.strip()
    where = f"hp:{index}"
    if not row.key.strip():
        raise FieldError(where, "a hyperparameter needs a name")
    try:
        if row.kind == "str":
            return json.dumps(row.value) if type(hp.parse_value(row.value)) is not str \
                else row.value
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


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
