"""The entry script the serving tests train and serve: a model of one weight, with the
inference half (``model_fn``, ``predict_fn``) beside the training half."""

WEIGHTS = """import json, os

def model_fn(model_dir):
    with open(os.path.join(model_dir, "weights.json")) as f:
        return json.load(f)

def predict_fn(data, model):
    return [x * model["w"] for x in data]

if __name__ == "__main__":
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "weights.json"), "w") as f:
        json.dump({"w": WEIGHT}, f)
"""


def weights_script(weight: float) -> str:
    """The script, training a model whose predictions are ``weight`` times the input."""
    return WEIGHTS.replace("WEIGHT", repr(float(weight)))
