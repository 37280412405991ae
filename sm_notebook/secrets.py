"""Recognise credentials so they never reach hyperparameters, the environment, tags or outputs.

Every value is checked by its shape (an access key id, a session token, a private key, a
``secret_access_key=...`` assignment inside it).  Names are checked too: environment
variables by the broad convention (``*_TOKEN``, ``*_API_KEY``), because the service shows
``Environment`` in clear in every DescribeTrainingJob; hyperparameters and tags by a narrow
one, because ``max_tokens`` and ``pad_token`` are ordinary hyperparameters, and only when
they hold text (``use_auth_token=true`` is a switch, not a credential).
"""

from __future__ import annotations

import re

_SECRET_VALUE = re.compile(
    r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{16,}"  # AWS session token
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face token
    r"|sk-[A-Za-z0-9_\-]{20,}"  # OpenAI-style API key
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"  # GitHub token
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    r"|xox[abpr]-[A-Za-z0-9\-]{10,})"  # Slack token
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"  # a PEM private key
    # a credential assigned inside a value: "aws_secret_access_key=...", JSON "...": "..."
    r"|(?i:(?:secret_access_key|session_token|client_secret|password)[\"']?\s*[=:]\s*[\"']?"
    r"[^\s\"',;]{8,})"
)
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:SECRET(?:_ACCESS)?(?:_KEY)?|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_KEY(?:_ID)?"
    r"|PRIVATE_KEY|CREDENTIALS?)$",
    re.I,
)
_CREDENTIAL_NAME = re.compile(
    r"(?:^|[_.\-])(?:SECRET(?:_ACCESS)?(?:_KEY)?|SECRET_ACCESS_KEY|SESSION_TOKEN|AUTH_TOKEN"
    r"|ACCESS_TOKEN|API_?KEY|ACCESS_KEY(?:_ID)?|PRIVATE_KEY|PASSWORD|PASSWD|CREDENTIALS?"
    r"|CLIENT_SECRET)$",
    re.I,
)
MASK = "****"


def is_secret_value(value: object) -> bool:
    """True when the text contains something shaped like a known credential."""
    return bool(_SECRET_VALUE.search(str(value)))


def is_secret_name(name: str) -> bool:
    """True for variable names that conventionally hold credentials (``WANDB_API_KEY``)."""
    return bool(_SECRET_NAME.search(name))


def holds_credential(name: str, value: object) -> bool:
    """A hyperparameter or tag that carries a credential: by its value's shape, or text
    under a name only credentials have (``aws_secret_access_key``, ``db_password``)."""
    named = isinstance(value, str) and bool(value) and bool(_CREDENTIAL_NAME.search(name))
    return named or is_secret_value(value)


def mask_env(env: dict[str, str]) -> dict[str, str]:
    """A copy safe to print: values of secret-looking names or values are masked."""
    return {k: MASK if is_secret_name(k) or is_secret_value(v) else v for k, v in env.items()}
