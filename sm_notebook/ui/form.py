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
from collections.abc import Callable
from typing import Any

from .. import modes
from ..catalog import images, instances
from ..line.grammar import ADVANCED as ADVANCED_SECTION
from ..line.grammar import FORM_OPTIONS, OPTIONS, FormField
from .copy_line import copy_line
from .form_model import HP_KINDS, FieldError, FormValues, HpRow, InputRow
from .theme import stylesheet

# option named by an error → the field that shows it (others: under Launch)
FIELD_OF = {opt.flag: mark for opt in OPTIONS if (mark := opt.form_mark)}
ADVANCED_FIELDS = [opt.form for opt in FORM_OPTIONS
                   if opt.form and opt.form.section == ADVANCED_SECTION]
ADVANCED = (*(f.name for f in ADVANCED_FIELDS), "extra")  # fields under "advanced"


SUGGESTED_VERSIONS = 4  # per framework: the newest; any other version can be typed


def image_suggestions() -> list[str]:
    """``framework:version`` for the newest releases of each alias, newest first (the
    table is in release order, which text sorting would scramble: 2.9 before 2.19)."""
    return [f"{name}:{version}" for name, framework in images.FRAMEWORKS.items()
            for version in list(framework.versions)[::-1][:SUGGESTED_VERSIONS]]


def instance_options(mode: str) -> list[tuple[str, str]]:
    """(label, value) for the mode: its own choices, then (where the mode offers them)
    SageMaker's types with each one's vCPUs, memory and GPUs."""
    entry = modes.get(mode)
    described = [(f"{name} — {spec.describe()}", name)
                 for name, spec in sorted(instances.CATALOG.items())]
    return [*entry.instance_choices, *(described if entry.offers_catalog else [])]


class TrainingForm:
    """Fields for a job, kept checked against the magic's parser."""

    def __init__(self, values: FormValues, check: Callable[[str], list[tuple[str, str]]],
                 launch: Callable[[str, TrainingForm], None],
                 image_note: Callable[[str], str] | None = None,
                 models: Callable[[str], list[str]] | None = None):
        """``check(line)`` gives the (option, reason) pairs the line is refused for;
        ``launch(line, form)`` runs it; ``image_note(line)`` says what the image stands
        for (an alias's URI in the region), shown under a valid image; ``models(line)``
        lists the JumpStart model ids of the line's hub, for the picker."""
        import ipywidgets as w

        self._check, self._launch_line, self._image_note = check, launch, image_note
        self._models = models
        self._building = True
        self.w = w
        self.errors: dict[str, str] = {}
        self.line = ""
        short = w.Layout(width="12em")
        self.variable = w.Text(values.variable, description="variable", layout=short)
        self.mode = w.ToggleButtons(options=modes.NAMES, value=values.mode,
                                    description="mode")
        self.image = w.Combobox(value=values.image, options=image_suggestions(),
                                placeholder="pytorch:2.8, an ECR URI, or any image",
                                description="image", ensure_option=False,
                                layout=w.Layout(width="36em"))
        self.instance_type = w.Dropdown(description="instance",
                                        layout=w.Layout(width="36em"))
        self._set_instance_options(values.mode, values.instance_type)
        # not bounded: a bounded box resets 0 to 1 in silence; the line's check refuses it
        self.instance_count = w.IntText(values.instance_count, description="count",
                                        layout=short)
        self.hp_rows = w.VBox()
        self.hp_add = w.Button(description="hyperparameter", icon="plus")
        self.hp_import_text = w.Textarea(placeholder='{"epochs": 10} or YAML',
                                         layout=w.Layout(width="24em", height="4em"))
        self.hp_import = w.Button(description="import", icon="upload")
        self.input_rows = w.VBox()
        self.input_add = w.Button(description="input channel", icon="plus")
        for spec in ADVANCED_FIELDS:  # max_run, role, ...: one widget each, by kind
            setattr(self, spec.name, self._widget(spec, getattr(values, spec.name)))
        self.extra = w.Text(values.extra, description="other options",
                            layout=w.Layout(width="36em"))
        self.waits = values.wait  # kept for the line; a launched form never blocks
        self.launched = False
        self.line_view = copy_line()
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

        beside: dict[str, list[Any]] = {}
        if models is not None:  # the JumpStart picker: the hub's ids, asked on a click
            self.models_button = w.Button(description="hub models", icon="search",
                                          tooltip="list the hub's JumpStart models")
            self.models_button.on_click(self._list_models)
            beside["jumpstart"] = [self.models_button]
        advanced = w.VBox([marked(name, getattr(self, name), *beside.get(name, []))
                           for name in ADVANCED])
        self.advanced = w.Accordion(children=[advanced], titles=("advanced",))
        if any(getattr(values, name) for name in ADVANCED):
            self.advanced.selected_index = 0
        self.root = w.VBox([
            w.HTML(f"{stylesheet()}<b>%%sm_train</b>: the job, then Launch"),
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
        for name in ("variable", "image", "instance_type", "instance_count", *ADVANCED):
            getattr(self, name).observe(self._changed, names="value")
        self._building = False
        self.validate()

    def _widget(self, spec: FormField, value: Any) -> Any:
        """The widget of an advanced field, of the kind its option declares."""
        w = self.w
        wide = {"layout": w.Layout(width="36em")} if spec.wide else {}
        if spec.widget == "check":
            return w.Checkbox(value, description=spec.label)
        if spec.widget == "choice":
            return w.Dropdown(options=list(spec.choices), value=value, description=spec.label)
        if spec.widget == "combo":  # suggestions, and any other text (a driver's path)
            return w.Combobox(value=value, options=[v for _, v in spec.choices if v],
                              description=spec.label, placeholder=spec.placeholder,
                              ensure_option=False, **wide)
        make = w.Textarea if spec.widget == "lines" else w.Text
        return make(value, description=spec.label, placeholder=spec.placeholder, **wide)

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

    def _list_models(self, _button: Any = None) -> None:
        """The picker's click (main thread): the hub's model ids as the field's choices,
        or why they could not be listed, under it."""
        assert self._models is not None
        try:
            ids = self._models(self.line)
        except Exception as exc:  # no credentials, no region, no such hub: said, not raised
            self.marks["jumpstart"].value = (f'<span class="smnb-error">'
                                             f"{html.escape(str(exc))}</span>")
            return
        self.jumpstart.options = ids
        self.marks["jumpstart"].value = (f'<span class="smnb-note smnb-muted">{len(ids)} '
                                         "models: type to filter</span>")

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
            wait=self.waits, extra=self.extra.value,
            **{f.name: getattr(self, f.name).value or _empty(f) for f in ADVANCED_FIELDS})

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
        self.line_view.value = self.line
        self._mark(errors)
        if "image" not in errors and self._image_note is not None:
            note = self._image_note(self.line)
            self.marks["image"].value = (f'<span class="smnb-note smnb-muted">'
                                         f"{html.escape(note)}</span>" if note else "")
        self.launch_button.disabled = bool(errors)
        return not errors

    def _mark(self, errors: dict[str, str]) -> None:
        self.errors = errors
        for name, mark in self.marks.items():
            reason = errors.get(name)
            mark.value = (f'<span class="smnb-invalid smnb-error">'
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
        self.line_view.label = "launched:"
        self.line_view.note = ("the cell still says --form: put this line in its place to "
                               "launch the same job without the form")
        self._launch_line(self.line, self)


def _empty(spec: FormField) -> Any:
    """An unset widget's value as the form's values hold it (a dropdown's None → "")."""
    return False if spec.widget == "check" else ""
