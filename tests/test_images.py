"""Image aliases resolve to AWS's training image URIs, as the SDK's image_uris.retrieve."""

from __future__ import annotations

import pytest

from sm_notebook.errors import SpecError
from sm_notebook.images import is_alias, processor_for, resolve


@pytest.mark.parametrize(("alias", "region", "instance_type", "uri"), [
    ("pytorch:2.8", "us-west-2", "ml.g5.xlarge",
     "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.8.0-gpu-py312"),
    ("pytorch:2.8.0", "us-west-2", "ml.m5.xlarge",
     "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.8.0-cpu-py312"),
    ("pytorch", "us-east-1", "ml.m5.xlarge",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-cpu-py312"),
    ("xgboost:1.7-1", "us-east-1", "ml.m5.xlarge",
     "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"),
    ("sklearn:1.2-1", "eu-west-1", "ml.m5.xlarge",
     "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
    ("tensorflow:2.19", "ap-east-1", "ml.p3.2xlarge",
     "871362719292.dkr.ecr.ap-east-1.amazonaws.com/tensorflow-training:2.19.0-gpu-py312"),
    ("huggingface:4.56", "us-east-1", "ml.g5.xlarge",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:"
     "2.8.0-transformers4.56.2-gpu-py312-cu129-ubuntu22.04"),
    ("pytorch:2.8", "cn-north-1", "ml.m5.xlarge",
     "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-training:2.8.0-cpu-py312"),
])
def test_aliases_resolve_to_the_uris_the_sdk_gives(alias, region, instance_type, uri):
    assert is_alias(alias)
    assert resolve(alias, region, instance_type) == uri


def test_other_images_are_left_alone():
    for image in ("my-registry.example.com/team/train:3", "123456789012.dkr.ecr.us-east-1."
                  "amazonaws.com/x:1", "smnb-test/sklearn:1", "python:3.11"):
        assert not is_alias(image)
        assert resolve(image, "us-east-1", "ml.m5.xlarge") == image


@pytest.mark.parametrize(("alias", "instance_type", "message"), [
    ("pytorch:9.9", "ml.m5.xlarge", r"^--image: pytorch 9.9 is not a version sm_notebook knows"
     r" \(expected pytorch:2.8.0 \(known: 2.8.0, 2.7.1"),
    ("sklearn:1.2-1", "ml.g5.xlarge", r"^--image: sklearn 1.2-1 has no gpu image \(only cpu\)"),
    ("huggingface:4.56", "ml.m5.xlarge", r"has no cpu image"),
])
def test_an_alias_that_cannot_resolve_says_what_would(alias, instance_type, message):
    with pytest.raises(SpecError, match=message):
        resolve(alias, "us-east-1", instance_type)


def test_the_processor_follows_the_instance_family():
    assert [processor_for(t) for t in ("ml.g5.xlarge", "ml.p4d.24xlarge", "local_gpu",
                                       "ml.m5.large", "ml.c5.xlarge", "local_cpu")] == [
        "gpu", "gpu", "gpu", "cpu", "cpu", "cpu"]
