# A training script written the way AWS's public script-mode examples are written
# (argparse with defaults read from os.environ["SM_..."], CSV files in the train
# channel with the label in the first column, joblib model in SM_MODEL_DIR, a
# model_fn for hosting). It is used unmodified as a cell body by the tests.
import argparse
import os

import joblib
import pandas as pd
from sklearn.tree import DecisionTreeClassifier


def model_fn(model_dir):
    """Load the fitted model the way the SageMaker scikit-learn server does."""
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_leaf_nodes", type=int, default=-1)
    parser.add_argument("--output-data-dir", type=str, default=os.environ["SM_OUTPUT_DATA_DIR"])
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", type=str, default=os.environ["SM_CHANNEL_TRAIN"])
    args = parser.parse_args()

    files = [os.path.join(args.train, name) for name in os.listdir(args.train)]
    if not files:
        raise ValueError(f"There are no files in {args.train}: check the train channel")
    data = pd.concat([pd.read_csv(path, header=None, engine="python") for path in files])
    labels, features = data.iloc[:, 0], data.iloc[:, 1:]

    clf = DecisionTreeClassifier(max_leaf_nodes=args.max_leaf_nodes)
    clf.fit(features, labels)
    print(f"train_accuracy={clf.score(features, labels):.4f}")
    print(f"leaves={clf.get_n_leaves()}")

    joblib.dump(clf, os.path.join(args.model_dir, "model.joblib"))
    with open(os.path.join(args.output_data_dir, "feature_importances.csv"), "w") as out:
        out.write(",".join(f"{value:.6f}" for value in clf.feature_importances_) + "\n")
