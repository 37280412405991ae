"""SageMaker hosting as the tests need it, on moto's AWS API server.

moto creates an endpoint already ``InService`` and answers ``InvokeEndpoint`` from a
queue of canned replies.  Here an endpoint is ``Creating`` first and becomes
``InService`` (or ``Failed``, with a reason and CloudWatch lines, as ``fail_next`` asks)
a moment later, as the service does; and ``InvokeEndpoint`` really serves the model: the
``ModelDataUrl`` tarball is fetched from moto's S3, extracted, and the script named by
``SAGEMAKER_PROGRAM`` under ``code/`` answers through the same handler semantics as a
serving container (``runtime/inference.py``).  So a wrong repack fails the test.
"""

from __future__ import annotations

import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from moto.sagemaker import models as smm
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from sm_notebook.runtime.inference import Context, Handlers, load_script

ACCOUNT, REGION = "123456789012", "us-east-1"
CREATING_FOR = 0.3  # seconds an endpoint stays Creating


class Hosting:
    def __init__(self) -> None:
        self.failure: tuple[str, list[str]] | None = None
        self.served: dict[str, tuple[Handlers, Any, str]] = {}
        self.requests: list[dict[str, Any]] = []
        self.folder = tempfile.TemporaryDirectory(prefix="smnb-hosting-")
        self._init = smm.FakeEndpoint.__init__
        self._invoke = SageMakerRuntimeResponse.invoke_endpoint
        hosting = self

        def init(endpoint: Any, *args: Any, **kwargs: Any) -> None:
            hosting._init(endpoint, *args, **kwargs)
            endpoint.endpoint_status = "Creating"
            failure, hosting.failure = hosting.failure, None
            threading.Timer(CREATING_FOR, hosting._settle, args=(endpoint, failure)).start()

        def invoke(response: Any) -> Any:
            return hosting._serve(response)

        smm.FakeEndpoint.__init__ = init
        SageMakerRuntimeResponse.invoke_endpoint = invoke

    def fail_next(self, reason: str, log_lines: list[str]) -> None:
        """The next endpoint fails as one whose container exits at start."""
        self.failure = (reason, log_lines)

    def _settle(self, endpoint: Any, failure: tuple[str, list[str]] | None) -> None:
        if failure is None:
            endpoint.endpoint_status = "InService"
            return
        reason, lines = failure
        logs = boto3.client("logs", region_name=REGION)
        group = f"/aws/sagemaker/Endpoints/{endpoint.endpoint_name}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0abc")
        now = int(time.time() * 1000)
        logs.put_log_events(logGroupName=group, logStreamName="AllTraffic/i-0abc",
                            logEvents=[{"timestamp": now + i, "message": line}
                                       for i, line in enumerate(lines)])
        endpoint.endpoint_status, endpoint.failure_reason = "Failed", reason

    def _serve(self, response: Any) -> Any:
        name = response._get_param("EndpointName")
        backend = smm.sagemaker_backends[ACCOUNT][REGION]
        endpoint = backend.endpoints[name]
        config = backend.endpoint_configs[endpoint.endpoint_config_name]
        model = backend._models[config.production_variants[0]["ModelName"]]
        handlers, loaded, model_dir = self.served.get(name) or self._load(name, model)
        content_type = response.headers.get("Content-Type")
        accept = response.headers.get("Accept")
        self.requests.append({"endpoint": name, "content_type": content_type,
                              "accept": accept, "body": response.body})
        body = response.raw_body if hasattr(response, "raw_body") else response.body
        body = body if isinstance(body, bytes) else body.encode("utf-8", "surrogateescape")
        try:
            reply = handlers.invoke(loaded, body, content_type, accept,
                                    Context(model_dir, {"model_dir": model_dir}))
        except Exception as exc:
            return model_error("server", 500, f"{type(exc).__name__}: {exc}")
        if reply.status != 200:
            return model_error("client", reply.status, reply.body.decode(errors="replace"))
        return reply.status, {"Content-Type": reply.content_type}, reply.body

    def _load(self, name: str, model: Any) -> tuple[Handlers, Any, str]:
        container = model.primary_container
        bucket, key = container["ModelDataUrl"].removeprefix("s3://").split("/", 1)
        folder = Path(self.folder.name) / name
        folder.mkdir(parents=True, exist_ok=True)
        tarball = folder / "model.tar.gz"
        boto3.client("s3", region_name=REGION).download_file(bucket, key, str(tarball))
        with tarfile.open(tarball) as tar:
            tar.extractall(folder / "model", filter="data")
        env = container.get("Environment") or {}
        script = folder / "model" / "code" / env["SAGEMAKER_PROGRAM"]
        handlers = Handlers(load_script(script), None, name=script.name)
        model_dir = str(folder / "model")
        served = (handlers, handlers.load_model(model_dir, Context(model_dir, {})), model_dir)
        self.served[name] = served
        return served

    def restore(self) -> None:
        smm.FakeEndpoint.__init__ = self._init
        SageMakerRuntimeResponse.invoke_endpoint = self._invoke
        self.folder.cleanup()


def model_error(side: str, status: int, message: str) -> tuple[int, dict[str, str], str]:
    """A container's refusal as InvokeEndpoint reports it: ModelError, HTTP 424."""
    import json

    text = f"Received {side} error ({status}) from primary with message \"{message}\""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ModelError",
               "status": "424"}  # moto takes the status from the headers
    return 424, headers, json.dumps({"__type": "ModelError", "message": text})
