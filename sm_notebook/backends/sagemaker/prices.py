"""The on-demand price of an instance type, asked of the AWS Price List Query API on a
thread of its own, so an unreachable endpoint (a VPC without internet) never holds up the
job's logs.  Needs ``pricing:GetProducts``; without it (or any answer) the dashboard shows
no cost, and the miss is cached for a day (``pricing.PriceCache``)."""

from __future__ import annotations

import threading
import time
from typing import Any

from ...catalog.pricing import (
    PRICING_REGION,
    SERVICE_CODE,
    PriceCache,
    hourly_price,
    priced_region,
    product_filters,
)

MAX_PAGES = 5  # one instance type in one region is one product; pages are a safeguard


def ask_price_list(session: Any, region: str, instance_type: str, usage: str = "Train"
                   ) -> float | None:
    """One lookup; None when the price list has no such product or cannot be reached."""
    from botocore.config import Config

    client = session.client("pricing", region_name=PRICING_REGION, config=Config(
        connect_timeout=3, read_timeout=8, retries={"total_max_attempts": 2}))
    request: dict[str, Any] = {"ServiceCode": SERVICE_CODE, "FormatVersion": "aws_v1",
                               "Filters": product_filters(region, instance_type, usage)}
    for _ in range(MAX_PAGES):
        page = client.get_products(**request)
        price = hourly_price(page.get("PriceList", []), instance_type, usage)
        if price is not None or not page.get("NextToken"):
            return price
        request["NextToken"] = page["NextToken"]
    return None


class PriceLookup:
    """The price of one job's (or, with ``usage="Host"``, one endpoint's) instances, from
    the cache or a background lookup."""

    def __init__(self, session: Any, region: str | None, instance_type: str | None,
                 cache: PriceCache, usage: str = "Train"):
        self.result: float | None = None
        self.usage = usage
        self._done = threading.Event()
        if not region or not instance_type or not priced_region(region):
            self._done.set()
            return
        found, price = cache.get(region, self._key(instance_type), time.time())
        if found:
            self.result = price
            self._done.set()
            return
        threading.Thread(target=self._ask, args=(session, region, instance_type, cache),
                         daemon=True, name=f"sm_notebook-price-{instance_type}").start()

    def wait(self, timeout: float) -> bool:
        """Whether the answer is in, after waiting up to ``timeout`` seconds for it."""
        return self._done.wait(timeout) if timeout > 0 else self._done.is_set()

    def _key(self, instance_type: str) -> str:
        return instance_type if self.usage == "Train" else f"{self.usage}:{instance_type}"

    def _ask(self, session: Any, region: str, instance_type: str, cache: PriceCache) -> None:
        try:
            self.result = ask_price_list(session, region, instance_type, self.usage)
        except Exception:  # no permission, no network, throttled: no cost shown
            self.result = None
        cache.put(region, self._key(instance_type), self.result, time.time())
        self._done.set()
