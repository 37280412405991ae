"""Small helpers shared by the backends that call AWS (boto3 is imported only when used)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..errors import SmNotebookError

# What to do about the errors users meet most, by the service's error code.
HINTS = {
    "AccessDenied": "the credentials lack a permission the call needs (for CreateTrainingJob: "
                    "sagemaker:CreateTrainingJob and iam:PassRole on the role)",
    "AccessDeniedException": "the credentials lack a permission the call needs (for "
                             "CreateTrainingJob: sagemaker:CreateTrainingJob and iam:PassRole)",
    "ResourceLimitExceeded": "the account's quota for this instance type is used up: ask for "
                             "a quota increase (Service Quotas) or use another instance type",
    "ExpiredToken": "the session credentials have expired: refresh them",
    "ExpiredTokenException": "the session credentials have expired: refresh them",
    "UnrecognizedClientException": "the access key is not valid in this region or account",
    "InvalidClientTokenId": "the access key is not valid: check the credentials",
}


def configured_region() -> str | None:
    """The region boto3 would use (``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile)."""
    import botocore.session

    return botocore.session.get_session().get_config_variable("region")


def reason(exc: Exception) -> str:
    """``Code: Message`` of a botocore ``ClientError`` (plus what to do, when known), else
    the exception's text."""
    error = getattr(exc, "response", {}).get("Error", {})
    if not error:
        return str(exc)
    code, message = error.get("Code"), error.get("Message")
    hint = HINTS.get(code or "")
    if code == "ValidationException" and "assume" in (message or "").lower():
        hint = ("the role's trust policy must allow sagemaker.amazonaws.com to assume it "
                "(sts:AssumeRole)")
    return f"{code}: {message}" + (f"; {hint}" if hint else "")


@contextlib.contextmanager
def aws_errors(what: str, uploaded: list[str] | None = None) -> Iterator[None]:
    """An AWS failure as one line saying what failed, what to do, and what was already
    uploaded."""
    import botocore.exceptions

    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise SmNotebookError(f"{what}: no AWS credentials found; configure them (aws "
                              "configure, AWS_PROFILE, or an instance role)") from None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        left = f" (already uploaded: {', '.join(uploaded)})" if uploaded else ""
        raise SmNotebookError(f"{what}: {reason(exc)}{left}") from None
