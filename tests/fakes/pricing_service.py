"""The AWS Price List Query API's ``GetProducts``, served over real HTTP for the tests
(moto has no pricing service; AWS is not reachable from CI).

Answers as the service does: AWS JSON 1.1 on ``POST /`` with the target
``AWSPriceListService.GetProducts``, filters of type ``TERM_MATCH``/``EQUALS`` and
``CONTAINS`` applied to product attributes, and each product a JSON *string* in
``PriceList`` (its ``product.attributes`` and ``terms.OnDemand`` priceDimensions).  boto3
reaches it through ``AWS_ENDPOINT_URL_PRICING``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REGION_PREFIX = {"us-east-1": "USE1", "us-west-2": "USW2", "eu-west-1": "EU"}


def product(region: str, usage: str, usd: float, sku: str) -> dict[str, Any]:
    """A SageMaker product as the price list has it (usage e.g. ``Train:ml.m5.xlarge``)."""
    attributes = {"servicecode": "AmazonSageMaker", "regionCode": region,
                  "usagetype": f"{REGION_PREFIX[region]}-{usage}", "operation": "RunInstance",
                  "locationType": "AWS Region"}
    term = f"{sku}.JRTCKXETXF"
    return {"product": {"productFamily": "ML Instance", "attributes": attributes, "sku": sku},
            "serviceCode": "AmazonSageMaker",
            "terms": {"OnDemand": {term: {"offerTermCode": "JRTCKXETXF", "sku": sku,
                                          "priceDimensions": {f"{term}.6YS6EN2CT7": {
                                              "unit": "Hrs", "beginRange": "0",
                                              "endRange": "Inf",
                                              "pricePerUnit": {"USD": f"{usd:.10f}"},
                                              "description": f"${usd} per {usage}"}}}}},
            "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"}


class PriceListService:
    """Serves ``products`` on loopback; ``requests`` records each call's body."""

    def __init__(self, products: list[dict[str, Any]]):
        self.products = products
        self.requests: list[dict[str, Any]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                target = self.headers.get("X-Amz-Target")
                service.requests.append({"target": target, **body})
                if target != "AWSPriceListService.GetProducts" or \
                        body.get("ServiceCode") != "AmazonSageMaker":
                    self._answer(400, {"__type": "InvalidParameterException",
                                       "Message": f"unsupported: {target}"})
                    return
                matching = [p for p in service.products
                            if all(_matches(p, f) for f in body.get("Filters", []))]
                self._answer(200, {"FormatVersion": "aws_v1",
                                   "PriceList": [json.dumps(p) for p in matching]})

            def _answer(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _matches(item: dict[str, Any], rule: dict[str, str]) -> bool:
    value = item["product"]["attributes"].get(rule["Field"], "")
    if rule["Type"] in ("TERM_MATCH", "EQUALS"):
        return value == rule["Value"]
    if rule["Type"] == "CONTAINS":
        return rule["Value"] in value
    raise AssertionError(f"filter type not served here: {rule['Type']}")
