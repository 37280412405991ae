"""sm_notebook: run a Jupyter cell as a SageMaker script-mode training job.

``%load_ext sm_notebook`` registers ``%%sm_train``, ``%sm_jobs``, ``%sm_attach`` and
``%sm_compare``; it imports none of boto3, docker, plotly, pandas or ipywidgets (they
load when used).
"""

from .version import __version__

__all__ = ["__version__", "compare", "load_ipython_extension", "unload_ipython_extension"]


def compare(jobs, jobs_root=None, dark=None):
    """Compare jobs (``Job`` handles or names): their metrics on shared per-metric
    subplots, one colour per job, and a table of their hyperparameters (those that differ
    marked) and final metrics.  Shown as plain outputs; ``.table`` is a DataFrame."""
    from .ui.comparison import compare as _compare

    return _compare(jobs, jobs_root, dark)


def load_ipython_extension(ipython) -> None:
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    from .magics import unregister

    unregister(ipython)
