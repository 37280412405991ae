"""The launch form's callbacks: each change checked by the magic's own parser, the image
an alias stands for, and Launch running the line the form shows."""

from __future__ import annotations

from typing import Any, Protocol

from IPython.core.error import UsageError
from IPython.display import display

from ..errors import SmNotebookError, SpecError
from ..job import Job
from ..launch import Launcher
from ..line.parse import LaunchOptions
from ..spec import TrainingSpec
from ..ui.form import TrainingForm
from ..ui.form_model import FormValues

MAGIC = "%%sm_train"


class FormHost(Protocol):
    """What the form's callbacks use of the training magics."""

    shell: Any
    form: TrainingForm | None

    def parse_spec(self, line: str, cell: str) -> tuple[TrainingSpec, LaunchOptions]: ...

    def parse(self, line: str, cell: str) -> tuple[TrainingSpec, LaunchOptions]: ...

    def missing(self, spec: TrainingSpec) -> list[tuple[str, str]]: ...

    def launcher(self) -> Launcher: ...

    def run(self, spec: TrainingSpec, launch: LaunchOptions,
            form: TrainingForm | None = None) -> Job: ...


def frame_names(options: LaunchOptions, namespace: dict[str, Any]) -> dict[str, str]:
    """Each DataFrame channel → the notebook variable that holds the frame."""
    return {name: next((k for k, v in namespace.items() if v is frame
                        and not k.startswith("_")), name)
            for name, frame in (options.frames or {}).items()}


class FormGlue:
    """The callbacks of one form shown for one cell."""

    def __init__(self, magics: FormHost, cell: str):
        self.magics = magics
        self.cell = cell

    def parse(self, line: str) -> tuple[TrainingSpec, LaunchOptions]:
        """The form's line → spec and options; ``SpecError`` on bad input."""
        return self.magics.parse_spec(line.removeprefix(MAGIC).strip(), self.cell)

    def check(self, line: str) -> list[tuple[str, str]]:
        """``(option, problem)`` for each field to mark; ``[]`` when Launch may go."""
        try:
            checked, _ = self.parse(line)
            self.magics.launcher().image_uri(checked)  # an alias with no image there
        except SpecError as exc:
            return [exc.field_error()]
        return self.magics.missing(checked)

    def image_note(self, line: str) -> str:
        """``→ URI`` for an image alias, where the region is known."""
        try:
            checked, _ = self.parse(line)
            uri = self.magics.launcher().image_uri(checked)
        except SpecError:
            return ""
        return f"→ {uri}" if uri else ""

    def models(self, line: str) -> list[str]:
        """The JumpStart picker's choices: the model ids of the line's hub (``--hub``,
        else the public one) in its region; ``SmNotebookError`` saying why not."""
        from ..backends.sagemaker.hub import model_ids

        try:
            spec, _ = self.parse(line)
        except SpecError:  # the rest of the line may be unfinished: the default hub
            spec = TrainingSpec()
        return model_ids(spec.hub, spec.region or self.magics.launcher().region)

    def launch(self, line: str, form: TrainingForm) -> None:
        """Launch (a click, main thread): notes and errors land in the form's place."""
        import ipywidgets as widgets

        out = widgets.Output()
        form.root.children = (form.line_view, out)  # the line stays, to copy
        with out:
            try:
                checked, options = self.magics.parse(line.removeprefix(MAGIC).strip(),
                                                     self.cell)
                self.magics.run(checked, options, form)
            except (UsageError, SmNotebookError) as exc:
                print(f"{type(exc).__name__}: {exc}")


def show_form(magics: FormHost, spec: TrainingSpec, options: LaunchOptions,
              cell: str) -> None:
    """Show the form for a line, pre-filled; it launches through ``magics.run``."""
    values = FormValues.from_spec(spec, options.variable, options.wait,
                                  frame_names(options, magics.shell.user_ns))
    glue = FormGlue(magics, cell)
    magics.form = TrainingForm(values, glue.check, glue.launch, glue.image_note, glue.models)
    display(magics.form.root)


__all__ = ["FormGlue", "FormHost", "frame_names", "show_form"]
