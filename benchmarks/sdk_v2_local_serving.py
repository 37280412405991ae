"""The SageMaker Python SDK V2's local-mode ``deploy()`` of a trained model, run by the
benchmark under the SDK's own interpreter (a separate environment: ``python -m venv ENV &&
ENV/bin/pip install 'sagemaker<3'``, plus Debian's docker-compose).  Each repeat is
``Model(...).deploy(instance_type="local")`` → the first ``predict()`` returns; the
endpoint is deleted and its container removed after, outside the timing.  One more
``deploy(wait=False)`` shows what V2's ``wait_for_endpoint`` adds (in local mode too it
sleeps its 30 s poll before the first look).  Prints one JSON object of timings.

    ENV/bin/python benchmarks/sdk_v2_local_serving.py IMAGE MODEL_TARBALL CODE_DIR DATA REPEAT

``IMAGE`` needs a ``serve`` of its own (V2 runs ``serve`` in it through docker-compose,
port 8080 on the host); ``DATA`` is the JSON of one request.  A failure is one JSON line
too, ``{"error": ...}``, with exit status 1.  Standard library and the SDK only: this file
is not imported by sm_notebook.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from sdk_v2_offline import offline_sdk  # beside this file: the runner's folder is on sys.path

LABEL = "sm-notebook.benchmark"
NETWORK = "sagemaker-local"  # the SDK's compose network


def _remove_containers() -> None:
    """The SDK's stopped serving containers (compose's ``up`` was stopped, never ``down``)."""
    listed = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={LABEL}=sdk-v2-serving"],
                            capture_output=True, text=True).stdout.split()
    if listed:
        subprocess.run(["docker", "rm", "-f", "-v", *listed], capture_output=True)


def _network_exists() -> bool:
    return subprocess.run(["docker", "network", "inspect", NETWORK],
                          capture_output=True).returncode == 0


def main(image: str, tarball: str, code: str, data: str, repeat: int) -> None:
    had_network = _network_exists()
    try:
        _measure(image, tarball, code, data, repeat)
    finally:
        _remove_containers()
        if not had_network and _network_exists():  # the compose file's, never removed
            subprocess.run(["docker", "network", "rm", NETWORK], capture_output=True)


def _measure(image: str, tarball: str, code: str, data: str, repeat: int) -> None:
    work = tempfile.mkdtemp()
    offline_sdk(work)
    import sagemaker
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.local import LocalSession
    from sagemaker.model import Model
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import JSONSerializer

    reply = None

    def deploy(number: int, wait: bool) -> float:
        """Seconds from ``deploy()`` to the first prediction."""
        nonlocal reply
        model_data = os.path.join(work, f"model-{number}.tar.gz")
        shutil.copy(tarball, model_data)  # V2 repacks a file:// model in place, code added
        began = time.perf_counter()
        session = LocalSession()
        session.config = {"local": {"local_code": True, "container_config": {
            "labels": {LABEL: "sdk-v2-serving"}}}}  # merged into each compose service
        model = Model(image_uri=image, model_data=f"file://{model_data}",
                      role="arn:aws:iam::123456789012:role/Local", entry_point="train.py",
                      source_dir=code, predictor_cls=Predictor, sagemaker_session=session,
                      code_location="s3://local-mode/serving")  # else: default_bucket(), S3
        predictor = model.deploy(initial_instance_count=1, instance_type="local", wait=wait,
                                 serializer=JSONSerializer(), deserializer=JSONDeserializer())
        try:
            reply = predictor.predict(json.loads(data))
            return time.perf_counter() - began
        finally:
            predictor.delete_endpoint()  # stops `docker-compose up`: the container stays
            _remove_containers()

    deploy(0, wait=False)  # warms caches and is dropped
    times = [deploy(number, wait=True) for number in range(1, repeat + 1)]  # the default
    no_wait = deploy(repeat + 1, wait=False)
    print(json.dumps({"deploy_s": times, "no_wait_s": no_wait, "reply": reply,
                      "version": sagemaker.__version__}))


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    except Exception as exc:  # one line for the table, not the SDK's rich traceback
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
