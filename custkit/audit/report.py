"""What the audit report checks of its parameters before it computes (``custkit validate``).

``custkit/notebooks/audit.ipynb`` passes each parameter to one or more section functions, each of
those checks its own arguments. :func:`check_inputs` calls the same check functions, in the
order the notebook reaches them, so a value the report would stop on stops ``custkit validate``
first, with the same message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custkit.audit.acquisition import check_repeat_within_days
from custkit.audit.categories import check_category_rules
from custkit.audit.exports import check_reactivation_days
from custkit.audit.health import check_lapse_days, check_norm
from custkit.audit.rfm import _check_thresholds


def check_inputs(store, parameters: Mapping[str, Any]) -> None:
    """What the audit report checks of its parameters before it computes.

    Every check runs, whether or not the store's data fill the section that uses it: a value
    out of range is wrong on any store.

    Parameters
    ----------
    store : Store
        The loaded store (the audit's checks need none of its tables).
    parameters : mapping
        The audit report's parameter values
        (:func:`custkit.reports.parameters.resolve_parameters`).

    Raises
    ------
    ParamsError
        As the report would, with the same message.
    """
    check_lapse_days(parameters["lapse_days"])  # base_turnover
    check_norm(parameters["churn_norm"])  # health_finding
    check_repeat_within_days(parameters["repeat_within_days"])  # acquisition, referrals
    _check_thresholds(parameters["rfm_recency_days"], parameters["rfm_frequency_orders"])
    check_category_rules(
        parameters["active_days"], parameters["lapse_days"], parameters["loyal_orders"]
    )
    check_reactivation_days(
        parameters["reactivation_min_days"], parameters["reactivation_max_days"]
    )
