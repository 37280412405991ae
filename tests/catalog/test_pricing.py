"""The cost estimate: the training price read out of the AWS price list, and what a job
costs from it."""

from __future__ import annotations

import json

import pytest

from sm_notebook.catalog.pricing import (
    PRICE_TTL,
    UNKNOWN_TTL,
    PriceCache,
    format_usd,
    hourly_price,
    priced_region,
    product_filters,
    training_cost,
)
from tests.fakes.pricing_service import product


def test_the_training_price_of_the_instance_type_is_read_and_other_products_are_not():
    listed = [product("us-east-1", "Host:ml.m5.xlarge", 0.269, "HOST"),  # inference
              product("us-east-1", "Train:ml.m5.xlarge.2", 9.0, "DECOY"),  # not this type
              product("us-east-1", "Train:ml.m5.xlarge", 0.23, "TRAIN")]
    assert hourly_price([json.dumps(p) for p in listed], "ml.m5.xlarge") == 0.23
    assert hourly_price(listed, "ml.m5.xlarge") == 0.23  # decoded items too
    assert hourly_price(listed[:2], "ml.m5.xlarge") is None
    assert hourly_price([], "ml.g5.xlarge") is None


def test_a_free_or_per_gb_dimension_is_not_taken_for_the_hourly_price():
    free = product("us-east-1", "Train:ml.m5.xlarge", 0.0, "FREE")
    per_gb = product("us-east-1", "Train:ml.m5.xlarge", 0.14, "GB")
    for term in per_gb["terms"]["OnDemand"].values():
        for dimension in term["priceDimensions"].values():
            dimension["unit"] = "GB-Mo"
    assert hourly_price([free, per_gb], "ml.m5.xlarge") is None


def test_the_request_asks_for_training_products_of_one_type_in_the_job_region():
    assert product_filters("eu-west-1", "ml.g5.xlarge") == [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
        {"Type": "CONTAINS", "Field": "usagetype", "Value": "Train:ml.g5.xlarge"}]
    assert priced_region("eu-west-1")
    assert not priced_region("cn-north-1") and not priced_region("us-gov-west-1")


def test_the_cost_is_billable_time_times_instances_times_price_and_grows_while_training():
    # ended: SageMaker's billable seconds (spot savings already taken off) decide
    assert training_cost(0.23, 2, 3600, started=0, ended=9999, now=0) == pytest.approx(0.46)
    # running: the time since training started; before it started nothing is billed
    assert training_cost(0.23, 2, None, started=1000, ended=None, now=1900) == \
        pytest.approx(0.115)
    assert training_cost(0.23, 1, None, started=None, ended=None, now=5000) == 0.0
    assert training_cost(None, 1, 3600, started=0, ended=3600, now=3600) is None


def test_amounts_show_cents_where_they_matter():
    assert [format_usd(x) for x in (0.0042, 0.46, 12.3, 1234.5)] == [
        "$0.004", "$0.46", "$12.30", "$1,234"]


def test_the_cache_keeps_a_price_for_a_week_and_a_miss_for_a_day(tmp_path):
    cache = PriceCache(tmp_path / "prices.json")
    assert cache.get("us-east-1", "ml.m5.xlarge", now=0) == (False, None)
    cache.put("us-east-1", "ml.m5.xlarge", 0.23, now=0)
    cache.put("us-east-1", "ml.p5.48xlarge", None, now=0)
    assert cache.get("us-east-1", "ml.m5.xlarge", now=PRICE_TTL - 1) == (True, 0.23)
    assert cache.get("us-east-1", "ml.m5.xlarge", now=PRICE_TTL + 1) == (False, None)
    assert cache.get("us-east-1", "ml.p5.48xlarge", now=UNKNOWN_TTL - 1) == (True, None)
    assert cache.get("us-east-1", "ml.p5.48xlarge", now=UNKNOWN_TTL + 1) == (False, None)
    assert cache.get("eu-west-1", "ml.m5.xlarge", now=0) == (False, None)


def test_a_damaged_cache_is_asked_again_not_trusted(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"us-east-1/ml.m5.xlarge": "cheap"')
    assert PriceCache(path).get("us-east-1", "ml.m5.xlarge", now=0) == (False, None)
    path.write_text('{"us-east-1/ml.m5.xlarge": {"usd": 0.23, "at": "yesterday"}}')
    assert PriceCache(path).get("us-east-1", "ml.m5.xlarge", now=0) == (False, None)
