"""JumpStart models from a SageMaker hub: a model's training document
(``DescribeHubContent``) for ``--jumpstart``, and the hub's models (``ListHubContents``)
for ``%sm_jumpstart``; the public hub unless ``--hub`` names a private one."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ... import modes
from ...errors import SpecError
from ...jumpstart import PUBLIC_HUB, HubModel, resolve, split_id
from ...spec import TrainingSpec
from ..aws import aws_errors
from .clients import AwsClients

LISTED_MAX = 200  # models described for one listing (a call each)
NEAR_MISSES = 3


class Hub:
    """One hub, asked through one region's SageMaker client."""

    def __init__(self, aws: AwsClients, region: str, name: str | None = None):
        self.aws, self.region, self.name = aws, region, name or PUBLIC_HUB
        self.client = aws.client("sagemaker", region)
        #: a private hub holds references to the public hub's models, and its own models
        self.content_types = ("Model",) if self.name == PUBLIC_HUB else (
            "ModelReference", "Model")

    def model(self, model_id: str, version: str | None = None) -> HubModel:
        """The model's hub content; ``SpecError`` for one the hub has not, with the
        closest ids it has."""
        answer = None
        for kind in self.content_types:
            answer = self._describe(model_id, version, kind)
            if answer is not None:
                break
        if answer is None:
            raise self._not_found(model_id, version)
        return HubModel(name=answer["HubContentName"], version=answer["HubContentVersion"],
                        hub=self.name, document=json.loads(answer["HubContentDocument"]),
                        content_type=answer.get("HubContentType", "Model"),
                        arn=answer.get("HubContentArn", ""),
                        display_name=answer.get("HubContentDisplayName", ""),
                        keywords=tuple(answer.get("HubContentSearchKeywords") or ()))

    def _describe(self, model_id: str, version: str | None, kind: str
                  ) -> dict[str, Any] | None:
        """DescribeHubContent of one kind of content; None when the hub has none."""
        import botocore.exceptions

        request = {"HubName": self.name, "HubContentType": kind, "HubContentName": model_id}
        if version and version != "*":
            request["HubContentVersion"] = version
        with aws_errors(f"could not read {model_id} from hub {self.name}"):
            try:
                return self.client.describe_hub_content(**request)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFound":
                    raise
                return None

    def _not_found(self, model_id: str, version: str | None) -> SpecError:
        names = [s["HubContentName"] for s in self.summaries()]
        if version and model_id in names:
            return SpecError("--jumpstart", f"{model_id} has no version {version} in hub "
                             f"{self.name}", f"{model_id} for its latest version, or "
                             f"{model_id}@VERSION of one it has")
        near = difflib.get_close_matches(model_id, names, n=NEAR_MISSES, cutoff=0.5)
        near += [n for n in names if model_id.lower() in n.lower() and n not in near]
        hint = f"; did you mean {', '.join(near[:NEAR_MISSES])}?" if near else ""
        return SpecError("--jumpstart", f"no model {model_id} in hub {self.name}{hint}",
                         "a model id from %sm_jumpstart")

    def summaries(self) -> Iterator[dict[str, Any]]:
        """Every model of the hub (its latest version), page by page."""
        for kind in self.content_types:
            request: dict[str, Any] = {"HubName": self.name, "HubContentType": kind,
                                       "MaxResults": 100}
            with aws_errors(f"could not list the models of hub {self.name}"):
                while True:
                    page = self.client.list_hub_contents(**request)
                    yield from page.get("HubContentSummaries", [])
                    if not page.get("NextToken") or not page.get("HubContentSummaries"):
                        break
                    request["NextToken"] = page["NextToken"]

    def listing(self, query: str = "", framework: str | None = None,
                task: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Rows of the models that match (words of ``query`` in the id, name or keywords;
        ``@framework:`` and ``@task:`` keywords), each described for its training
        support and instances; and how many matched in all."""
        matched = [s for s in self.summaries() if _matches(s, query, framework, task)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            models = list(pool.map(lambda s: self.model(s["HubContentName"]),
                                   matched[:LISTED_MAX]))
        return [_row(m) for m in models], len(matched)


def _keyword(summary: dict[str, Any], kind: str) -> str:
    prefix = f"@{kind}:"
    return next((k[len(prefix):] for k in summary.get("HubContentSearchKeywords") or []
                 if k.startswith(prefix)), "")


def _matches(summary: dict[str, Any], query: str, framework: str | None,
             task: str | None) -> bool:
    text = " ".join([summary.get("HubContentName", ""),
                     summary.get("HubContentDisplayName", ""),
                     summary.get("HubContentDescription", ""),
                     *(summary.get("HubContentSearchKeywords") or [])]).lower()
    if any(word not in text for word in query.lower().split()):
        return False
    if framework and _keyword(summary, "framework").lower() != framework.lower():
        return False
    return not (task and _keyword(summary, "task").lower() != task.lower())


def _row(model: HubModel) -> dict[str, Any]:
    doc, summary = model.document, {"HubContentSearchKeywords": list(model.keywords)}
    return {"model_id": model.name, "version": model.version,
            "name": model.display_name, "task": _keyword(summary, "task"),
            "framework": _keyword(summary, "framework"),
            "training": bool(doc.get("TrainingSupported")),
            "gated": bool(doc.get("GatedBucket")),
            "default_instance": doc.get("DefaultTrainingInstanceType") or "",
            "training_instances": ", ".join(doc.get("SupportedTrainingInstanceTypes") or [])}


def resolve_jumpstart(spec: TrainingSpec) -> tuple[TrainingSpec, list[str]]:
    """``--jumpstart``: the spec its model gives (``jumpstart.resolve``), the hub asked in
    the job's region; what was taken, a line each."""
    model_id, version = split_id(str(spec.jumpstart))
    aws = AwsClients()
    model = Hub(aws, aws.region_of(spec), spec.hub).model(model_id, version)
    isolates = "--network-isolation" not in modes.get(spec.mode).unavailable
    resolution = resolve(spec, model, takes_network_isolation=isolates)
    where = f"JumpStart {model.name}@{model.version} ({model.hub})"
    return resolution.spec, [f"{where}: {line}" for line in resolution.taken]


def hub_in(hub: str | None, region: str | None) -> Hub:
    """The hub (default: the public one) in ``region``, else the configured region."""
    aws = AwsClients()
    return Hub(aws, region or aws.region_of(TrainingSpec()), hub)


def hub_models(query: str = "", framework: str | None = None, task: str | None = None,
               hub: str | None = None, region: str | None = None
               ) -> tuple[list[dict[str, Any]], int]:
    """``%sm_jumpstart``: the rows of the hub's matching models and how many matched."""
    return hub_in(hub, region).listing(query, framework, task)


def model_ids(hub: str | None = None, region: str | None = None) -> list[str]:
    """The form's JumpStart picker: every model id of the hub, sorted."""
    return sorted(s["HubContentName"] for s in hub_in(hub, region).summaries())
