"""sm_notebook: run a Jupyter cell as a SageMaker script-mode training job.

``%load_ext sm_notebook`` registers ``%%sm_train``, ``%sm_jobs`` and ``%sm_attach``; it
imports none of boto3, docker, plotly, pandas or ipywidgets (they load when used).
"""

from .version import __version__

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython) -> None:
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    from .magics import unregister

    unregister(ipython)
