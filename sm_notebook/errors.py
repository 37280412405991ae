"""Error types: one short line for the user, no traceback noise.

Pure modules raise :class:`SpecError` (bad input, naming the option); the magic turns it
into IPython's ``UsageError``.  Faults at run time (a backend that cannot start, a job that
failed during ``wait``) raise :class:`SmNotebookError`, whose ``_render_traceback_`` makes
IPython print just the message.
"""

from __future__ import annotations


class SmNotebookError(Exception):
    """A fault reported to the user as one plain message."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class SpecError(SmNotebookError, ValueError):
    """Invalid user input: ``option`` names the magic option, ``expected`` the accepted form."""

    def __init__(self, option: str, problem: str, expected: str | None = None):
        self.option = option
        self.problem = problem
        self.expected = expected
        text = f"{option}: {problem}" if option else problem
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)

    def field_error(self) -> tuple[str, str]:
        """``(option, what is wrong)``: the form marks the option's field with the rest."""
        text = self.problem + (f" (expected {self.expected})" if self.expected else "")
        return self.option, text


class JobFailedError(SmNotebookError):
    """Raised by ``job.wait()`` when asked to raise on a job that did not complete."""
