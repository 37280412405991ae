"""A spec back to the ``%%sm_train`` line that parses to it."""

from __future__ import annotations

import json
import re
from typing import Any

from .. import hyperparameters as hp
from ..spec import DEFAULT_ENTRY_SCRIPT, TrainingSpec

_SAFE_TOKEN = re.compile(r"^[\w@%+=:,./\-]+$")


def quote(token: str) -> str:
    """Quote a token so :func:`split_line` returns it unchanged and unexpanded."""
    if token and _SAFE_TOKEN.match(token):
        return token
    return "'" + token.replace("'", "'\"'\"'") + "'"


def hp_text(value: Any) -> str:
    if isinstance(value, str) and hp.parse_value(value) == value and type(
            hp.parse_value(value)) is str:
        return value
    return json.dumps(value, separators=(",", ":"))


def render_line(spec: TrainingSpec, variable: str | None = None,
                skip: frozenset[str] = frozenset()) -> str:
    """The ``%%sm_train`` line that parses back to ``spec`` (launch flags not included);
    options in ``skip`` are left out (the form renders those from its own fields)."""
    out = ["%%sm_train"]
    if variable:
        out.append(variable)

    def add(flag: str, value: Any) -> None:
        if flag in skip:
            return
        text = quote(str(value))
        # a value starting with '-' would read as an option: attach it with '='
        out.extend([f"{flag}={text}"] if text.startswith("-") else [flag, text])

    add("--mode", spec.mode)
    add("--hp-style", spec.hp_style)
    simple = [("--entry-script", spec.entry_script if spec.entry_script != DEFAULT_ENTRY_SCRIPT
               else None), ("--source-dir", spec.source_dir),
              ("--requirements", spec.requirements), ("--image", spec.image),
              ("--image-kind", spec.image_kind),
              ("--instance-type", spec.instance_type),
              ("--instance-count", spec.instance_count if spec.instance_count != 1 else None),
              ("--volume-gb", spec.volume_gb)]
    for flag, value in simple:
        if value is not None:
            add(flag, value)
    for dep in spec.dependencies:
        add("--dependencies", dep)
    for key, value in spec.hyperparameters.items():
        add("--hp", f"{key}={hp_text(value)}")
    for ch in spec.channels:
        add("--input", f"{ch.name}={ch.source}")
    for ch in spec.channels:
        if ch.content_type:
            add("--content-type", f"{ch.name}={ch.content_type}")
    rest = [("--distributed", spec.distribution), ("--processes-per-host",
            spec.processes_per_host), ("--max-run", spec.max_run),
            ("--max-wait", spec.max_wait), ("--checkpoint-s3", spec.checkpoint_s3),
            ("--keep-alive", spec.keep_alive), ("--role", spec.role), ("--output", spec.output),
            ("--region", spec.region), ("--job-name", spec.job_name),
            ("--base-job-name", spec.base_job_name), ("--python", spec.python),
            ("--command", spec.command)]
    for flag, value in rest:
        if value is not None:
            add(flag, value)
    if spec.spot and "--spot" not in skip:
        out.append("--spot")
    for flag, ids in (("--subnets", spec.subnets), ("--security-groups", spec.security_groups)):
        if ids:
            add(flag, ",".join(ids))
    if spec.network_isolation and "--network-isolation" not in skip:
        out.append("--network-isolation")
    for key, value in spec.environment.items():
        add("--env", f"{key}={value}")
    for key, value in spec.tags.items():
        add("--tag", f"{key}={value}")
    for m in spec.metrics:
        add("--metric", f"{m.name}={m.regex}")
    return " ".join(out)

