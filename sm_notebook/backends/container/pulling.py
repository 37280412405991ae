"""Progress of an image pull, folded from the engine's stream of layer events.

The Docker Engine reports a pull as one JSON object per layer event (``Pulling fs layer``,
``Downloading`` with bytes done and total, ``Pull complete``, ...).  This turns them into
one line a person can read; rendering it is the caller's business.  Pure: no docker import.
"""

from __future__ import annotations

from typing import Any

MB = 1_000_000
DONE = frozenset({"Pull complete", "Already exists"})


class PullProgress:
    def __init__(self, image: str):
        self.image = image
        self.layers: dict[str, tuple[int, int]] = {}  # id → (bytes downloaded, total)
        self.done: set[str] = set()
        self.present = 0  # layers this machine already had
        self.error: str | None = None

    def feed(self, event: dict[str, Any]) -> None:
        if event.get("error"):
            self.error = str(event.get("errorDetail", {}).get("message") or event["error"])
            return
        layer, status = event.get("id"), event.get("status", "")
        if not layer or status.startswith(("Digest:", "Status:", "Pulling from")):
            return
        detail = event.get("progressDetail") or {}
        done, total = self.layers.get(layer, (0, 0))
        if status == "Downloading" and detail.get("total"):
            done, total = int(detail.get("current", 0)), int(detail["total"])
        elif status in ("Download complete", "Extracting", *DONE):
            done = total
        self.layers[layer] = (done, total)
        if status in DONE:
            self.done.add(layer)
        if status == "Already exists":
            self.present += 1

    def text(self) -> str:
        downloaded = sum(d for d, _ in self.layers.values())
        total = sum(t for _, t in self.layers.values())
        size = f", {downloaded / MB:,.1f} of {total / MB:,.1f} MB" if total else ""
        return (f"pulling {self.image}: {len(self.done)} of {len(self.layers)} layers "
                f"done{size}")

    def summary(self) -> str:
        """``3 layers downloaded`` (``every layer was already here`` when none was)."""
        fetched = len(self.layers) - self.present
        if not fetched:
            return "every layer was already here"
        return f"{fetched} layer{'s' if fetched != 1 else ''} downloaded"
