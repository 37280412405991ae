"""The expanded line's words → an ``argparse.Namespace``, with argparse's complaints turned
into one-line :class:`SpecError`\\ s naming the option (argparse never prints or exits)."""

from __future__ import annotations

import argparse
import difflib
import functools
from typing import Any, NoReturn

from ..errors import SpecError
from .expand import ExpandedLine
from .grammar import OPTIONS, VARIABLE_HELP


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`SpecError` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise friendly_argparse_error(message)


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """The ``%%sm_train`` options as argparse knows them: the variable first, then the table
    (built on the first parse, not by ``%load_ext``)."""
    parser = _Parser(prog="%%sm_train", add_help=False, allow_abbrev=False,
                     exit_on_error=False)
    parser.add_argument("variable", nargs="?", help=VARIABLE_HELP)
    for opt in OPTIONS:
        parser.add_argument(*opt.flags, help=opt.help, **opt.kwargs)
    return parser


def parse_args(line: ExpandedLine) -> Any:
    """The line's words as an ``argparse.Namespace``; :class:`SpecError` for an unknown
    option, a missing value, or a word no option takes."""
    try:
        args, extra = build_parser().parse_known_args(line.args)
    except argparse.ArgumentError as exc:
        raise friendly_argparse_error(str(exc)) from None
    if extra:
        raise unrecognized(extra, line)
    return args


def unrecognized(extra: list[str], line: ExpandedLine) -> SpecError:
    """Words argparse left over: an unknown option (with the options it may mean), else a
    value no option takes."""
    bad = next((w for w in extra if w.startswith("-")), extra[0])
    if not bad.startswith("-"):
        return stray_value(bad, line)
    flags = [f for opt in OPTIONS for f in opt.flags]
    typed = bad.split("=")[0]
    prefixed = [f for f in flags if f.startswith(typed) and len(typed) > 2]
    close = prefixed or difflib.get_close_matches(typed, flags, n=1)
    hint = (f"; did you mean {' or '.join(close)}?" if close
            else " (see %%sm_train? for the options)")
    if prefixed:
        hint = f" (options are not abbreviated){hint}"
    return SpecError(typed, f"unknown option{hint}")


def stray_value(raw: str, line: ExpandedLine) -> SpecError:
    """The error for a word no option takes (argparse would make a word after the options
    the variable name; only the first word is), naming the option it follows."""
    before = line.args[:line.args.index(raw)] if raw in line.args else []
    option = next((a.split("=", 1)[0] for a in reversed(before) if a.startswith("-")), "line")
    value = line.resolve(raw)
    text = value if isinstance(value, str) else str(value)
    return SpecError(option, f"unexpected extra value {text!r}",
                     "one value per option, quoted when it holds spaces; a variable name "
                     "comes first, as in %%sm_train job --wait")


def friendly_argparse_error(message: str) -> SpecError:
    """argparse wording → one line naming the option and the accepted form."""
    if not message.startswith("argument "):
        return SpecError("%%sm_train", f"{message} (see %%sm_train? for the options)")
    option, _, problem = message[len("argument "):].partition(": ")
    option = option.split("/")[-1]
    metavar = next((o.kwargs.get("metavar", "") for o in OPTIONS if option in o.flags), "")
    if "expected one argument" in problem:
        return SpecError(option, f"expected a value ({option} {metavar})")
    if problem.startswith("ignored explicit argument"):
        return SpecError(option, f"takes no value, got {problem.split(' ', 3)[-1]}",
                         f"{option} alone")
    return SpecError(option, problem)
