"""Small helpers shared by the backends that call AWS (no boto3 import here)."""

from __future__ import annotations

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
