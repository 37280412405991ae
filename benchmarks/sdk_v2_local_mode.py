"""The SageMaker Python SDK V2's local mode on the same job, run by the benchmark under the
SDK's own interpreter (a separate environment: ``python -m venv ENV && ENV/bin/pip install
'sagemaker<3'``, plus Debian's docker-compose).  Prints one JSON object of timings.

    ENV/bin/python benchmarks/sdk_v2_local_mode.py IMAGE CODE_DIR DATA_DIR OUT_DIR REPEAT

Standard library and the SDK only: this file is not imported by sm_notebook.
"""

import json
import sys
import time

from sdk_v2_offline import offline_sdk  # beside this file: the runner's folder is on sys.path


def main(image: str, code: str, data: str, out: str, repeat: int) -> None:
    offline_sdk()
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
