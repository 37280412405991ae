"""The SageMaker Python SDK V2's local-mode ``deploy()`` of a trained model, run by the
benchmark under the SDK's own interpreter (a separate environment: ``python -m venv ENV &&
ENV/bin/pip install 'sagemaker<3'``, plus Debian's docker-compose).  Each repeat is
``Model(...).deploy(instance_type="local")`` → the first ``predict()`` returns; the
endpoint is deleted after, outside the timing.  Prints one JSON object of timings.

    ENV/bin/python benchmarks/sdk_v2_local_serving.py IMAGE MODEL_TARBALL CODE_DIR DATA REPEAT

``IMAGE`` needs a ``serve`` of its own (V2 runs ``serve`` in it through docker-compose,
port 8080 on the host); ``DATA`` is the JSON of one request.  Standard library and the SDK
only: this file is not imported by sm_notebook.
"""

import json
import logging
import os
import shutil
import sys
import tempfile
import time

CONFIG = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def main(image: str, tarball: str, code: str, data: str, repeat: int) -> None:
    work = tempfile.mkdtemp()
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)  # no telemetry call home (there is no route out of here)
    os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = config
    os.environ["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local-mode")  # never sent anywhere
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local-mode")
    logging.disable(logging.CRITICAL)
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.local import LocalSession
    from sagemaker.model import Model
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import JSONSerializer

    times, reply = [], None
    for number in range(repeat + 1):  # the first run warms caches and is dropped
        model_data = os.path.join(work, f"model-{number}.tar.gz")
        shutil.copy(tarball, model_data)  # V2 repacks a file:// model in place, code added
        began = time.perf_counter()
        session = LocalSession()
        session.config = {"local": {"local_code": True}}
        model = Model(image_uri=image, model_data=f"file://{model_data}",
                      role="arn:aws:iam::123456789012:role/Local", entry_point="train.py",
                      source_dir=code, predictor_cls=Predictor, sagemaker_session=session,
                      code_location="s3://local-mode/serving")  # else: default_bucket(), S3
        predictor = model.deploy(initial_instance_count=1, instance_type="local",
                                 serializer=JSONSerializer(), deserializer=JSONDeserializer())
        try:
            reply = predictor.predict(json.loads(data))
            times.append(time.perf_counter() - began)
        finally:
            predictor.delete_endpoint()
            predictor.delete_model()
    print(json.dumps({"deploy_s": times[1:], "reply": reply}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
