"""Checks of the numbers the split-test statistics are given, and the warning for undefined results.

Every statistics module (:mod:`~custkit.splittest.comparisons`, :mod:`~custkit.splittest.bayes`,
:mod:`~custkit.splittest.srm`, :mod:`~custkit.splittest.multiple_testing`,
:mod:`~custkit.splittest.sequential`, :mod:`~custkit.splittest.planning`) validates its
parameters here, so the messages read alike: they name the parameter, what it means, the allowed
range and the value given.

**Invalid input vs. undefined result.** Numbers no data can produce (negative counts, more
conversions than customers, a sum of squares smaller than ``sum**2 / n``) and variants with fewer
than two customers (no variance) raise :class:`~custkit.errors.ParamsError`. Real data for which a
quantity is undefined — both variants with zero variance, a control mean of zero under
``relative=True``, no conversions at all — give NaN for exactly the undefined fields and a
:class:`SplitTestWarning` that says how to fix it, so one degenerate metric does not stop a report
of twenty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from custkit.errors import ParamsError, did_you_mean

#: Segmentations read from the orders rather than from a customers column.
NEW_VS_RETURNING = "new_vs_returning"
#: Customers table columns a segmentation may use (categorical columns of the data contract).
CUSTOMER_COLUMNS = ("acquisition_channel", "region")

#: Relative slack for sums of squares that rounding pushed just below ``sum**2 / n``.
_ROUNDING_SLACK = 1e-9


class SplitTestWarning(UserWarning):
    """A comparison is undefined for these data; the undefined fields are NaN."""


def _shown(value: Any) -> str:
    """``repr`` without numpy's ``np.float64(...)`` wrapper."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _check_finite(name: str, value: Any, what: str) -> float:
    if not (_is_number(value) and math.isfinite(value)):
        raise ParamsError(
            f"The '{name}' parameter must be a finite number ({what}). Got {_shown(value)} instead."
        )
    return float(value)


def _check_positive(name: str, value: Any, what: str) -> float:
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        raise ParamsError(
            f"The '{name}' parameter must be a finite number > 0 ({what}). "
            f"Got {_shown(value)} instead."
        )
    return float(value)


def _check_unit_interval(name: str, value: Any) -> float:
    if not (_is_number(value) and 0 < value < 1):
        raise ParamsError(
            f"The '{name}' parameter must be a float in the range (0, 1). "
            f"Got {_shown(value)} instead."
        )
    return float(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ParamsError(
            f"The '{name}' parameter must be True or False. Got {_shown(value)} instead."
        )
    return bool(value)


def _check_count(name: str, value: Any, minimum: int, what: str, maximum: int | None = None) -> int:
    """A whole number (int, or a float such as 12.0 from a pandas sum) in ``[minimum, maximum]``."""
    ok = _is_number(value) and math.isfinite(value) and float(value).is_integer()
    ok = ok and minimum <= value and (maximum is None or value <= maximum)
    if not ok:
        allowed = f">= {minimum}" if maximum is None else f"in the range [{minimum}, {maximum}]"
        raise ParamsError(
            f"The '{name}' parameter must be an integer {allowed} ({what}). "
            f"Got {_shown(value)} instead."
        )
    return int(value)


def _check_power(power: Any, alpha: float) -> float:
    power = _check_unit_interval("power", power)
    if power <= alpha:
        raise ParamsError(
            f"The 'power' parameter must be greater than alpha ({alpha:g}): a two-sided test "
            f"rejects with probability alpha even without an effect. Got {power:g} instead."
        )
    return power


def _mean_and_variance(variant: str, n: Any, total: Any, total_sq: Any) -> tuple[int, float, float]:
    """Customers, mean and sample variance (ddof 1) of one variant from its sums."""
    n = _check_count(f"n_{variant}", n, 2, f"customers in variant {variant.upper()}")
    total = _check_finite(
        f"sum_{variant}", total, f"sum of the metric in variant {variant.upper()}"
    )
    total_sq = _check_finite(
        f"sumsq_{variant}", total_sq, f"sum of squared values in variant {variant.upper()}"
    )
    mean = total / n
    squares = total_sq - total * mean
    if squares < -_ROUNDING_SLACK * max(abs(total_sq), 1e-300):
        raise ParamsError(
            f"The 'sumsq_{variant}' parameter ({total_sq:g}) is smaller than "
            f"sum_{variant}**2 / n_{variant} ({total * mean:g}), which no data can give. "
            "Pass the sum of the squared per-customer values."
        )
    return n, mean, max(squares, 0.0) / (n - 1)


def _ratio_moments(
    variant: str, n: Any, sums: Sequence[Any]
) -> tuple[int, float, float, float, float, float]:
    """Customers, means of x and y, variances of x and y, covariance (ddof 1) of one variant."""
    label = variant.upper()
    n = _check_count(f"n_{variant}", n, 2, f"customers in variant {label}")
    names = ("sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy")
    sum_x, sum_y, sum_xx, sum_yy, sum_xy = (
        _check_finite(f"{name}_{variant}", value, f"{name} of variant {label}")
        for name, value in zip(names, sums, strict=True)
    )
    mean_x, mean_y = sum_x / n, sum_y / n
    ss_x, ss_y = sum_xx - sum_x * mean_x, sum_yy - sum_y * mean_y
    cross = sum_xy - sum_x * mean_y
    # Rounding can push a zero variance, or a perfect correlation, just past its limit.
    ss_x = 0.0 if -_ROUNDING_SLACK * abs(sum_xx) <= ss_x < 0 else ss_x
    ss_y = 0.0 if -_ROUNDING_SLACK * abs(sum_yy) <= ss_y < 0 else ss_y
    excess_correlation = cross**2 - ss_x * ss_y > _ROUNDING_SLACK * abs(sum_xx) * abs(sum_yy)
    if ss_x < 0 or ss_y < 0 or excess_correlation:
        given = ", ".join(
            f"{name}_{variant}={value:g}"
            for name, value in zip(names, (sum_x, sum_y, sum_xx, sum_yy, sum_xy), strict=True)
        )
        raise ParamsError(
            f"The sums of variant {label} (n_{variant}={n}, {given}) cannot come from any data: "
            "they imply a negative variance or a correlation beyond ±1. Pass the sums over the "
            "customers of the variant of x, y, x*x, y*y and x*y."
        )
    return n, mean_x, mean_y, ss_x / (n - 1), ss_y / (n - 1), cross / (n - 1)


def check_segmentations(segment_by: object) -> tuple[str, ...]:
    """*segment_by* as a tuple of known segmentations; else a :class:`ParamsError`."""
    known = (NEW_VS_RETURNING, *CUSTOMER_COLUMNS)
    if isinstance(segment_by, str) or not isinstance(segment_by, Sequence):
        raise ParamsError(
            f"segment_by must be a list of segmentations among {list(known)}. "
            f"Got {segment_by!r} instead."
        )
    for name in segment_by:
        if name not in known:
            raise ParamsError(
                f"segment_by must list segmentations among {list(known)}. Got {name!r} instead."
                + did_you_mean(str(name), known)
            )
    return tuple(dict.fromkeys(segment_by))
