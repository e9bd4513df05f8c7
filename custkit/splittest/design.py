"""Which experiments a review covers, and each one's variants, planned split and control.

The experiments table says who was assigned to what; only the params know what was *planned*:
the share of customers each variant should get (the sample-ratio check compares the actual split
with it) and which variant is the control. ``planned_splits`` in the report's params maps an
experiment id, or a glob pattern such as ``"winback_*"``, to ``{variant: share}`` with the
control listed first. An experiment not listed is assumed planned as equal shares of the
variants seen, with the control found by name (``A``, ``control``, ``holdout``, ``baseline``)
or else the first variant in sorted order.

``planned_customers`` maps an experiment id (or pattern) to its planned sample: the customers
the test was sized for, all variants together. The monthly looks measure their information
against it (:mod:`custkit.splittest.looks`); an experiment without one gets it estimated at its
first look.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custkit.errors import DataError, ParamsError, did_you_mean

#: Variant names taken as the control when the params do not plan an experiment (lower case).
CONTROL_NAMES = ("a", "control", "holdout", "baseline")
#: Planned shares must sum to one within this.
_SHARES_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ExperimentDesign:
    """One experiment as planned.

    Attributes
    ----------
    experiment_id : str
    variants : tuple of str
        Every planned variant, the control first.
    planned_shares : tuple of float
        Planned share of customers per variant (same order), summing to one.
    planned : bool
        True when the split comes from the params; False when equal shares were assumed.
    planned_customers : int or None
        The planned sample (all variants) from the params; None when the params give none.
    """

    experiment_id: str
    variants: tuple[str, ...]
    planned_shares: tuple[float, ...]
    planned: bool
    planned_customers: int | None = None

    @property
    def control(self) -> str:
        """The control variant (every other variant is compared with it)."""
        return self.variants[0]

    @property
    def challengers(self) -> tuple[str, ...]:
        """The variants compared with the control."""
        return self.variants[1:]


def experiment_designs(
    experiments: pd.DataFrame | None,
    planned_splits: Mapping[str, Mapping[str, float]] | None = None,
    include: Sequence[str] = (),
    planned_customers: Mapping[str, int] | None = None,
) -> dict[str, ExperimentDesign]:
    """The design of every experiment to review, in order of first exposure.

    Parameters
    ----------
    experiments : pandas.DataFrame or None
        The canonical experiments table (``experiment_id``, ``customer_id``, ``variant``,
        ``assigned_at``); ``None`` or empty gives no designs.
    planned_splits : mapping, optional
        Experiment id or glob pattern → ``{variant: planned share}``, control first, shares
        summing to one. An exact id wins over a pattern; among patterns the first listed wins.
    include : sequence of str, optional
        Review only these experiments, in this order; empty: every experiment in the data.
    planned_customers : mapping, optional
        Experiment id or glob pattern → planned sample (customers in all variants), as for
        *planned_splits*.

    Returns
    -------
    dict of str to ExperimentDesign

    Raises
    ------
    custkit.errors.ParamsError
        An experiment in *include* is not in the data, or a planned split is not a mapping of
        variant to positive shares summing to one, or a planned sample is not a whole number
        of customers >= 2.
    """
    plans = _check_plans(planned_splits)
    samples = _check_planned_customers(planned_customers)
    if experiments is None or experiments.empty:
        if include:
            raise ParamsError(
                f"experiments lists {list(include)!r}, but the store has no experiments table "
                "(or it is empty). Add an 'experiments' source to the params file."
            )
        return {}
    missing = [c for c in ("experiment_id", "variant", "assigned_at") if c not in experiments]
    if missing:
        raise DataError(
            f"the experiments table lacks the column(s) {missing}.",
            table="experiments",
            hint="map them in the params file under sources.experiments.columns.",
        )
    # codes, not text: casting millions of ids and variants to strings costs seconds
    exp_codes, exp_names = pd.factorize(experiments["experiment_id"])
    var_codes, var_names = pd.factorize(experiments["variant"])
    known = (exp_codes >= 0) & (var_codes >= 0)
    first_exposure = (
        experiments["assigned_at"].loc[known].groupby(exp_codes[known]).min().sort_values()
    )
    order = [str(exp_names[code]) for code in first_exposure.index]
    if include:
        unknown = [str(e) for e in include if str(e) not in order]
        if unknown:
            raise ParamsError(
                f"experiments lists {unknown!r}, which the experiments table does not hold."
                f"{did_you_mean(unknown[0], order)} Experiments in the data: {', '.join(order)}."
            )
        order = list(dict.fromkeys(str(e) for e in include))
    pairs = np.unique(exp_codes[known].astype(np.int64) * len(var_names) + var_codes[known])
    seen: dict[str, list[str]] = {}
    for exp_code, var_code in zip(*np.divmod(pairs, len(var_names)), strict=True):
        seen.setdefault(str(exp_names[exp_code]), []).append(str(var_names[var_code]))
    designs = {}
    for experiment_id in order:
        plan = _plan_for(experiment_id, plans)
        if plan is not None:
            variants, shares = tuple(plan), tuple(plan.values())
        else:
            variants = _control_first(sorted(seen[experiment_id]))
            shares = (1.0 / len(variants),) * len(variants)
        designs[experiment_id] = ExperimentDesign(
            experiment_id,
            variants,
            shares,
            planned=plan is not None,
            planned_customers=_plan_for(experiment_id, samples),
        )
    return designs


def _check_plans(
    planned_splits: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[str, float]]:
    if planned_splits is None:
        return {}
    if not isinstance(planned_splits, Mapping):
        raise ParamsError(
            "planned_splits must map an experiment id (or a pattern such as 'winback_*') to "
            f"{{variant: share}}, e.g. {{'exp_1': {{'A': 0.5, 'B': 0.5}}}}. "
            f"Got {planned_splits!r} instead."
        )
    plans = {}
    for key, split in planned_splits.items():
        ok = isinstance(split, Mapping) and len(split) >= 2
        shares = list(split.values()) if ok else []
        ok = ok and all(
            isinstance(s, int | float) and not isinstance(s, bool) and s > 0 for s in shares
        )
        if not ok:
            raise ParamsError(
                f"planned_splits['{key}'] must map at least two variants to shares > 0, control "
                f"first, e.g. {{'A': 0.5, 'B': 0.5}}. Got {split!r} instead."
            )
        if not math.isclose(sum(shares), 1.0, abs_tol=_SHARES_TOLERANCE):
            raise ParamsError(
                f"planned_splits['{key}'] must have shares summing to 1. Got {dict(split)!r} "
                f"(sum {sum(shares):g}) instead."
            )
        plans[str(key)] = {str(v): float(s) for v, s in split.items()}
    return plans


def _check_planned_customers(planned_customers: Mapping[str, int] | None) -> dict[str, int]:
    if planned_customers is None:
        return {}
    if not isinstance(planned_customers, Mapping):
        raise ParamsError(
            "planned_customers must map an experiment id (or a pattern such as 'winback_*') to "
            "the customers the test was planned for, all variants together, e.g. "
            f"{{'exp_1': 20000}}. Got {planned_customers!r} instead."
        )
    samples = {}
    for key, sample in planned_customers.items():
        if isinstance(sample, bool) or not isinstance(sample, int) or sample < 2:
            raise ParamsError(
                f"planned_customers['{key}'] must be a whole number of customers >= 2 (all "
                f"variants together). Got {sample!r} instead."
            )
        samples[str(key)] = int(sample)
    return samples


def _plan_for(experiment_id: str, plans: Mapping[str, Any]) -> Any:
    if experiment_id in plans:
        return plans[experiment_id]
    for pattern, plan in plans.items():
        if fnmatch.fnmatchcase(experiment_id, pattern):
            return plan
    return None


def _control_first(variants: list[str]) -> tuple[str, ...]:
    for name in CONTROL_NAMES:
        for variant in variants:
            if variant.strip().lower() == name:
                return (variant, *(v for v in variants if v != variant))
    return tuple(variants)
