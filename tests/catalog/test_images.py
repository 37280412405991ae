"""Image aliases resolve to AWS's training image URIs, as the SDK's image_uris.retrieve."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from sm_notebook.catalog import images
from sm_notebook.catalog.images import is_alias, processor_for, resolve
from sm_notebook.errors import SpecError


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


# Versions older than the hand-trimmed table had: every training version the SDK's
# image_uri_config lists.  Each URI below was checked by hand against that JSON (repository,
# py_versions, container_version, the region's account) and by running the SDK's own
# image_uris.retrieve on it (sagemaker-core a248126, every version × region × instance kind).
@pytest.mark.parametrize(("alias", "region", "instance_type", "uri"), [
    ("pytorch:2.0.0", "us-east-1", "ml.m5.xlarge",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-cpu-py310"),
    ("pytorch:2.0.0", "us-west-2", "ml.g5.xlarge",
     "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0.0-gpu-py310"),
    ("pytorch:1.13", "eu-west-1", "ml.p3.2xlarge",  # the SDK's alias 1.13 → 1.13.1
     "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:1.13.1-gpu-py39"),
    ("pytorch:0.4.0", "us-east-1", "ml.m5.xlarge",  # old repository, old account; py2/py3
     "520713654638.dkr.ecr.us-east-1.amazonaws.com/sagemaker-pytorch:0.4.0-cpu-py3"),
    ("pytorch:1.6.0", "cn-north-1", "ml.p3.2xlarge",  # py3/py36 → the newest, py36
     "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-training:1.6.0-gpu-py36"),
    ("pytorch:1.6", "us-east-1", "ml.p4d.24xlarge",  # the SDK's CUDA 11 suffix on p4d
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:"
     "1.6.0-gpu-py36-cu110-ubuntu18.04"),
    ("pytorch:2.0.0", "us-isob-east-1", "ml.m5.xlarge",
     "094389454867.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/pytorch-training:2.0.0-cpu-py310"),
    ("tensorflow:1.15", "us-east-1", "ml.m5.xlarge",  # 1.15 → 1.15.5; py3/py36/py37
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:1.15.5-cpu-py37"),
    ("tensorflow:2.3", "us-east-1", "ml.p4d.24xlarge",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:"
     "2.3.2-gpu-py37-cu110-ubuntu18.04"),
    ("tensorflow:2.3", "us-east-1", "ml.p3.2xlarge",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.3.2-gpu-py37"),
    ("tensorflow:1.13", "us-west-2", "ml.m5.xlarge",  # py2 was another repository; py3
     "763104351884.dkr.ecr.us-west-2.amazonaws.com/tensorflow-training:1.13.1-cpu-py3"),
    ("tensorflow:1.4", "us-east-1", "ml.m5.xlarge",
     "520713654638.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tensorflow:1.4.1-cpu-py2"),
    ("sklearn:0.23-1", "us-east-2", "ml.m5.xlarge",
     "257758044811.dkr.ecr.us-east-2.amazonaws.com/sagemaker-scikit-learn:0.23-1-cpu-py3"),
    ("sklearn:0.23", "us-east-2", "ml.m5.xlarge",
     "257758044811.dkr.ecr.us-east-2.amazonaws.com/sagemaker-scikit-learn:0.23-1-cpu-py3"),
    ("xgboost:0.90-1", "us-west-2", "ml.m5.xlarge",  # before 1.2: cpu-only, Python tag
     "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:0.90-1-cpu-py3"),
    ("xgboost:1.0-1", "eu-central-1", "ml.m5.xlarge",
     "492215442770.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"),
    ("xgboost:1", "us-east-1", "ml.g5.xlarge",  # the newest 1.x, not the legacy "1" image
     "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"),
    ("huggingface:4.6", "us-east-1", "ml.p3.2xlarge",  # newest PyTorch base of 1.6/1.7/1.8
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:"
     "1.8.1-transformers4.6.1-gpu-py36-cu111-ubuntu18.04"),
    ("huggingface:4.4.2", "us-east-1", "ml.g4dn.xlarge",  # no container_version in the JSON:
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:"  # the
     "1.6.0-transformers4.4.2-gpu-py36-cu110-ubuntu18.04"),  # estimator's CUDA 11 default
    ("huggingface:4.26", "eu-west-1", "ml.g5.xlarge",
     "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-training:"
     "1.13.1-transformers4.26.0-gpu-py39-cu117-ubuntu20.04"),
])
def test_every_published_version_resolves_as_the_sdk_does(alias, region, instance_type, uri):
    assert resolve(alias, region, instance_type) == uri


def test_every_version_resolves_in_each_of_its_regions_for_each_processor():
    tag = re.compile(r"^[0-9][\w.\-]*$")
    for name, framework in images.frameworks().items():
        assert list(framework.versions), name
        assert all(v in framework.versions for v in framework.aliases.values())
        for version, release in framework.versions.items():
            assert release.registry and release.repository, (name, version)
            for region, account in release.registry.items():
                for instance_type in ("ml.m5.xlarge", "ml.g5.xlarge"):
                    processor = processor_for(instance_type)
                    if release.processors and processor not in release.processors:
                        with pytest.raises(SpecError, match=f"has no {processor} image"):
                            resolve(f"{name}:{version}", region, instance_type)
                        continue
                    uri = resolve(f"{name}:{version}", region, instance_type)
                    registry, _, image = uri.partition("/")
                    repository, _, image_tag = image.partition(":")
                    assert registry.startswith(f"{account}.dkr.ecr.{region}."), uri
                    assert repository == release.repository and tag.match(image_tag), uri
                    assert image_tag.startswith(release.tag_prefix or version), uri
                    if release.processors:
                        assert f"-{processor}" in image_tag, uri
                    if release.py_version:
                        assert f"-{release.py_version}" in image_tag, uri


def test_the_table_covers_every_alias_and_every_version_aws_lists():
    table = images.frameworks()
    assert tuple(table) == images.NAMES and images.FRAMEWORKS is table
    counts = {name: len(framework.versions) for name, framework in table.items()}
    assert counts == {"pytorch": 29, "tensorflow": 49, "sklearn": 6, "xgboost": 10,
                      "huggingface": 16}
    assert list(table["pytorch"].versions)[:3] == ["0.4.0", "1.0.0", "1.1.0"]
    assert "1" not in table["xgboost"].versions  # the built-in algorithm: no script mode
    assert table["tensorflow"].aliases["2.3"] == "2.3.2"


def test_the_newest_python_tag_is_chosen():
    release = images.frameworks()["tensorflow"].versions["1.15.5"]
    assert release.py_versions == ("py3", "py36", "py37") and release.py_version == "py37"
    assert images.frameworks()["pytorch"].versions["1.4.0"].py_version == "py36"
    assert images.frameworks()["xgboost"].versions["3.2-0"].py_version is None


def test_a_version_missing_from_a_region_names_the_version():
    with pytest.raises(SpecError, match=r"^--image: pytorch 0.4.0 images are not published "
                       r"in ap-southeast-5 \(expected another --region"):
        resolve("pytorch:0.4", "ap-southeast-5", "ml.m5.xlarge")
    with pytest.raises(SpecError, match=r"xgboost 0.90-1 has no gpu image \(only cpu\)"):
        resolve("xgboost:0.90-1", "us-east-1", "ml.g5.xlarge")


def test_an_unknown_version_lists_the_newest_few_and_the_count():
    with pytest.raises(SpecError) as caught:
        resolve("tensorflow:3.1", "us-east-1", "ml.m5.xlarge")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("--image: tensorflow 3.1 is not a ")
    assert "(known: 2.19.0, 2.18.0, 2.16.2, 2.14.1, 2.13.0, 2.12.0, …, 1.4.1; 49 versions)" \
        in message
    with pytest.raises(SpecError, match=r"known: 1.4-2-py312, 1.4-2, 1.2-1, 1.0-1, 0.23-1, "
                       r"0.20.0\)"):
        resolve("sklearn:2.0", "us-east-1", "ml.m5.xlarge")


def test_the_table_is_read_on_first_use_only():
    code = ("import sm_notebook.catalog.images as i; "
            "assert i.frameworks.cache_info().currsize == 0; "
            "assert i.is_alias('pytorch:2.0'); assert i.frameworks.cache_info().currsize == 0; "
            "i.resolve('pytorch:2.0', 'us-east-1', 'ml.m5.xlarge'); "
            "assert i.frameworks.cache_info().currsize == 1")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_aliases_and_prefixes_pick_the_release_they_name():
    for name, framework in images.frameworks().items():
        instance_type = "ml.g5.xlarge" if name == "huggingface" else "ml.m5.xlarge"
        for alias, version in framework.aliases.items():
            assert resolve(f"{name}:{alias}", "us-east-1", instance_type) == resolve(
                f"{name}:{version}", "us-east-1", instance_type), alias
    assert resolve("pytorch:2", "us-east-1", "ml.m5.xlarge").endswith(":2.8.0-cpu-py312")
    assert resolve("pytorch:1.1", "us-east-1", "ml.m5.xlarge").endswith(":1.1.0-cpu-py3")
    assert resolve("xgboost:0.90", "us-east-1", "ml.m5.xlarge").endswith(":0.90-2-cpu-py3")


def test_a_python_build_of_a_release_is_chosen_only_when_named():
    # sklearn 1.4-2 also has a Python 3.12 build (1.4-2-py312), which AWS says lacks mlio
    assert images.resolve("sklearn", "us-east-1", "ml.m5.xlarge").endswith(":1.4-2-cpu-py3")
    assert images.resolve("sklearn:1.4", "us-east-1", "ml.m5.xlarge").endswith(":1.4-2-cpu-py3")
    assert images.resolve("sklearn:1.4-2-py312", "us-east-1", "ml.m5.xlarge").endswith(
        ":1.4-2-py312-cpu-py3")


def test_the_form_suggests_the_newest_releases_in_release_order():
    from sm_notebook.ui.form import SUGGESTED_VERSIONS, image_suggestions

    suggested = image_suggestions()
    torch = [s for s in suggested if s.startswith("pytorch:")]
    assert torch == ["pytorch:2.8.0", "pytorch:2.7.1", "pytorch:2.6.0", "pytorch:2.5.1"]
    assert len(suggested) == SUGGESTED_VERSIONS * len(images.NAMES)
    assert suggested.index("tensorflow:2.19.0") < suggested.index("tensorflow:2.18.0")
