"""Image references as Docker and ECR read them, checked before any engine or service sees
one: ``busybox;id``, ``UPPER/Case:1`` or ``--privileged`` is one line naming ``--image``,
never an engine ``APIError`` (or an option the engine reads).  Pure.

Docker's grammar (``distribution/reference``)::

    [HOST[:PORT]/]COMPONENT[/COMPONENT...][:TAG][@ALGORITHM:HEX]

The first part is a registry host when it holds a ``.`` or a ``:``, is ``localhost``, or
has an upper-case letter (as Docker splits it); the path components are lower case.
"""

from __future__ import annotations

import re

from ..errors import SpecError
from .images import DNS_SUFFIXES

_HOST_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
HOST_RE = re.compile(rf"{_HOST_PART}(?:\.{_HOST_PART})*(?::[0-9]+)?")
COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128}")
_SUFFIXES = "|".join(re.escape(s) for s in ("amazonaws.com", *DNS_SUFFIXES.values()))
ECR_RE = re.compile(rf"[0-9]{{12}}\.dkr\.ecr(?:-fips)?\.[a-z]{{2}}(?:-[a-z]+)+-[0-9]\."
                    rf"(?:{_SUFFIXES})")
NAME_MAX = 255  # Docker's limit on the name (host and path)

EXPECTED = ("NAME[:TAG][@sha256:DIGEST] with lower-case names, optionally after "
            "REGISTRY[:PORT]/, such as pytorch:2.8 or "
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag")


def _split(image: str) -> tuple[str | None, str, str | None, str | None]:
    """(host, path, tag, digest), as Docker splits a reference."""
    name, _, digest = image.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    first, sep, rest = name.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        return first, rest, tag, digest if "@" in image else None
    return None, name, tag, digest if "@" in image else None


def problem(image: str) -> str | None:
    """What makes ``image`` no reference Docker (or ECR, for an ECR host) can use."""
    host, path, tag, digest = _split(image)
    if host is not None and not HOST_RE.fullmatch(host):
        return f"{host!r} is not a registry host"
    if host is not None and ".dkr.ecr" in host and not ECR_RE.fullmatch(host):
        return (f"{host!r} is not an ECR registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com, "
                "with a 12-digit account)")
    components = path.split("/")
    bad = next((c for c in components if not COMPONENT_RE.fullmatch(c)), None)
    if bad is not None:
        why = "names are lower case" if bad.lower() != bad and COMPONENT_RE.fullmatch(
            bad.lower()) else "a name is lower-case letters and digits, joined by . _ or -"
        return f"{bad!r}: {why}"
    if len(path) + (len(host) + 1 if host else 0) > NAME_MAX:
        return f"the name is longer than {NAME_MAX} characters"
    if tag is not None and not TAG_RE.fullmatch(tag):
        return f"tag {tag!r}: up to 128 letters, digits, _ . and -, not starting with . or -"
    if digest is not None and not DIGEST_RE.fullmatch(digest):
        return f"digest {digest!r}: sha256: and 64 lower-case hex digits"
    return None


def check_image(image: str) -> None:
    """``--image`` is a reference Docker and SageMaker can use; :class:`SpecError` if not."""
    why = problem(image)
    if why is not None:
        raise SpecError("--image", f"{image!r} is not an image reference: {why}", EXPECTED)
