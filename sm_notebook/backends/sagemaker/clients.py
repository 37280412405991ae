"""One boto3 session per backend and the clients made from it (boto3 loads when used).

Every client retries throttling adaptively, so a busy account slows a job's following
down rather than losing it; Live Tail gets a client of its own that tries once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from ...errors import SpecError
from ...spec import TrainingSpec


class AwsClients:
    """The session (made on first use, in the first region asked) and its clients."""

    def __init__(self) -> None:
        self._session: Any = None

    def session(self, region: str | None) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.Session(region_name=region) if region else boto3.Session()
        return self._session

    def client(self, service: str, region: str | None) -> Any:
        from botocore.config import Config

        retries = {"max_attempts": 10, "mode": "adaptive"}  # throttling is retried, not lost
        return self.session(region).client(service, region_name=region,
                                           config=Config(retries=retries))

    def region_of(self, spec: TrainingSpec) -> str:
        """The spec's region, else the session's; ``SpecError`` naming how to set one."""
        region = spec.region or self.session(None).region_name
        if not region:
            raise SpecError("--region", "no AWS region is configured",
                            "--region us-east-1, %config SmTrainMagics.region, or "
                            "AWS_DEFAULT_REGION")
        return region

    def live_tail_client(self, region: str | None) -> Any:
        """A logs client for StartLiveTail: one attempt per call (``live_tail.py`` decides
        what is worth another), and without the ``stream-`` host prefix AWS serves it
        under when the endpoint is a custom one (``AWS_ENDPOINT_URL``)."""
        from botocore.config import Config

        endpoint = self.client("logs", region).meta.endpoint_url
        return self.session(region).client("logs", region_name=region, config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            inject_host_prefix=is_aws_endpoint(endpoint)))


def is_aws_endpoint(url: str) -> bool:
    """Whether ``url`` is AWS's own (not a simulator's or a VPC endpoint's)."""
    host = urlparse(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))
