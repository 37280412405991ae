# The other style of AWS example: everything read from SM_TRAINING_ENV (as the
# sagemaker-training toolkit's environment object exposes it) and SM_HPS, not argparse.
import json
import os
import pathlib

env = json.loads(os.environ["SM_TRAINING_ENV"])
hps = json.loads(os.environ["SM_HPS"])
train_dir = env["channel_input_dirs"]["train"]
rows = sum(1 for path in pathlib.Path(train_dir).iterdir() for _ in path.open())
print(f"hosts={env['hosts']} current_host={env['current_host']} rows={rows}")
summary = {"hps": hps, "rows": rows, "module": env["module_name"], "job": env["job_name"]}
pathlib.Path(env["model_dir"], "summary.json").write_text(json.dumps(summary))
