"""What the SDK V2 runners (``sdk_v2_local_mode.py``, ``sdk_v2_local_serving.py``) set
before importing the SDK: no telemetry call home (there is no route out of here), no V2
warning, dummy credentials that local mode never sends, and no SDK logging.  Standard
library only: it runs under the SDK's own interpreter, beside the runner."""

import logging
import os
import tempfile

CONFIG = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def offline_sdk(work: str | None = None) -> str:
    """Set the environment; the folder its config file is in (``work``, or a new one)."""
    work = work or tempfile.mkdtemp()
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)
    os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = config
    os.environ["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local-mode")  # never sent anywhere
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local-mode")
    logging.disable(logging.CRITICAL)
    return work
