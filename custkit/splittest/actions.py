"""The split-test report's actions for the monthly summary (:mod:`custkit.reports.actions`):
each experiment ready to ship, worth the extra revenue its winner brought the test's customers
over the horizon window (the measured difference in revenue per customer times the customers
in the test)."""

from __future__ import annotations

import math

from custkit.findings import Action
from custkit.i18n import _, n_
from custkit.splittest.report import SplitTestReview, metric_table
from custkit.splittest.verdicts import verdict

#: The export every split-test action points to: the results of every experiment.
RESULTS_EXPORT = "splittest_results"


def ship_actions(review: SplitTestReview) -> list[Action]:
    """One action per experiment whose verdict is to ship a challenger, in the review's order.

    Worth the revenue per customer the challenger brought over the control in the horizon
    window, times the customers of both groups (None when revenue is not a reviewed metric).
    """
    actions = []
    for experiment_id in review.designs:
        chosen = verdict(review, experiment_id)
        if chosen.code != "ship":
            continue
        value, customers = None, None
        table = metric_table(review, experiment_id)
        rows = table[
            (table["window_days"] == review.horizon_days)
            & (table["metric"] == "revenue")
            & (table["variant"] == chosen.variant)
        ]
        if len(rows):
            row = rows.iloc[0]
            customers = int(row["customers_control"] + row["customers_variant"])
            difference = float(row["value_variant"] - row["value_control"])
            if math.isfinite(difference):
                value = difference * customers
        if customers is None:
            line = _(
                "“{variant}” did better than “{control}” in the test: switch everyone to "
                "“{variant}”.",
                variant=chosen.variant,
                control=chosen.control,
            )
        else:
            line = n_(
                "“{variant}” did better than “{control}”; over {days} days it brought this much "
                "more revenue to the test's {n:,} customer: switch everyone to “{variant}”.",
                "“{variant}” did better than “{control}”; over {days} days it brought this much "
                "more revenue to the test's {n:,} customers: switch everyone to “{variant}”.",
                customers,
                variant=chosen.variant,
                control=chosen.control,
                days=review.horizon_days,
            )
        actions.append(
            Action(
                _("Ship the winner of {experiment}", experiment=experiment_id),
                line,
                value,
                export=RESULTS_EXPORT,
                customers=customers,
            )
        )
    return actions
