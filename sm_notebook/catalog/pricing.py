"""What a SageMaker training job costs, estimated from the AWS Price List (pure).

SageMaker bills training per instance-second at the region's on-demand rate for the
instance type: ``BillableTimeInSeconds × InstanceCount × hourly price``, where managed
spot's savings are already taken off ``BillableTimeInSeconds``.  While the job runs, the
time since ``TrainingStartTime`` stands in for the billable time.  Storage, data transfer
and warm-pool keep-alive are not counted, and negotiated discounts are not known, so the
figure is an estimate and is shown with "≈".

The price comes from the Price List Query API (``GetProducts``, service
``AmazonSageMaker``), whose training products carry a usage type such as
``USE1-Train:ml.m5.xlarge``; answers are cached on disk, a missing price for a day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..clock import iso_to_epoch
from ..jobdir import read_json, write_json

SERVICE_CODE = "AmazonSageMaker"
PRICE_TTL = 7 * 86400.0  # seconds a found price is trusted (list prices change rarely)
UNKNOWN_TTL = 86400.0  # seconds before a price that could not be found is asked again
# The Price List Query API answers in these regions only, for the whole aws partition.
PRICING_REGION = "us-east-1"


def priced_region(region: str) -> bool:
    """Whether the public price list covers ``region`` (China and GovCloud are apart)."""
    return not region.startswith(("cn-", "us-gov-", "us-iso"))


def product_filters(region: str, instance_type: str, usage: str = "Train"
                    ) -> list[dict[str, str]]:
    """``GetProducts`` filters for the products of one instance type: ``Train`` for
    training, ``Host`` for a real-time endpoint's instances."""
    return [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            {"Type": "CONTAINS", "Field": "usagetype", "Value": f"{usage}:{instance_type}"}]


def hourly_price(products: Iterable[str | dict[str, Any]], instance_type: str,
                 usage: str = "Train") -> float | None:
    """The on-demand USD price per instance-hour of ``usage`` (training, or ``Host``ing)
    on ``instance_type``, from ``GetProducts``'s ``PriceList`` (JSON strings or
    already-decoded objects); None when no such product is among them."""
    pattern = re.compile(rf"(?:^|-){usage}:{re.escape(instance_type)}$")
    for item in products:
        product = json.loads(item) if isinstance(item, str) else item
        attributes = product.get("product", {}).get("attributes", {})
        if not pattern.search(attributes.get("usagetype", "")):
            continue
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if dimension.get("unit", "").lower() in ("hrs", "hours", "hour") and usd:
                    price = float(usd)
                    if price > 0:
                        return price
    return None


def training_cost(hourly: float | None, count: int, billable_seconds: float | None,
                  started: float | None, ended: float | None, now: float) -> float | None:
    """Estimated USD so far (or in all, once ``billable_seconds`` is known); None without a
    price.  ``started``/``ended`` are epoch seconds of ``TrainingStartTime`` and the end."""
    if hourly is None:
        return None
    if billable_seconds is not None:
        seconds = float(billable_seconds)
    elif started is None:  # not yet training: nothing is billed before the instances run
        seconds = 0.0
    else:
        seconds = max(0.0, (ended or now) - started)
    return seconds * max(count, 1) * hourly / 3600.0


def state_cost(state: dict[str, Any], count: int, now: float) -> float | None:
    """``training_cost`` from a job's ``state.json`` (``hourly_price``, ``billable_seconds``,
    ``training_start``, ``ended``, ``instance_count``)."""
    start, end = state.get("training_start"), state.get("ended")
    return training_cost(state.get("hourly_price"), state.get("instance_count") or count,
                         state.get("billable_seconds"),
                         iso_to_epoch(start) if start else None,
                         iso_to_epoch(end) if end else None, now)


def format_usd(amount: float) -> str:
    """``$0.004``, ``$0.42``, ``$12.30``, ``$1,234``: cents where they matter."""
    if amount < 0.1:
        return f"${amount:.3f}"
    if amount < 1000:
        return f"${amount:,.2f}"
    return f"${amount:,.0f}"


class PriceCache:
    """Prices looked up before, in one JSON file beside the jobs, keyed ``region/type``.

    Entries are ``{"usd": float | None, "at": epoch}``; a missing price (``usd`` None:
    no product, no permission, no network) is kept for a shorter time."""

    def __init__(self, path: Path):
        self.path = path

    def _load(self) -> dict[str, Any]:
        data = read_json(self.path)
        return data if isinstance(data, dict) else {}

    def get(self, region: str, instance_type: str, now: float) -> tuple[bool, float | None]:
        """``(found, price)``: ``found`` is False when it must be asked (again)."""
        entry = self._load().get(f"{region}/{instance_type}")
        if not isinstance(entry, dict):
            return False, None
        usd, at = entry.get("usd"), entry.get("at", 0)
        if not isinstance(at, (int, float)) or not isinstance(usd, (int, float, type(None))):
            return False, None
        if now - at > (PRICE_TTL if usd is not None else UNKNOWN_TTL):
            return False, None
        return True, float(usd) if usd is not None else None

    def put(self, region: str, instance_type: str, usd: float | None, now: float) -> None:
        data = self._load()
        data[f"{region}/{instance_type}"] = {"usd": usd, "at": now}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json(self.path, data)
