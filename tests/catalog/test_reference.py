"""Image references: what Docker's grammar and ECR's host form take, and one reason for what
they do not."""

from __future__ import annotations

import pytest

from sm_notebook.catalog.reference import check_image, problem
from sm_notebook.errors import SpecError

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("image", [
    "busybox", "busybox:1.36", "library/busybox:latest", "pytorch:2.8", "sklearn:1.2-1",
    "a__b", "a--b/c.d_e", "localhost/img", "localhost:5000/team/img:v1",
    "registry.example.com/team/img@" + DIGEST, "img:tag@" + DIGEST, "UPPER/case:1",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag",
    "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/repo",
    "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/repo:1",
    "x" * 255, "img:" + "t" * 128,
])
def test_references_docker_takes_are_taken(image):
    assert problem(image) is None


@pytest.mark.parametrize(("image", "why"), [
    ("busybox;id", "'busybox;id': a name is lower-case letters and digits"),
    ("UPPER/Case:1", "'Case': names are lower case"),
    ("Busybox", "'Busybox': names are lower case"),
    ("--privileged", "'--privileged': a name is"),
    ("a/", "'': a name is"),
    ("a//b", "'': a name is"),
    ("-a.example.com/x", "'-a.example.com' is not a registry host"),
    ("bad_host.com/x", "'bad_host.com' is not a registry host"),
    ("img:-x", "tag '-x'"),
    ("img:" + "t" * 129, "tag 'ttt"),
    ("img@sha256:abc", "digest 'sha256:abc'"),
    ("img@md5:" + "a" * 32, "digest 'md5:"),
    ("img@" + DIGEST.upper().replace("SHA", "sha"), "digest"),
    ("12345.dkr.ecr.us-east-1.amazonaws.com/x:1", "12-digit account"),
    ("123456789012.dkr.ecr.moon.amazonaws.com/x", "not an ECR registry"),
    ("x" * 256, "longer than 255"),
])
def test_each_refused_reference_says_why(image, why):
    assert why in problem(image)
    with pytest.raises(SpecError, match=r"^--image: .* is not an image reference: .*\(expected "
                       r"NAME\[:TAG\]\[@sha256:DIGEST\]"):
        check_image(image)
