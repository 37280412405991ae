"""``%%sm_tune``: the cell swept over hyperparameter ranges.  Every ``%%sm_train`` option is
the base of each trial; the tuning options (``tuning/line.py``) say what is ranged, what is
optimised and how.  Local and container sweeps run on this machine through the same
launch path as ``%%sm_train``, driven by a detached process (``tuning/driver.py``)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand

from .. import modes
from ..errors import SmNotebookError, SpecError

if TYPE_CHECKING:
    from ..tuning.sweep import Sweep
    from .train import SmTrainMagics

WAIT_TICK = 0.1  # seconds between looks at a sweep that --wait follows (its files: cheap)


@magics_class
class SmTuneMagics(Magics):
    """Sweep a cell over hyperparameter ranges."""

    def __init__(self, shell: Any, train: SmTrainMagics):
        super().__init__(shell)
        self.train = train

    @cell_magic
    @no_var_expand
    def sm_tune(self, line: str, cell: str) -> Any:
        """Sweep this cell over hyperparameter ranges::

            %%sm_tune sweep --hp-range lr=log:1e-4:1e-1 --hp-range depth=int:2:8 \\
                --objective Maximize:accuracy --metric accuracy='acc=([0-9.]+)' \\
                --max-jobs 20 --max-parallel 2 --strategy bayesian --seed 1

        Ranges: ``int:MIN:MAX``, ``float:MIN:MAX``, ``log:MIN:MAX``, ``cat:A,B,...``
        (``--hp-ranges FILE.yaml|$dict`` for many); ``--strategy random|grid|bayesian|
        hyperband``; every ``%%sm_train`` option is the base of each trial.
        """
        from ..line.expand import expand_line
        from ..line.parse import parse_expanded
        from ..tuning.line import split_tuning, tuning_options

        base = Path.cwd()
        try:
            given, rest = split_tuning(expand_line(line, self.shell.user_ns))
            spec, launch = parse_expanded(rest, cell, self.train.defaults(), base)
            on_service = not modes.get(spec.mode).on_this_machine  # a tuning job's limits
            options = tuning_options(given, rest, [m.name for m in spec.metrics],
                                     spec.hyperparameters, on_service, base)
            from ..tuning.search import search_for

            search_for(options.strategy, options.ranges, options.max_jobs, options.seed,
                       options.objective.maximize if options.objective else True)
            if not on_service:
                self.check_parents(options.warm_start, options.strategy)
            if spec.queue is not None:
                raise SpecError("--queue", "a sweep's trials run on this machine or as a "
                                "tuning job's own, never through a Batch queue",
                                "%%sm_train --queue NAME for one job, or no --queue")
            if on_service and spec.job_name:
                from ..backends.sagemaker.tuning import check_name

                check_name(spec.job_name)  # before anything is uploaded
            capacity = None
            if modes.get(spec.mode).hosts_share_machine:  # every trial's containers here
                from ..tuning.capacity import check_parallel_memory

                capacity = check_parallel_memory(spec.effective_instance_type,
                                                 spec.instance_count, options.max_parallel)
        except SpecError as exc:
            raise UsageError(str(exc)) from None
        if launch.dry_run:
            return self.dry_run(spec, options, on_service)
        launcher = self.train.launcher()
        try:
            first = dataclasses.replace(spec, job_name=None)
            prepared = launcher.prepare(first, launch)  # a trial can run: checked first
            from ..tuning.sweep import start_sweep

            tuned = dataclasses.replace(prepared.spec, job_name=spec.job_name) if on_service \
                else spec  # a tuning job's definition: the spec its sources give (JumpStart)
            sweep = start_sweep(tuned, options, launcher, launcher.attach,
                                service=prepared.backend if on_service else None)
        except SmNotebookError as exc:
            raise UsageError(str(exc)) from None
        if launch.variable:
            self.shell.user_ns[launch.variable] = sweep
        if capacity:
            print(f"note: {capacity}")
        print(f"started {sweep.summary()}")
        if not launch.quiet:
            from ..ui.sweep_view import show

            show(sweep, self.train, blocking=launch.wait)
        if launch.wait:
            self.wait(sweep, quiet=launch.quiet)
        return None

    def check_parents(self, parents: list[str], strategy: str) -> None:
        """``--warm-start`` names earlier sweeps of this jobs directory (Bayesian search
        starts from what they learnt)."""
        from ..tuning.sweep_dir import SWEEPS

        root = self.train.registry.root / SWEEPS
        for parent in parents:
            if not (root / parent / "sweep.json").is_file():
                known = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
                raise SpecError("--warm-start", f"no sweep {parent!r} here (sweeps: "
                                f"{', '.join(known) or 'none'})", "earlier sweeps' names")
        if parents and strategy != "bayesian":
            raise SpecError("--warm-start", f"a {strategy} search does not learn from "
                            "earlier sweeps", "--strategy bayesian with --warm-start")

    def dry_run(self, spec: Any, options: Any, on_service: bool) -> None:
        """The sweep's plan: its strategy, ranges and the first trials' values (on the
        service: the CreateHyperParameterTuningJob request, checked)."""
        from ..tuning.search import search_for

        if on_service:
            from ..backends.sagemaker.tuning import plan_text

            try:
                print(plan_text(self.service_request(spec, options)))
            except SpecError as exc:
                raise UsageError(str(exc)) from None
            return

        search = search_for(options.strategy, options.ranges, options.max_jobs, options.seed,
                            options.objective.maximize)
        print(f"{spec.mode} sweep: {options.strategy}, {options.max_jobs} trials, "
              f"{options.max_parallel} at once, {options.objective.type} "
              f"{options.objective.metric}")
        for r in options.ranges:
            print(f"  range  {r.describe()}")
        if options.strategy in ("random", "grid"):
            for number in range(1, min(options.max_jobs, 5) + 1):
                values = search.suggest()
                if values is None:
                    break
                print(f"  trial {number}: " + " ".join(f"{k}={v}" for k, v in values.items()))

    def service_request(self, spec: Any, options: Any) -> dict[str, Any]:
        """The tuning job a dry run shows (placeholders for the bucket and the role)."""
        from ..backends.sagemaker.request import PLACEHOLDER_BUCKET, create_training_job_request
        from ..backends.sagemaker.tuning import tuning_request
        from ..catalog import images
        from ..tuning.sweep import sweep_name

        name = sweep_name(spec)
        region = spec.region or "<region>"
        if spec.image and spec.region and images.is_alias(spec.image):
            spec = dataclasses.replace(spec, image=images.resolve(
                spec.image, spec.region, spec.effective_instance_type))
        training = create_training_job_request(
            spec, name, bucket=PLACEHOLDER_BUCKET.format(region=region, account="<account>"),
            region=region, role=spec.role)
        return tuning_request(name, training, options)[0]

    def wait(self, sweep: Sweep, quiet: bool = False) -> None:
        """Follow the sweep to its end, a line a trial as each ends; Ctrl-C stops it."""
        said: set[int] = set()
        try:
            while True:
                done = sweep.done
                for trial in sweep.trial_list():
                    if trial.number in said or trial.status in ("Pending", "InProgress"):
                        continue
                    said.add(trial.number)
                    if not quiet:
                        values = " ".join(f"{k}={v}" for k, v in trial.values.items())
                        result = (f"{trial.objective:g}" if trial.objective is not None
                                  else trial.failure_reason or "no objective")
                        print(f"trial {trial.number} {trial.status}: {values} → {result}")
                if done:
                    break
                time.sleep(WAIT_TICK)
        except KeyboardInterrupt:
            sweep.stop()
            sweep.wait(timeout=120)
            raise UsageError(f"interrupted; sweep {sweep.name} is {sweep.status}") from None
        print(sweep.summary())


__all__ = ["SmTuneMagics"]
