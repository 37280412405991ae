"""Credentials for pulling an image from Amazon ECR, through boto3, as ``docker login``
with ``aws ecr get-login-password`` would give them.

AWS framework images (``763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:…``)
and a team's own ECR images need a login before the Docker Engine may pull them; a user
should not have to run it by hand.  Other registries use the engine's own configuration.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from ...errors import SmNotebookError
from ..aws import reason

ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def ecr_location(image: str) -> tuple[str, str] | None:
    """``(account, region)`` when ``image`` lives in an ECR registry."""
    host = image.split("/", 1)[0] if "/" in image else ""
    match = ECR_HOST.match(host)
    return (match.group(1), match.group(2)) if match else None


def pull_credentials(image: str) -> dict[str, str] | None:
    """``auth_config`` for the engine's pull, or None when the image is not in ECR."""
    location = ecr_location(image)
    if location is None:
        return None
    account, region = location
    import boto3
    import botocore.exceptions

    try:
        reply = boto3.client("ecr", region_name=region).get_authorization_token(
            registryIds=[account])
    except botocore.exceptions.NoCredentialsError:
        raise SmNotebookError(
            f"--image {image}: pulling from ECR needs AWS credentials and boto3 found none; "
            "configure them (aws configure, AWS_PROFILE, or an instance role), or pull the "
            "image yourself first") from None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise SmNotebookError(f"--image {image}: the ECR login for account {account} in "
                              f"{region} failed: {reason(exc)}") from None
    data: Any = reply["authorizationData"][0]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": username, "password": password,
            "serveraddress": data.get("proxyEndpoint") or f"https://{image.split('/')[0]}"}
