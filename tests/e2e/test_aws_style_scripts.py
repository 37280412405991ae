"""Scripts written as AWS's script-mode examples are written run unchanged as cell bodies."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import joblib
from sklearn.datasets import load_iris

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "aws_style"


def write_iris_csv(folder: Path) -> int:
    """Iris as the example expects it: one headerless CSV, the label in the first column."""
    folder.mkdir(parents=True)
    iris = load_iris()
    with (folder / "iris.csv").open("w") as out:
        for label, features in zip(iris.target, iris.data, strict=True):
            out.write(",".join([str(label), *map(str, features)]) + "\n")
    return len(iris.target)


def test_sklearn_example_trains_from_the_channel_and_ships_a_loadable_model(ip, run_dir):
    write_iris_csv(run_dir / "data" / "train")
    cell = (SCRIPTS / "sklearn_decision_tree.py").read_text()
    ip.run_cell_magic("sm_train", "job --input train=./data/train --hp max_leaf_nodes=30 --wait",
                      cell)
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert job.mode == "local"
    assert json.loads((job.directory / "opt/ml/input/config/hyperparameters.json").read_text()) \
        == {"max_leaf_nodes": "30"}
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.getnames() == ["model.joblib"]
    with tarfile.open(job.output_artifacts) as tar:
        assert tar.getnames() == ["feature_importances.csv"]

    model_dir = job.extract_model(run_dir / "model")
    clf = joblib.load(Path(model_dir) / "model.joblib")
    iris = load_iris()
    assert clf.get_n_leaves() <= 30
    assert clf.score(iris.data, iris.target) > 0.95

    metrics = job.metrics()
    accuracy = metrics[metrics.metric == "accuracy"]  # a default definition
    assert list(metrics.columns) == ["timestamp", "host", "metric", "value", "step"]
    assert len(accuracy) == 1 and accuracy.value.iloc[0] > 0.95
    assert any(line.startswith("leaves=") for line in job.logs().message)


def test_script_reading_sm_training_env_sees_channels_hosts_and_typed_hyperparameters(ip, run_dir):
    rows = write_iris_csv(run_dir / "data" / "train")
    cell = (SCRIPTS / "training_env_json.py").read_text()
    ip.run_cell_magic("sm_train", "job --input train=data/train --hp epochs=3 --hp lr=0.1 "
                      "--hp layers=[64,32] --hp use_amp=true --hp name=iris --wait", cell)
    job = ip.user_ns["job"]

    assert job.status == "Completed", job.failure_reason
    assert f"hosts=['algo-1'] current_host=algo-1 rows={rows}" in list(job.logs().message)
    with tarfile.open(job.model_artifacts) as tar:
        summary = json.load(tar.extractfile("summary.json"))
    assert summary == {"hps": {"epochs": 3, "lr": 0.1, "layers": [64, 32], "use_amp": True,
                               "name": "iris"},
                       "rows": rows, "module": "train", "job": job.name}
