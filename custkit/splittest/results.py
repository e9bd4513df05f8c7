"""Typed, read-only results of the split-test report's steps.

A step that has more to say than its table (is the split broken, did a look cross its
boundary, what the looks' information is measured against) returns one of these objects, in
the spirit of statsmodels' results classes: frozen, with every field documented, and the
table beside the fields instead of in ``DataFrame.attrs``, which pandas marks experimental
and which many operations drop or copy unseen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class SrmCheck:
    """The sample-ratio test of one experiment's split.

    Attributes
    ----------
    experiment_id : str
    p_value : float
        P-value of the test of all valid assignments against the planned split (NaN when the
        experiment has a single variant or no assignments).
    alpha : float
        The review's ``srm_alpha``: a p-value below it means the split is broken.
    """

    experiment_id: str
    p_value: float
    alpha: float

    @property
    def alert(self) -> bool:
        """True when the split is broken (``p_value < alpha``; NaN is no alert)."""
        return bool(self.p_value < self.alpha)

    def summary(self) -> str:
        """One line for an analyst's console."""
        state = "sample-ratio mismatch" if self.alert else "split as planned"
        return f"{self.experiment_id}: {state} (p = {self.p_value:.3g}, alpha = {self.alpha:g})"


@dataclass(frozen=True)
class SequentialLooks:
    """The monthly looks at one metric of one experiment and what they conclude.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per look: ``look``, ``month``, ``look_date``, ``customers``,
        ``information_fraction``, ``z``, ``boundary``, ``nominal_p``, ``crossed`` (this look
        crossed), ``estimate``, ``frozen`` (kept from an earlier report). A copy per result:
        changing it changes nothing else.
    experiment_id, metric : str
    variant : str or None
        The challenger looked at (None: the experiment has a single variant).
    control : str
    crossed : bool
        Some look crossed its boundary (the first one that did is never undone).
    crossing_date : pandas.Timestamp or None
        The day of that look.
    crossing_z : float or None
        Its z: positive, the challenger is better.
    judge_date : pandas.Timestamp or None
        The day the last assigned customer's horizon window is complete (None: nobody yet).
    provisional : bool
        Before the judge date and the planned sample not yet in: no final look.
    alpha : float
    window_days : int
        The horizon window the looks measure.
    srm_alert : bool
        The experiment's split is broken (:class:`SrmCheck`).
    planned_customers : int or None
        The experiment's planned sample, all variants (None: none known yet).
    planned_from : {"params", "history", "first look"} or None
        Where this review took it from.
    planned_origin : {"params", "first look"} or None
        Where it came from first (a sample kept from the history keeps its origin).
    planned_lift : float
        The change a sample set at the first look is sized for.
    history_period : str or None
        The report the frozen looks come from.
    records : tuple of dict
        The looks as plain dicts (what ``looks.json`` keeps), for readers that want no frame.
    """

    table: pd.DataFrame
    experiment_id: str
    metric: str
    variant: str | None
    control: str
    crossed: bool
    crossing_date: pd.Timestamp | None
    crossing_z: float | None
    judge_date: pd.Timestamp | None
    provisional: bool
    alpha: float
    window_days: int
    srm_alert: bool
    planned_customers: int | None
    planned_from: str | None
    planned_origin: str | None
    planned_lift: float
    history_period: str | None
    records: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def empty(self) -> bool:
        """No look yet: no customer's window is complete."""
        return self.table.empty

    def summary(self) -> str:
        """One line for an analyst's console."""
        if self.crossed:
            state = f"crossed on {self.crossing_date:%Y-%m-%d} (z = {self.crossing_z:+.2f})"
        elif self.provisional:
            state = "no crossing; provisional"
        else:
            state = "no crossing; final"
        return (
            f"{self.experiment_id} {self.metric} ({self.variant} vs {self.control}, "
            f"{self.window_days} d): {len(self.table)} looks, {state}"
        )


@dataclass(frozen=True)
class MetricResults:
    """Every metric at every window of one experiment, and which tests its p-values are
    adjusted over.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`~custkit.splittest.report.metric_table`'s rows. A copy per result.
    experiment_id : str
    alpha : float
        Significance level of every test; intervals cover ``1 - alpha``.
    srm_alert : bool
        The experiment's split is broken (:class:`SrmCheck`): no row can be trusted.
    multiple_testing : {"holm", "bh"}
        Holm's adjustment within the experiment, or Benjamini–Hochberg's over every test of
        every experiment reviewed.
    family : str
        That family of tests in words (English, for analysts), e.g. "Holm-adjusted over the 18
        tests of this experiment (every metric × window)".
    family_tests : int
        Tests with a p-value in the family.
    family_experiments : int
        Experiments in the family (1 with Holm).
    family_challengers : bool
        The experiment has more than one challenger, each a test of its own.
    """

    table: pd.DataFrame
    experiment_id: str
    alpha: float
    srm_alert: bool
    multiple_testing: str
    family: str
    family_tests: int
    family_experiments: int = 1
    family_challengers: bool = False

    def summary(self) -> str:
        """One line for an analyst's console."""
        significant = int(self.table["significant"].fillna(False).astype(bool).sum())
        broken = "; sample-ratio mismatch: not trustworthy" if self.srm_alert else ""
        return (
            f"{self.experiment_id}: {significant} of {self.family_tests} tests significant at "
            f"alpha = {self.alpha:g}, {self.family}{broken}"
        )


@dataclass(frozen=True)
class MonthResults:
    """The effect of one experiment by month since exposure.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`~custkit.splittest.report.month_table`'s rows. A copy per result.
    experiment_id : str
    alpha : float
    srm_alert : bool
        The experiment's split is broken (:class:`SrmCheck`).
    """

    table: pd.DataFrame
    experiment_id: str
    alpha: float
    srm_alert: bool


@dataclass(frozen=True)
class PlanningResults:
    """Customers the next test needs, and what that sizing assumes.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`~custkit.splittest.findings.planning_table`'s rows.
    window_days : int
        The window the control groups' baseline and spread are measured over.
    power : float
        Power each size is computed for.
    alpha : float
        Significance level each size is computed for.
    lifts : tuple of float
        The relative changes sized for, one ``customers_for_<lift>`` column each.
    """

    table: pd.DataFrame
    window_days: int
    power: float
    alpha: float
    lifts: tuple[float, ...]


@dataclass(frozen=True)
class SegmentResults:
    """One experiment's effect by segment, and the families its p-values are adjusted over.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`~custkit.splittest.segments.segment_effects`' rows. A copy per result.
    experiment_id, metric : str
    window_days : int
    alpha : float
    multiple_testing : {"holm", "bh"}
        The adjustment within each segmentation.
    srm_alert : bool
        The experiment's split is broken (:class:`SrmCheck`): no segment can be trusted.
    families : mapping of str to int
        Segmentation → tests with a p-value in it (read-only).
    skipped : tuple of str
        Segmentations without data (no such customers column).
    """

    table: pd.DataFrame
    experiment_id: str
    metric: str
    window_days: int
    alpha: float
    multiple_testing: str
    srm_alert: bool
    families: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    skipped: tuple[str, ...] = ()
