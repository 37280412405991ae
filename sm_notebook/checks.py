"""Checks of one value against what SageMaker accepts, each raising a :class:`SpecError`
naming the option: the spec's validation is made of these."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SpecError


def check_writable_dir(option: str, path: Path) -> None:
    """``path`` is a directory, or can be made one, that this user can write to."""
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise SpecError(option, f"{existing} is not a directory", "a directory path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SpecError(option, f"{existing} is not writable", "a directory you can write to")


def check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SpecError(option, f"unknown value {value!r}", " | ".join(choices))


def check_positive(option: str, value: Any, minimum: int = 1, maximum: int | None = None,
                   why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        bound = f"an integer from {minimum}" + (f" to {maximum}" if maximum else " up")
        raise SpecError(option, f"invalid value {value!r}" + (f": {why}" if why else ""), bound)


def check_service_text(option: str, what: str, text: str, limit: int) -> None:
    """Free text the service takes as it is (``.+`` / ``.*`` in its model): only what it
    refuses is refused here, a line break (its patterns match one line) or the length."""
    expected = f"1 to {limit} characters on one line (SageMaker's limit)"
    if len(text) > limit:
        raise SpecError(option, f"{what} is {len(text)} characters", expected)
    if not text or any(c in "\n\r\x00" for c in text):
        raise SpecError(option, f"invalid {what} {text!r}", expected)


def tag_character(c: str) -> bool:
    """AWS's tag pattern ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``: letters, separators,
    numbers and a few signs, in any script."""
    return c in "_.:/=+-@" or unicodedata.category(c)[0] in "LZN"


def check_mapping(option: str, mapping: dict[str, str], key_re: re.Pattern[str], limit: int,
                  value_limit: int, expected: str) -> None:
    if len(mapping) > limit:
        raise SpecError(option, f"{len(mapping)} entries, the limit is {limit}")
    for key, value in mapping.items():
        if not key_re.match(key):
            raise SpecError(option, f"invalid name {key!r}", expected)
        if len(str(value)) > value_limit:
            raise SpecError(option, f"{key}: value longer than {value_limit} characters")


# ---- text that reaches a terminal -----------------------------------------------------------

#: bidirectional overrides and isolates: they reorder what a terminal shows ("Trojan Source")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTILINE = "\n"  # what a value of --hp, --env or --command may hold besides text


def control_character(text: str, allowed: str = "") -> str | None:
    """The first control character of ``text`` (ESC, BEL, CR, C1, a bidi override; a tab
    is only space), if any: printed raw, it would rewrite the equivalent line or the dry
    run on the terminal."""
    return next((c for c in text if c != "\t" and c not in allowed and (
        unicodedata.category(c) == "Cc" or c in _BIDI)), None)


def check_printable(option: str, where: str, text: str, allowed: str = "") -> None:
    """``text`` holds no control character (see :func:`control_character`); ``where``
    names it in the message, escaped."""
    bad = control_character(text, allowed)
    if bad is not None:
        raise SpecError(option, f"{where} holds the control character {bad!r}, which the "
                        "equivalent line and the dry run would print raw",
                        "printable text" + (" and line breaks" if allowed else ""))


# ---- names and paths ------------------------------------------------------------------------

JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
JOB_NAME_EXPECTED = "1-63 letters, digits and hyphens, not starting or ending with a hyphen"


def check_job_name(option: str, name: str) -> None:
    """A SageMaker job name, which is also the job's folder name: no path can hide in it."""
    if not JOB_NAME_RE.match(name):
        raise SpecError(option, f"invalid job name {name!r}", JOB_NAME_EXPECTED)


NAME_MAX = 255  # bytes in one path component (Linux, macOS; the usual file systems)
PATH_MAX = 4096


def resolve_path(base: Path, path: str) -> Path:
    """``path`` as given when absolute (``~`` expanded), else under ``base``."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else base / p


def local_path(option: str, base: Path, path: str, what: str = "") -> Path:
    """``path`` resolved under ``base``, refused (one line, not ``OSError``) when no file
    system could hold it: a component over 255 bytes, or the whole over 4,096."""
    resolved = resolve_path(base, path)
    prefix = f"{what}: " if what else ""
    long = next((part for part in resolved.parts if len(os.fsencode(part)) > NAME_MAX), None)
    if long is not None:
        raise SpecError(option, f"{prefix}a path component is {len(os.fsencode(long))} bytes "
                        f"long ({long[:20]}…), longer than any file name can be",
                        f"a path whose names are at most {NAME_MAX} bytes each")
    if len(os.fsencode(str(resolved))) > PATH_MAX:
        raise SpecError(option, f"{prefix}the path is longer than {PATH_MAX} bytes",
                        f"a path of at most {PATH_MAX} bytes")
    return resolved


def special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists but is neither a regular file nor a directory
    (``/dev/zero``, a FIFO, a socket): reading one blocks or never ends."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return None


def check_file_or_dir(option: str, what: str, path: Path, expected: str) -> None:
    """``path`` exists and is a regular file or a directory (links followed)."""
    kind = special_kind(path)
    if kind is not None:
        raise SpecError(option, f"{what} is {kind}, not a file or a directory", expected)
    if not path.exists():
        raise SpecError(option, f"{what} does not exist", expected)


# ---- whole numbers ----------------------------------------------------------------------------

_WHOLE = re.compile(r"[+-]?[0-9]+")


def whole_number(text: str) -> int | None:
    """ASCII digits with an optional sign; None otherwise (``int()`` would also take
    ``1_0``, ``١٠`` and surrounding spaces)."""
    return int(text) if _WHOLE.fullmatch(text) else None


# ---- hosts that share this machine -------------------------------------------------------------

MIN_CONTAINER_MEMORY = 256 << 20  # what a container of Python and a script needs, at least


def machine_memory() -> int:
    """This machine's physical memory, in bytes."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_hosts_fit(option: str, count: int, per_host: int | None, instance_type: str,
                    memory: int, instead: str) -> None:
    """``count`` containers on this machine, each given ``per_host`` bytes (None: no
    limit, counted at the least a container needs), fit in its ``memory``; ``instead``
    says where more hosts can run."""
    each = max(min(per_host or 0, memory), MIN_CONTAINER_MEMORY)
    if count * each <= memory:
        return
    gib = float(1 << 30)
    why = ("the least a container needs" if not per_host else "the instance's memory"
           if per_host <= memory else "this machine's memory, below the instance's")
    most = max(memory // each, 1)
    raise SpecError(option, f"{count} containers of {instance_type} need "
                    f"{count * each / gib:,.1f} GiB ({each / gib:.3g} GiB each, {why}) and "
                    f"this machine has {memory / gib:.3g} GiB", f"at most {most} "
                    f"host{'s' if most > 1 else ''} of {instance_type} here, or {instead} for "
                    "more")


def texts(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a field's value, keys included, with the top-level key it is under;
    a list or dict shared many times over (or in a cycle) is read once."""
    seen: set[int] = set()
    stack = [(where, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict | list | tuple) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, dict):
                stack += [(where or str(k), v) for k, v in item.items()]
                stack += [(where, k) for k in item]
            else:
                stack += [(where, v) for v in item]


# ---- groups of values -------------------------------------------------------------------------

SUBNET_RE = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
SECURITY_GROUP_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")


def check_vpc(subnets: list[str], security_groups: list[str]) -> None:
    """EC2 ids, within the service's limits, and both lists or neither."""
    for option, ids, pattern, limit, example in (
            ("--subnets", subnets, SUBNET_RE, 16, "subnet-0abc1234"),
            ("--security-groups", security_groups, SECURITY_GROUP_RE, 5, "sg-0abc1234")):
        bad = next((i for i in ids if not pattern.match(i)), None)
        if bad is not None:
            raise SpecError(option, f"invalid id {bad!r}: EC2 names them "
                            f"{example.split('-')[0]}- and 8 or 17 hex digits",
                            f"comma-separated ids such as {example}")
        if len(ids) > limit:
            raise SpecError(option, f"{len(ids)} ids, the limit is {limit}")
    if bool(subnets) != bool(security_groups):
        raise SpecError("--subnets" if security_groups else "--security-groups",
                        "a VPC needs both subnets and security groups",
                        "--subnets subnet-… --security-groups sg-…")


def check_metrics(metrics: list[Any], name_limit: int) -> None:
    """At most 40 definitions, each named once, each a regex with a capture group."""
    if len(metrics) > 40:
        raise SpecError("--metric", f"{len(metrics)} definitions, the limit is 40")
    names = set()
    for m in metrics:
        check_service_text("--metric", "metric name", m.name, name_limit)
        if m.name in names:
            raise SpecError("--metric", f"metric {m.name!r} defined twice")
        names.add(m.name)
        if len(m.regex) > 500:
            raise SpecError("--metric", f"{m.name}: regex longer than 500 characters")
        try:
            compiled = re.compile(m.regex)
        except re.error as exc:
            raise SpecError("--metric", f"{m.name}: invalid regex: {exc}",
                            "NAME=REGEX with one capture group for the value") from None
        if compiled.groups < 1:
            raise SpecError("--metric", f"{m.name}: the regex has no capture group",
                            "a regex whose first group captures the number, "
                            "e.g. loss='loss: ([0-9.]+)'")


def check_jumpstart(model: str | None, hub: str | None, accept_eula: bool,
                    model_re: re.Pattern[str], expected: str) -> None:
    """``--jumpstart`` is a model id (the hub is asked later); ``--hub`` and
    ``--accept-eula`` go with it."""
    if hub is not None:
        check_service_text("--hub", "hub name", hub, 63)
    if model is not None:
        if not model_re.match(model):
            raise SpecError("--jumpstart", f"invalid model id {model!r}", expected)
        return
    for option, given in (("--hub", hub is not None), ("--accept-eula", accept_eula)):
        if given:
            raise SpecError(option, "only applies to a JumpStart model",
                            f"--jumpstart MODEL_ID {option}"
                            + (" NAME" if option == "--hub" else ""))


def check_queue(queue: str | None, priority: int | None, share: str | None,
                timeout: int | None) -> None:
    """``--queue`` and what goes with it (whether the queue exists is asked later)."""
    if queue is None:
        for option, value in (("--priority", priority), ("--share", share),
                              ("--queue-timeout", timeout)):
            if value is not None:
                raise SpecError(option, "only applies to a job in a Batch queue",
                                f"--queue NAME {option} ...")
        return
    check_service_text("--queue", "queue", queue, 255)
    if priority is not None:
        check_positive("--priority", priority, minimum=0, maximum=9999)
    if share is not None:
        check_service_text("--share", "share identifier", share, 255)
    if timeout is not None:
        check_positive("--queue-timeout", timeout, minimum=60,
                       why="Batch's shortest attempt duration is 60 s")
