"""What a predictor sends for each kind of data, and how it reads each kind of reply."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from sm_notebook.serving.payload import CSV, JSON, NPY, PayloadError, deserialize, serialize


def test_bytes_and_str_go_as_they_are_as_json_unless_told():
    assert serialize(b"\x00raw") == (b"\x00raw", JSON)
    assert serialize("1,2", CSV) == (b"1,2", CSV)
    assert serialize('{"x": 1}') == (b'{"x": 1}', JSON)


@pytest.mark.parametrize("data", [np.array([[1.5, 2.0], [3.0, 4.0]]), [[1.5, 2.0], [3, 4]],
                                  ((1.5, 2.0), (3, 4)),
                                  pd.DataFrame({"a": [1.5, 3.0], "b": [2.0, 4.0]})],
                         ids=["numpy", "list", "tuple", "dataframe"])
def test_arrays_lists_and_frames_are_serialised_as_asked(data):
    body, kind = serialize(data)
    assert kind == JSON and json.loads(body) == [[1.5, 2.0], [3.0, 4.0]]
    body, kind = serialize(data, CSV)
    assert kind == CSV  # integers stay integers where the data had them
    assert body in (b"1.5,2.0\n3.0,4.0\n", b"1.5,2.0\n3,4\n")
    body, kind = serialize(data, NPY)
    assert kind == NPY and np.load(io.BytesIO(body)).tolist() == [[1.5, 2.0], [3.0, 4.0]]


def test_a_series_and_a_number_serialise_too():
    assert serialize(pd.Series([1, 2]))[0] == b"[1, 2]"
    assert serialize(np.float32(0.5)) == (b"0.5", JSON)
    assert serialize([1, 2], CSV)[0] == b"1\n2\n"


def test_an_unsupported_content_type_or_value_is_one_line():
    with pytest.raises(PayloadError, match=r"^content_type 'image/png': for list data use one "
                                           r"of application/json, text/csv, application/x-npy"):
        serialize([1], "image/png")
    with pytest.raises(PayloadError, match=r"^set is not JSON"):
        serialize({1, 2})


def test_replies_are_decoded_by_their_content_type():
    assert deserialize(b'{"y": [1]}', "application/json; charset=utf-8") == {"y": [1]}
    assert deserialize(b'{"y": 2}', "application/vnd.scaled+json") == {"y": 2}
    assert deserialize(b"1\n2\n", "text/csv") == "1\n2\n"
    assert deserialize(b"\x89PNG", "image/png") == b"\x89PNG"
    assert deserialize(b"not json", JSON) == "not json"  # a server's mislabelled text
