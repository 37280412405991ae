"""Regenerate ``sm_notebook/catalog/image_versions.json`` from the SageMaker Python SDK's
``image_uri_config`` (Apache-2.0), training scope only.

    python tests/gen_image_versions.py /path/to/sagemaker-python-sdk.git [REV] \
        > sm_notebook/catalog/image_versions.json

It reads the JSON files with ``git show`` (a bare clone is enough) and keeps, per version,
what the URI needs: repository, registry map (deduplicated: registries differ by version),
Python tags, processors, container version and the Hugging Face tag prefix.  Judgements made
here, so the package needs none at run time:

* a version whose config is split by Python tag (TensorFlow 1.13.1: py2 lived in another
  repository) keeps only its newest Python's entry, the one sm_notebook picks;
* Hugging Face keeps its PyTorch base (the ``huggingface`` alias is
  ``huggingface-pytorch-training``), the newest one where a release has several, as the tag
  prefix ``<torch>-transformers<version>``; releases with no container version in the JSON
  get ``cu110-ubuntu18.04`` on GPU, as the SDK's estimators pass it;
* XGBoost ``1`` (alias ``latest``) is the legacy built-in algorithm (repository ``xgboost``),
  which runs no script, so it is left out and ``xgboost:1`` keeps meaning the newest 1.x;
* the SDK's p4d/smdistributed CUDA suffixes for a few old GPU images are data too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

PATH = "sagemaker-core/src/sagemaker/core/image_uri_config/{}.json"
FRAMEWORKS = ("pytorch", "tensorflow", "sklearn", "xgboost", "huggingface")
HF_DEFAULT_GPU_CONTAINER = "cu110-ubuntu18.04"
# The SDK appends these on ml.p4d (or with smdistributed) to "<version>-gpu-<py>" tags.
P4D = {("pytorch", "1.6.0", "py3"): "cu110-ubuntu18.04",
       ("pytorch", "1.6.0", "py36"): "cu110-ubuntu18.04",
       ("tensorflow", "2.3.1", "py37"): "cu110-ubuntu18.04",
       ("tensorflow", "2.3.2", "py37"): "cu110-ubuntu18.04",
       ("tensorflow", "1.15.4", "py37"): "cu110-ubuntu18.04",
       ("tensorflow", "1.15.5", "py37"): "cu110-ubuntu18.04"}
LEFT_OUT = {("xgboost", "1")}


def numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


def py_key(py: str) -> tuple[int, int]:
    digits = py.removeprefix("py")
    return int(digits[0]), int(digits[1:] or -1)


def newest_py_entry(entry: dict) -> dict:
    """A version split by Python tag → its newest Python's entry, with that one tag."""
    if "repository" in entry:
        return entry
    py = max(entry, key=py_key)
    return {**entry[py], "py_versions": [py]}


def release(name: str, version: str, entry: dict, registries: list[dict]) -> dict:
    out: dict = {}
    if name == "huggingface":
        bases = [k for k in entry if k.startswith("pytorch")]
        base = max(bases, key=lambda k: numbers(k))
        entry = {**entry[base]}
        out["tag_prefix"] = f"{base.removeprefix('pytorch')}-transformers{version}"
        entry.setdefault("container_version", {"gpu": HF_DEFAULT_GPU_CONTAINER})
    entry = newest_py_entry(entry)
    if entry["registries"] not in registries:
        registries.append(entry["registries"])
    out = {"repository": entry["repository"], "registry": registries.index(entry["registries"]),
           **out}
    for key in ("py_versions", "processors", "container_version", "tag_prefix"):
        if entry.get(key):
            out[key] = entry[key]
    pys = entry.get("py_versions") or []
    if pys and (p4d := P4D.get((name, version, max(pys, key=py_key)))):
        out["p4d_container_version"] = p4d
    return out


def main(git_dir: str, rev: str = "HEAD") -> None:
    registries: list[dict] = []
    frameworks = {}
    for name in FRAMEWORKS:
        text = subprocess.run(["git", "-C", git_dir, "show", f"{rev}:{PATH.format(name)}"],
                              check=True, capture_output=True, text=True).stdout
        training = json.loads(text)["training"]
        versions = {v: release(name, v, e, registries) for v, e in training["versions"].items()
                    if (name, v) not in LEFT_OUT}
        order = [numbers(v) for v in versions]
        assert order == sorted(order), f"{name}: versions not oldest first"
        frameworks[name] = {
            "processors": training.get("processors", []),
            "version_aliases": {a: v for a, v in training.get("version_aliases", {}).items()
                                if v in versions},
            "versions": versions}
    commit = subprocess.run(["git", "-C", git_dir, "rev-parse", rev], check=True,
                            capture_output=True, text=True).stdout.strip()
    dump = json.dumps
    lines = ['{"source": ' + dump(f"aws/sagemaker-python-sdk {commit} "
                                  f"{PATH.format('*')} training scope") + ",",
             ' "registries": [']
    lines += [f"  {dump(r, sort_keys=True)}," for r in registries]
    lines[-1] = lines[-1].rstrip(",")
    lines.append(' ],\n "frameworks": {')
    for i, (name, fw) in enumerate(frameworks.items()):
        lines.append(f'  {dump(name)}: {{"processors": {dump(fw["processors"])}, '
                     f'"version_aliases": {dump(fw["version_aliases"])}, "versions": {{')
        body = [f"   {dump(v)}: {dump(r)}," for v, r in fw["versions"].items()]
        body[-1] = body[-1].rstrip(",")
        lines += body
        lines.append("  }}" + ("," if i < len(frameworks) - 1 else ""))
    lines.append(" }\n}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
