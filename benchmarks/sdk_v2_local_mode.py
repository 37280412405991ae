"""The SageMaker Python SDK V2's local mode on the same job, run by the benchmark under the
SDK's own interpreter (a separate environment: ``python -m venv ENV && ENV/bin/pip install
'sagemaker<3'``, plus Debian's docker-compose).  Prints one JSON object of timings.

    ENV/bin/python benchmarks/sdk_v2_local_mode.py IMAGE CODE_DIR DATA_DIR OUT_DIR REPEAT

Standard library and the SDK only: this file is not imported by sm_notebook.
"""

import json
import logging
import os
import sys
import tempfile
import time

CONFIG = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def main(image: str, code: str, data: str, out: str, repeat: int) -> None:
    config = os.path.join(tempfile.mkdtemp(), "config.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)  # no telemetry call home (there is no route out of here)
    os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = config
    os.environ["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local-mode")  # never sent anywhere
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local-mode")
    logging.disable(logging.CRITICAL)
    from sagemaker.estimator import Estimator
    from sagemaker.local import LocalSession

    times = []
    for _ in range(repeat + 1):  # the first run warms caches and is dropped
        began = time.perf_counter()
        session = LocalSession()
        session.config = {"local": {"local_code": True}}
        estimator = Estimator(image_uri=image, role="arn:aws:iam::123456789012:role/Local",
                              instance_count=1, instance_type="local", entry_point="train.py",
                              source_dir=code, hyperparameters={"max_leaf_nodes": 30},
                              sagemaker_session=session, output_path=f"file://{out}")
        estimator.fit({"train": f"file://{data}"})
        times.append(time.perf_counter() - began)
    print(json.dumps({"fit_s": times[1:]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
