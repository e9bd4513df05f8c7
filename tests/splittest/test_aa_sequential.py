"""Monthly reports of many simulated split tests with staggered assignment, judged the way the
report judges them: looks by completion month, information fractions, boundaries and crossings
from :func:`custkit.splittest.sequential.add_looks` and ``crossed_boundaries``, each report
keeping the looks of the one before.

The setting of issue 14: customers are assigned over two years (2,400 per test, at an even,
rising or falling pace), each is followed for 90 days (three months), and a report runs at every
month's end until every window is over (27 reports). Revenue per customer is zero-inflated
log-normal (30% buy, log-normal(7.5, 0.8) amounts); the Welch z of B minus A comes from cumulated
sums per look, as in the report.

Measured with 4,002 tests per scenario (seeds 2026 and 2027; other seeds in brackets):

- A/A, looks measured against the planned sample and frozen (the report's rule): 5.3% of tests
  ever said "ship B" / "keep A" (4.7%, 4.7%; one test after the last window: 5.4%), nominal 5%,
  upper 99% Monte-Carlo bound 5.8%; no verdict withdrawn;
- A/A, the rule of 4f82166 (a look's fraction = its customers / customers assigned so far, every
  look recomputed by each report): 8.4% (8.4%, 7.7%), and 4.2% of the tests had a verdict
  withdrawn by a later report;
- B 30% better: power 77.3% with monthly looks against 79.8% for one fixed-horizon test after
  the last window (O'Brien–Fleming's usual small price for 24 looks).
"""

import numpy as np
import pytest
from scipy import stats

from custkit.splittest import add_looks, crossed_boundaries, obrien_fleming_boundaries

N_TESTS = 4000
ALPHA = 0.05
#: Customers assigned per month (both variants together) over two years: three ramp shapes.
PROFILES = {
    "even": (100,) * 24,
    "ramp_up": tuple(range(54, 147, 4)),
    "front_loaded": tuple(range(146, 53, -4)),
}
HORIZON_MONTHS = 3
REPORTS = len(PROFILES["even"]) + HORIZON_MONTHS  # a report at the end of months 1..9
#: Effect on B's amounts that the fixed-horizon Welch test detects with power about 0.8.
TRUE_EFFECT = 0.3


def upper_bound(rate_target: float, n: int = N_TESTS, level: float = 0.99) -> float:
    """The largest rate a simulation of *n* tests shows with probability *level* when the true
    rate is *rate_target* (normal approximation to the binomial)."""
    z = stats.norm.ppf(level)
    return rate_target + z * np.sqrt(rate_target * (1 - rate_target) / n)


def _cohort_sums(rng, tests, cohorts, effect):
    """Per test, arm and monthly cohort: customers, sum and sum of squares of revenue."""
    sums = []
    for lift in (0.0, effect):
        per_arm = np.asarray(cohorts) // 2
        values = np.where(
            rng.random((tests, per_arm.sum())) < 0.3,
            rng.lognormal(7.5, 0.8, (tests, per_arm.sum())) * (1 + lift),
            0.0,
        )
        starts = np.r_[0, np.cumsum(per_arm)[:-1]]
        sums.append(
            (
                np.broadcast_to(per_arm, (tests, per_arm.size)).astype(float),
                np.add.reduceat(values, starts, axis=1),
                np.add.reduceat(values**2, starts, axis=1),
            )
        )
    return sums


def _welch_z_by_completion_month(sums):
    """z of B minus A at the end of each month 1..REPORTS over the customers whose window is
    over by then (NaN before the first window is over)."""
    means, variances = [], []
    for n, total, squares in sums:
        # cohort m (month m, 1-based) completes its window at the end of month m + HORIZON_MONTHS
        pad = np.zeros((n.shape[0], HORIZON_MONTHS))
        n, total, squares = (np.c_[pad, x].cumsum(axis=1) for x in (n, total, squares))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
            means.append(mean)
            variances.append((squares - total * mean) / (n - 1) / n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (means[1] - means[0]) / np.sqrt(variances[0] + variances[1])


def _complete_customers(cohorts):
    """Customers whose window is over at the end of each month 1..REPORTS."""
    return np.cumsum(np.r_[np.zeros(HORIZON_MONTHS), cohorts])


def _assigned(cohorts):
    """Customers assigned by the end of each month 1..REPORTS."""
    return np.cumsum(np.r_[cohorts, np.zeros(HORIZON_MONTHS)])


def _monthly_reports_with_frozen_looks(z, cohorts):
    """The report's rule: each month's report adds looks to the frozen ones.

    Returns the verdict (a look crossed so far) of every test at every report, and the sign of
    the first crossing's z."""
    planned = float(np.sum(cohorts))
    complete = _complete_customers(cohorts)
    frozen_fractions, frozen_boundaries, frozen_months = [], [], []
    verdicts = np.zeros((z.shape[0], REPORTS), dtype=bool)
    for report in range(1, REPORTS + 1):
        months = [m for m in range(1, report + 1) if complete[m - 1] > 0 and m not in frozen_months]
        months = [m for m in months if not frozen_months or m > frozen_months[-1]]
        if months:
            looks = add_looks(
                complete[np.array(months) - 1],
                planned,
                frozen_fractions,
                frozen_boundaries,
                final=report == REPORTS,
                alpha=ALPHA,
            )
            kept = [m for m, keep in zip(months, looks.kept, strict=True) if keep]
            frozen_months += kept
            frozen_fractions = looks.boundaries.information_fractions.tolist()
            frozen_boundaries = looks.boundaries.z_boundaries.tolist()
            boundaries = looks.boundaries
            crossed = crossed_boundaries(z[:, np.array(frozen_months) - 1], boundaries)
            verdicts[:, report - 1] = crossed.any(axis=1)
        elif report > 1:
            verdicts[:, report - 1] = verdicts[:, report - 2]
    first = np.argmax(crossed, axis=1)
    direction = np.sign(z[:, np.array(frozen_months) - 1][np.arange(z.shape[0]), first])
    return verdicts, direction, np.array(frozen_fractions)


def _monthly_reports_as_on_4f82166(z, cohorts):
    """The rule of 4f82166: every report recomputes every look, each look's fraction being its
    customers over the customers assigned so far."""
    complete, assigned = _complete_customers(cohorts), _assigned(cohorts)
    verdicts = np.zeros((z.shape[0], REPORTS), dtype=bool)
    for report in range(1, REPORTS + 1):
        months = np.array([m for m in range(1, report + 1) if complete[m - 1] > 0])
        if months.size == 0:
            continue
        fractions = np.minimum(complete[months - 1] / assigned[report - 1], 1.0)
        boundaries = obrien_fleming_boundaries(fractions, ALPHA)
        verdicts[:, report - 1] = crossed_boundaries(z[:, months - 1], boundaries).any(axis=1)
    return verdicts


def _simulate(effect, seed=2026):
    """Per ramp shape: the Welch z at each month's end of its share of the tests."""
    rng = np.random.default_rng(seed)
    out = {}
    for shape, cohorts in PROFILES.items():
        sums = _cohort_sums(rng, N_TESTS // len(PROFILES) + 1, cohorts, effect)
        out[shape] = _welch_z_by_completion_month(sums)
    return out


@pytest.fixture(scope="module")
def aa_z():
    return _simulate(0.0)


@pytest.fixture(scope="module")
def effect_z():
    return _simulate(TRUE_EFFECT, seed=2027)


def _withdrawn(verdicts):
    """Tests whose verdict was given by one report and gone in a later one."""
    given = np.maximum.accumulate(verdicts, axis=1)
    return (given & ~verdicts).any(axis=1)


def test_monthly_looks_against_the_planned_sample_keep_false_positives_at_alpha(aa_z):
    ever, withdrawn = [], []
    for shape, z in aa_z.items():
        verdicts, _, fractions = _monthly_reports_with_frozen_looks(z, PROFILES[shape])
        assert fractions[-1] == 1.0 and fractions.size == REPORTS - HORIZON_MONTHS
        ever.append(verdicts.any(axis=1))
        withdrawn.append(_withdrawn(verdicts))
    false_positives = np.concatenate(ever).mean()
    assert false_positives <= upper_bound(ALPHA), false_positives
    assert false_positives > 0.03  # the boundaries are not needlessly strict either
    assert not np.concatenate(withdrawn).any()


def test_looks_recomputed_against_customers_so_far_inflate_false_positives(aa_z):
    # The defect of 4f82166 the test above guards against: 8.4% here, 7.8% in the runs.
    ever, withdrawn = [], []
    for shape, z in aa_z.items():
        verdicts = _monthly_reports_as_on_4f82166(z, PROFILES[shape])
        ever.append(verdicts.any(axis=1))
        withdrawn.append(_withdrawn(verdicts))
    false_positives = np.concatenate(ever).mean()
    assert false_positives > upper_bound(ALPHA), false_positives
    assert np.concatenate(withdrawn).mean() > 0.02


def test_monthly_looks_lose_little_power_against_one_fixed_horizon_test(effect_z):
    sequential, fixed = [], []
    for shape, z in effect_z.items():
        verdicts, direction, _ = _monthly_reports_with_frozen_looks(z, PROFILES[shape])
        sequential.append(verdicts[:, -1] & (direction > 0))
        fixed.append(z[:, -1] >= stats.norm.ppf(1 - ALPHA / 2))
    sequential_power, fixed_power = np.concatenate(sequential).mean(), np.concatenate(fixed).mean()
    assert 0.75 < fixed_power < 0.85, fixed_power
    assert fixed_power - 0.04 <= sequential_power <= fixed_power, (sequential_power, fixed_power)
