"""Environment variables and tags: their names and sizes as AWS takes them, the names the
contract reserves, and no credentials, since both are stored and shown in clear (pure)."""

from __future__ import annotations

import re

from . import checks
from .contract import CONTRACT_ENV
from .errors import SpecError
from .secrets import holds_credential, is_secret_name, is_secret_value

ENV_KEY_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,511}$")


def check_environment(environment: dict[str, str], secrets_from: str) -> None:
    """``--env``: SageMaker's limits, nothing the contract sets, no credential."""
    checks.check_mapping("--env", environment, ENV_KEY_RE, 100, 512,
                      "a name of letters, digits and _ not starting with a digit")
    for key, value in environment.items():
        if key.startswith("SM_") or key in CONTRACT_ENV:
            raise SpecError("--env", f"{key} is set by the SageMaker contract",
                            "a variable the contract does not set (not SM_*); use --hp, "
                            "--input or --instance-type to change what it describes")
        if is_secret_name(key) or is_secret_value(value):
            raise SpecError("--env", f"{key} looks like a credential; the environment is "
                            "stored in the job description in clear",
                            f"no credentials: {secrets_from}")


def check_tags(tags: dict[str, str], secrets_from: str) -> None:
    """``--tag``: AWS's tag pattern and limits, no ``aws:`` key, no credential."""
    checks.check_mapping("--tag", tags, re.compile(r"^.{1,128}$"), 50, 256,
                      "KEY=VALUE with a key of 1-128 characters")
    for key, value in tags.items():
        if holds_credential(key, value) or is_secret_value(key):
            raise SpecError("--tag", f"{key} looks like a credential; tags are stored "
                            "and shown in clear", f"no credentials: {secrets_from}")
    for key, value in tags.items():
        bad = next((c for c in key + value if not checks.tag_character(c)), None)
        if bad is not None:
            raise SpecError("--tag", f"{key}: {bad!r} is not allowed in a tag (AWS's tag "
                            "pattern)", "KEY=VALUE of letters, digits, spaces and _.:/=+-@")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise SpecError("--tag", f"{key!r}: the aws: prefix is reserved by AWS",
                            "a tag key not starting with aws:")
