"""An XGBoost script-mode entry script as the SageMaker XGBoost examples write it: training
under __main__ (hyperparameters as --arguments, data from SM_CHANNEL_TRAIN), and the four
inference handlers, which the serving container calls."""
import argparse
import json
import os
import pickle as pkl

import numpy as np
import xgboost as xgb

MODEL_FILE = "xgboost-model"


def model_fn(model_dir):
    """Deserialize the booster the training half saved."""
    with open(os.path.join(model_dir, MODEL_FILE), "rb") as f:
        return pkl.load(f)


def input_fn(request_body, request_content_type):
    """CSV rows or a JSON list of rows into a DMatrix (str bodies: JSON and CSV arrive as text)."""
    if request_content_type == "text/csv":
        rows = [[float(v) for v in line.split(",")] for line in request_body.strip().splitlines()]
    elif request_content_type == "application/json":
        rows = json.loads(request_body)
    else:
        raise ValueError(f"unsupported content type {request_content_type}")
    return xgb.DMatrix(np.asarray(rows, dtype=np.float32))


def predict_fn(input_data, model):
    return model.predict(input_data, validate_features=False)


def output_fn(prediction, accept):
    if accept == "text/csv":
        return "\n".join(f"{p:.6f}" for p in prediction), "text/csv"
    return json.dumps({"predictions": [round(float(p), 6) for p in prediction]}), accept


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--num_round", type=int, default=20)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    args, _ = parser.parse_known_args()
    data = np.loadtxt(os.path.join(args.train, "abalone.csv"), delimiter=",")
    dtrain = xgb.DMatrix(data[:, 1:], label=data[:, 0])
    booster = xgb.train({"max_depth": args.max_depth, "eta": args.eta,
                         "objective": "reg:squarederror"}, dtrain, args.num_round,
                        evals=[(dtrain, "train")])
    with open(os.path.join(args.model_dir, MODEL_FILE), "wb") as f:
        pkl.dump(booster, f)
