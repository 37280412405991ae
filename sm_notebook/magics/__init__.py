"""The magics, one ``Magics`` class per family: training (``%%sm_train``), jobs
(``%sm_jobs``, ``%sm_attach``), serving (``%sm_deploy``, ``%sm_endpoints``), tuning
(``%%sm_tune``) and JumpStart models (``%sm_jumpstart``).

``register`` adds every family and the HTML view of a job to a shell; ``unregister``
takes them away again.
"""

from __future__ import annotations

from typing import Any

from .jobs import SmJobsMagics
from .jumpstart import SmJumpStartMagics
from .serve import SmServeMagics
from .train import SmTrainMagics
from .tune import SmTuneMagics

FAMILIES = (SmTrainMagics, SmJobsMagics, SmServeMagics, SmTuneMagics, SmJumpStartMagics)
JOB_TYPE = ("sm_notebook.job", "Job")  # where the HTML formatter finds the handle's class


def register(shell: Any) -> SmTrainMagics:
    """Register every family; the training family holds the settings."""
    train = SmTrainMagics(shell)
    shell.register_magics(train)
    shell.register_magics(SmJobsMagics(shell, train))
    shell.register_magics(SmServeMagics(shell, train))
    shell.register_magics(SmTuneMagics(shell, train))
    shell.register_magics(SmJumpStartMagics(shell, train))
    html = shell.display_formatter.formatters["text/html"]
    html.for_type_by_name(*JOB_TYPE, job_html)
    return train


def job_html(job: Any) -> str:
    """A job's HTML view (its status and newest lines), as IPython shows a handle."""
    from ..ui.text import status_html  # with the first job shown, not at %load_ext

    return status_html(job)


def unregister(shell: Any) -> None:
    """Remove every family's magics and the job's HTML view."""
    manager = shell.magics_manager
    for family in FAMILIES:
        for kind, names in family.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
        manager.registry.pop(family.__name__, None)
    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, FAMILIES)]
    shell.display_formatter.formatters["text/html"].pop(".".join(JOB_TYPE), None)


__all__ = ["SmJobsMagics", "SmJumpStartMagics", "SmServeMagics", "SmTrainMagics",
           "SmTuneMagics", "register", "unregister"]
