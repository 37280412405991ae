"""What ``predictor.predict(data, content_type, accept)`` sends and what it gives back.

Sending: bytes and str go as they are (as JSON unless ``content_type`` says otherwise,
as a request without a Content-Type is read by the serving containers); numpy arrays,
lists, tuples, numbers and pandas DataFrames or Series are serialised as ``content_type``
says: JSON by default, ``text/csv`` or ``application/x-npy``.  Receiving: a reply is
decoded by its own content type: JSON parsed, text as ``str``, anything else ``bytes``.
pandas and numpy are only touched when the data is theirs.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
CONTENT_TYPES = (JSON, CSV, NPY)


class PayloadError(ValueError):
    """Data that cannot be sent as asked (one line: what, and the accepted forms)."""


def serialize(data: Any, content_type: str | None = None) -> tuple[bytes, str]:
    """``data`` → (body, content type)."""
    if isinstance(data, bytes | bytearray | memoryview):  # as it is: JSON unless told
        return bytes(data), content_type or JSON
    if isinstance(data, str):
        return data.encode(), content_type or JSON
    kind = (content_type or JSON).split(";", 1)[0].strip().lower()
    if kind not in CONTENT_TYPES:
        raise PayloadError(f"content_type {content_type!r}: for {type(data).__name__} data "
                           f"use one of {', '.join(CONTENT_TYPES)}, or send bytes or str")
    values = _plain(data)
    if kind == JSON:
        try:
            return json.dumps(values).encode(), JSON
        except TypeError as exc:
            raise PayloadError(f"{type(data).__name__} is not JSON: {exc}") from None
    if kind == CSV:
        return _csv(values).encode(), CSV
    return _npy(data), NPY


def deserialize(body: bytes, content_type: str | None) -> Any:
    """A reply's body, decoded by its content type."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == JSON or kind.endswith("+json"):
        try:
            return json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")
    if kind.startswith("text/"):
        return body.decode("utf-8", "replace")
    return body


def _plain(data: Any) -> Any:
    """Lists and numbers from numpy, pandas and tuples (nested ones included)."""
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # a DataFrame: its values
        return data.to_numpy().tolist()
    if hasattr(data, "tolist"):  # numpy arrays and scalars, pandas Series
        return data.tolist()
    if isinstance(data, tuple | list):
        return [_plain(v) for v in data]
    return data


def _csv(values: Any) -> str:
    rows = values if isinstance(values, list) else [values]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row if isinstance(row, list) else [row])
    return out.getvalue()


def _npy(data: Any) -> bytes:
    import numpy as np

    out = io.BytesIO()
    array = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
    np.save(out, array, allow_pickle=False)
    return out.getvalue()
