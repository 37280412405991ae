"""Recognise credentials so they never reach hyperparameters, the environment or outputs.

Hyperparameters are checked by value only (names such as ``max_tokens`` or ``pad_token``
are ordinary); environment variables are also checked by name, because the service shows
``Environment`` in clear in every DescribeTrainingJob.
"""

from __future__ import annotations

import re

_SECRET_VALUE = re.compile(
    r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face token
    r"|sk-[A-Za-z0-9_\-]{20,}"  # OpenAI-style API key
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub token
    r"|xox[abpr]-[A-Za-z0-9\-]{10,})"  # Slack token
)
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:SECRET(?:_ACCESS)?(?:_KEY)?|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_KEY(?:_ID)?"
    r"|PRIVATE_KEY|CREDENTIALS?)$",
    re.I,
)
MASK = "****"


def is_secret_value(value: object) -> bool:
    """True when the text contains something shaped like a known credential."""
    return bool(_SECRET_VALUE.search(str(value)))


def is_secret_name(name: str) -> bool:
    """True for variable names that conventionally hold credentials (``WANDB_API_KEY``)."""
    return bool(_SECRET_NAME.search(name))


def mask_env(env: dict[str, str]) -> dict[str, str]:
    """A copy safe to print: values of secret-looking names or values are masked."""
    return {k: MASK if is_secret_name(k) or is_secret_value(v) else v for k, v in env.items()}
