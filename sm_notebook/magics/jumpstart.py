"""``%sm_jumpstart``: the JumpStart models of a hub as a DataFrame, each with its training
support and instances, to pick one for ``%%sm_train --jumpstart MODEL_ID``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from ..errors import SmNotebookError

if TYPE_CHECKING:
    from .train import SmTrainMagics

OPTIONS = ("--framework", "--task", "--hub", "--region")
USAGE = ("%sm_jumpstart [QUERY] [--framework NAME] [--task NAME] [--hub NAME] "
         "[--region REGION]")
COLUMNS = ["model_id", "version", "name", "task", "framework", "training", "gated",
           "default_instance", "training_instances"]


def parse_listing(line: str) -> tuple[str, dict[str, str]]:
    """The query words and the options of a ``%sm_jumpstart`` line."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%sm_jumpstart: {exc} (expected {USAGE})") from None
    query, options = [], {}
    while words:
        word = words.pop(0)
        if word.startswith("--"):
            if word not in OPTIONS or not words or words[0].startswith("--"):
                raise UsageError(f"%sm_jumpstart: {word!r} needs one of {', '.join(OPTIONS)} "
                                 f"with a value (expected {USAGE})")
            options[word[2:]] = words.pop(0)
        else:
            query.append(word)
    return " ".join(query), options


@magics_class
class SmJumpStartMagics(Magics):
    """List and search a hub's JumpStart models."""

    def __init__(self, shell: Any, train: SmTrainMagics):
        super().__init__(shell)
        self.train = train  # its region setting

    @line_magic
    def sm_jumpstart(self, line: str = "") -> Any:
        """The hub's models as a DataFrame (``%sm_jumpstart xgboost --task classification``):
        the words of the query must all appear in a model's id, name or keywords."""
        import pandas as pd

        from ..backends.sagemaker.hub import LISTED_MAX, hub_models

        query, options = parse_listing(line)
        try:
            rows, matched = hub_models(query, options.get("framework"), options.get("task"),
                                       options.get("hub"), options.get("region")
                                       or self.train.region)
        except SmNotebookError as exc:
            raise UsageError(f"%sm_jumpstart: {exc}") from None
        if matched > LISTED_MAX:
            print(f"{matched} models match; the first {LISTED_MAX} are shown (narrow the "
                  "query, or add --framework or --task)")
        return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["SmJumpStartMagics", "parse_listing"]
