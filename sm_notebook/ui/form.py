"""The interactive form of ``%%sm_train --form`` (or of a line that leaves the job
incomplete, in an interactive frontend).

Every change turns the fields into ``FormValues``, then into the magic line, which the
magic's own parser checks: the line is always shown, an option the parser refuses marks
its field with the reason, and Launch stays disabled until the line gives a complete
spec.  Launch runs that line; the job's dashboard then takes the form's place.

The form's widgets belong to the main thread (their callbacks run there).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from ..catalog import images, instances
from .form_model import HP_KINDS, FieldError, FormValues, HpRow, InputRow

MODES = ("local", "container", "sagemaker")
# option named by an error → the field that shows it
FIELD_OF = {"--mode": "mode", "--image": "image", "--image-kind": "extra",
            "--instance-type": "instance_type", "--instance-count": "instance_count",
            "--hp": "hps", "--hps": "hps", "--input": "inputs", "--content-type": "inputs",
            "--max-run": "max_run", "--spot": "spot", "--max-wait": "max_wait",
            "--checkpoint-s3": "checkpoint_s3", "--keep-alive": "keep_alive",
            "--env": "environment", "--metric": "metrics", "--role": "role",
            "--output": "output", "--distributed": "distribution"}
ADVANCED = ("max_run", "spot", "max_wait", "checkpoint_s3", "keep_alive", "environment",
            "metrics", "role", "output", "distribution", "extra")  # fields under "advanced"
_OPTION = re.compile(r"(--[a-z][a-z0-9-]*)")
_RED = "#cf222e"
_MUTED = "#57606a"


SUGGESTED_VERSIONS = 4  # per framework: the newest; any other version can be typed


def image_suggestions() -> list[str]:
    """``framework:version`` for the newest releases of each alias, newest first (the
    table is in release order, which text sorting would scramble: 2.9 before 2.19)."""
    return [f"{name}:{version}" for name, framework in images.FRAMEWORKS.items()
            for version in list(framework.versions)[::-1][:SUGGESTED_VERSIONS]]


def instance_options(mode: str) -> list[tuple[str, str]]:
    """(label, value) for the mode, with each type's vCPUs, memory and GPUs."""
    if mode == "local":
        return [("local (this machine, a process)", "")]
    described = [(f"{name} — {spec.describe()}", name)
                 for name, spec in sorted(instances.CATALOG.items())]
    if mode == "container":
        return [("local_cpu (this machine's CPUs)", ""), ("local_gpu (every GPU here)",
                                                          "local_gpu"), *described]
    return [("ml.m5.xlarge — default", ""), *described]


class TrainingForm:
    """Fields for a job, kept checked against the magic's parser."""

    def __init__(self, values: FormValues, check: Callable[[str], list[tuple[str, str]]],
                 launch: Callable[[str, TrainingForm], None],
                 image_note: Callable[[str], str] | None = None):
        """``check(line)`` gives the (option, reason) pairs the line is refused for;
        ``launch(line, form)`` runs it; ``image_note(line)`` says what the image stands
        for (an alias's URI in the region), shown under a valid image."""
        import ipywidgets as w

        self._check, self._launch_line, self._image_note = check, launch, image_note
        self._building = True
        self.w = w
        self.errors: dict[str, str] = {}
        self.line = ""
        short = w.Layout(width="12em")
        self.variable = w.Text(values.variable, description="variable", layout=short)
        self.mode = w.ToggleButtons(options=MODES, value=values.mode, description="mode")
        self.image = w.Combobox(value=values.image, options=image_suggestions(),
                                placeholder="pytorch:2.8, an ECR URI, or any image",
                                description="image", ensure_option=False,
                                layout=w.Layout(width="36em"))
        self.instance_type = w.Dropdown(description="instance",
                                        layout=w.Layout(width="36em"))
        self._set_instance_options(values.mode, values.instance_type)
        self.instance_count = w.BoundedIntText(values.instance_count, min=1, max=1000,
                                               description="count", layout=short)
        self.hp_rows = w.VBox()
        self.hp_add = w.Button(description="hyperparameter", icon="plus")
        self.hp_import_text = w.Textarea(placeholder='{"epochs": 10} or YAML',
                                         layout=w.Layout(width="24em", height="4em"))
        self.hp_import = w.Button(description="import", icon="upload")
        self.input_rows = w.VBox()
        self.input_add = w.Button(description="input channel", icon="plus")
        self.max_run = w.Text(values.max_run, description="max run", placeholder="2h")
        self.spot = w.Checkbox(values.spot, description="managed spot")
        self.max_wait = w.Text(values.max_wait, description="max wait", placeholder="3h")
        self.checkpoint_s3 = w.Text(values.checkpoint_s3, description="checkpoints",
                                    placeholder="s3://bucket/checkpoints/")
        self.keep_alive = w.Text(values.keep_alive, description="keep alive",
                                 placeholder="10m (warm pool)")
        self.environment = w.Textarea(values.environment, description="environment",
                                      placeholder="KEY=VALUE, a line each")
        self.metrics = w.Textarea(values.metrics, description="metrics",
                                  placeholder="NAME=REGEX, a line each")
        self.role = w.Text(values.role, description="role",
                           placeholder="arn:aws:iam::ACCOUNT:role/NAME",
                           layout=w.Layout(width="36em"))
        self.output = w.Text(values.output, description="output",
                             placeholder="a directory or s3://bucket/prefix")
        self.distribution = w.Dropdown(options=[("none", ""), ("torchrun", "torchrun")],
                                       value=values.distribution, description="distributed")
        self.extra = w.Text(values.extra, description="other options",
                            layout=w.Layout(width="36em"))
        self.waits = values.wait  # kept for the line; a launched form never blocks
        self.launched = False
        self.line_view = w.HTML()
        self.launch_button = w.Button(description="Launch", button_style="primary",
                                      icon="play", disabled=True)
        self.notes = w.HTML()
        self.marks: dict[str, Any] = {}
        for row in values.hyperparameters or []:
            self._add_hp(row)
        for row in values.inputs or []:
            self._add_input(row)

        def marked(name: str, *widgets: Any) -> Any:
            self.marks[name] = w.HTML()
            return w.VBox([w.HBox(list(widgets)), self.marks[name]])

        advanced = w.VBox([marked(name, getattr(self, name)) for name in ADVANCED])
        self.advanced = w.Accordion(children=[advanced], titles=("advanced",))
        if any(getattr(values, name) for name in ADVANCED):
            self.advanced.selected_index = 0
        self.root = w.VBox([
            w.HTML("<b>%%sm_train</b>: the job, then Launch"),
            marked("variable", self.variable), marked("mode", self.mode),
            marked("image", self.image), marked("instance_type", self.instance_type),
            marked("instance_count", self.instance_count),
            w.HTML("hyperparameters"), self.hp_rows,
            w.HBox([self.hp_add, self.hp_import_text, self.hp_import]),
            marked("hps", w.HTML()), w.HTML("input channels"), self.input_rows,
            w.HBox([self.input_add]), marked("inputs", w.HTML()), self.advanced,
            self.line_view, marked("general", self.launch_button), self.notes])
        self.root.add_class("smnb-form")

        self.hp_add.on_click(lambda _: self._add_hp(HpRow()))
        self.input_add.on_click(lambda _: self._add_input(InputRow()))
        self.hp_import.on_click(self._import_hps)
        self.mode.observe(self._mode_changed, names="value")
        self.launch_button.on_click(self._launch)
        for widget in (self.variable, self.image, self.instance_type, self.instance_count,
                       self.max_run, self.spot, self.max_wait, self.checkpoint_s3,
                       self.keep_alive, self.environment, self.metrics, self.role,
                       self.output, self.distribution, self.extra):
            widget.observe(self._changed, names="value")
        self._building = False
        self.validate()

    # ---- rows ------------------------------------------------------------------------
    def _add_hp(self, row: HpRow) -> None:
        w = self.w
        key = w.Text(row.key, placeholder="name", layout=w.Layout(width="12em"))
        value = w.Text(row.value, placeholder="value", layout=w.Layout(width="16em"))
        kind = w.Dropdown(options=HP_KINDS, value=row.kind, layout=w.Layout(width="7em"))
        remove = w.Button(icon="times", tooltip="remove", layout=w.Layout(width="3em"))
        box = w.HBox([key, value, kind, remove])
        box.add_class("smnb-hp-row")
        remove.on_click(lambda _: self._remove(self.hp_rows, box))
        for widget in (key, value, kind):
            widget.observe(self._changed, names="value")
        self.hp_rows.children = (*self.hp_rows.children, box)
        self._changed()

    def _add_input(self, row: InputRow) -> None:
        w = self.w
        name = w.Text(row.name, placeholder="channel", layout=w.Layout(width="12em"))
        source = w.Text(row.source, placeholder="path, s3://bucket/prefix, or $dataframe",
                        layout=w.Layout(width="28em"))
        remove = w.Button(icon="times", tooltip="remove", layout=w.Layout(width="3em"))
        box = w.HBox([name, source, remove])
        box.add_class("smnb-input-row")
        remove.on_click(lambda _: self._remove(self.input_rows, box))
        for widget in (name, source):
            widget.observe(self._changed, names="value")
        self.input_rows.children = (*self.input_rows.children, box)
        self._changed()

    def _remove(self, rows: Any, box: Any) -> None:
        rows.children = tuple(c for c in rows.children if c is not box)
        self._changed()

    def _import_hps(self, _button: Any) -> None:
        values = self.values()
        try:
            values.import_hyperparameters(self.hp_import_text.value)
        except FieldError as exc:
            self._mark({"hps": str(exc)})
            return
        self._building = True
        self.hp_rows.children = ()
        for row in values.hyperparameters:
            self._add_hp(row)
        self._building = False
        self.hp_import_text.value = ""
        self.validate()

    def _mode_changed(self, change: dict[str, Any]) -> None:
        self._set_instance_options(change["new"], "")
        self._changed()

    def _set_instance_options(self, mode: str, value: str) -> None:
        options = instance_options(mode)
        if value and value not in [v for _, v in options]:
            options.append((value, value))
        self.instance_type.options = options
        self.instance_type.value = value

    # ---- values, checks, launch ----------------------------------------------------------
    def values(self) -> FormValues:
        return FormValues(
            variable=self.variable.value.strip(), mode=self.mode.value,
            image=self.image.value, instance_type=self.instance_type.value or "",
            instance_count=self.instance_count.value,
            hyperparameters=[HpRow(k.value, v.value, t.value)
                             for k, v, t, _ in (b.children for b in self.hp_rows.children)],
            inputs=[InputRow(n.value, s.value)
                    for n, s, _ in (b.children for b in self.input_rows.children)],
            max_run=self.max_run.value, spot=self.spot.value, max_wait=self.max_wait.value,
            checkpoint_s3=self.checkpoint_s3.value, keep_alive=self.keep_alive.value,
            environment=self.environment.value, metrics=self.metrics.value,
            role=self.role.value, output=self.output.value,
            distribution=self.distribution.value or "", wait=self.waits,
            extra=self.extra.value)

    def _changed(self, _change: Any = None) -> None:
        if not self._building:
            self.validate()

    def validate(self) -> bool:
        """Check the line; mark refused fields; True when it can launch."""
        errors: dict[str, str] = {}
        try:
            self.line = self.values().to_line()
            for option, reason in self._check(self.line):
                field = FIELD_OF.get(option, "general")
                errors.setdefault(field, f"{option}: {reason}" if option else reason)
        except FieldError as exc:
            errors["hps" if exc.field.startswith("hp") else exc.field] = str(exc)
        self.line_view.value = (f'<div class="smnb-line">equivalent line: <code>'
                                f"{html.escape(self.line)}</code></div>")
        self._mark(errors)
        if "image" not in errors and self._image_note is not None:
            note = self._image_note(self.line)
            self.marks["image"].value = (f'<span class="smnb-note" style="color:{_MUTED}">'
                                         f"{html.escape(note)}</span>" if note else "")
        self.launch_button.disabled = bool(errors)
        return not errors

    def _mark(self, errors: dict[str, str]) -> None:
        self.errors = errors
        for name, mark in self.marks.items():
            reason = errors.get(name)
            mark.value = (f'<span class="smnb-invalid" style="color:{_RED}">'
                          f"{html.escape(reason)}</span>" if reason else "")
        if any(name in errors for name in ADVANCED):
            self.advanced.selected_index = 0

    def _launch(self, _button: Any) -> None:
        """Once: a double click sends two clicks before the browser hears of the first,
        and the kernel would take both."""
        if self.launched or not self.validate():
            return
        self.launched = True
        self.launch_button.disabled = True
        self._launch_line(self.line, self)


def errors_of(message: str) -> tuple[str, str]:
    """``"--role: sagemaker mode needs ..."`` → (``--role``, the rest)."""
    text = message.strip()
    match = _OPTION.match(text)
    if match:
        return match.group(1), text[match.end():].lstrip(":").strip()
    found = _OPTION.search(text)
    return (found.group(1) if found else "", text)

