"""Effects by segment: the segments add up to the whole, a planted effect shows in its segment
only, p-values are adjusted over each segmentation (checked against statsmodels), and the tests'
own store generator's experiments (a real effect, an A/A test) read as their known truth."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

import custkit as ck
from custkit.errors import ParamsError
from custkit.splittest import metric_table, review_experiments
from custkit.splittest.segments import UNKNOWN, segment_effects, segment_results


@pytest.fixture(scope="module")
def two_regions(make_store):
    """One experiment: customers 1.. ("north") with B buying 40% more, 100001.. ("south") with
    no effect, and a few customers without a customers row."""
    north = make_store("exp", customers=5000, effect=0.4, seed=11, first_id=1)
    south = make_store("exp", customers=5000, effect=0.0, seed=12, first_id=100_001)
    orders = pd.concat([north[0], south[0]], ignore_index=True)
    experiments = pd.concat([north[1], south[1]], ignore_index=True)
    reductions = ck.reduce_orders(orders, pd.Timestamp("2026-10-31"), customer_days=True)
    ids = experiments["customer_id"].to_numpy()
    customers = pd.DataFrame(
        {"customer_id": ids[10:], "region": np.where(ids[10:] < 100_001, "north", "south")}
    )
    review = review_experiments(experiments, reductions)
    return review, reductions, customers


def test_a_planted_effect_shows_in_its_segment_only_after_adjustment(two_regions):
    review, reductions, customers = two_regions
    table = segment_effects(review, reductions, "exp", customers, ["region"], metric="orders")
    rows = table.set_index("segment")
    assert rows.loc["north", "significant"] and rows.loc["north", "estimate"] > 0.2
    assert not rows.loc["south", "significant"]
    assert rows.loc["south", "ci_low"] < 0 < rows.loc["south", "ci_high"]
    assert rows.loc[UNKNOWN, "customers_control"] + rows.loc[UNKNOWN, "customers_variant"] > 0


@pytest.mark.parametrize("metric", ["revenue", "orders", "conversion", "aov"])
def test_segments_add_up_to_the_experiment_with_the_same_caps(two_regions, metric):
    review, reductions, customers = two_regions
    table = segment_effects(review, reductions, "exp", customers, ["region"], metric=metric)
    overall = metric_table(review, "exp")
    overall = overall.loc[(overall["metric"] == metric) & (overall["window_days"] == 90)]
    overall = overall.iloc[0]
    for side in ("control", "variant"):
        customers_total = table[f"customers_{side}"].sum()
        assert customers_total == overall[f"customers_{side}"]
        if metric != "aov":  # a ratio's segments are not weighted by customers
            weighted = (table[f"value_{side}"] * table[f"customers_{side}"]).sum()
            assert weighted / customers_total == pytest.approx(overall[f"value_{side}"], rel=1e-9)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_segment_p_values_are_adjusted_over_each_segmentation(two_regions, method):
    _, reductions, customers = two_regions
    review = two_regions[0]
    if method == "bh":
        review = review_experiments(review.assignments.table, reductions, multiple_testing="bh")
    result = segment_results(
        review, reductions, "exp", customers, ["region", "new_vs_returning"], metric="revenue"
    )
    table = result.table
    assert result.multiple_testing == method
    statsmodels_method = {"holm": "holm", "bh": "fdr_bh"}[method]
    for segmentation, rows in table.groupby("segmentation"):
        expected = multipletests(rows["p_value"], method=statsmodels_method)[1]
        np.testing.assert_allclose(rows["p_adjusted"], expected, rtol=1e-12)
        assert result.families[segmentation] == len(rows)
    assert set(table.loc[table["segmentation"] == "new_vs_returning", "segment"]) == {
        "new",
        "returning",
    }  # conftest's customers buy from 120 days before exposure: all returning but a few


def test_a_segmentation_without_its_column_is_skipped_and_said(two_regions):
    review, reductions, _ = two_regions
    result = segment_results(review, reductions, "exp", None, ["new_vs_returning", "region"])
    assert result.skipped == ("region",)
    assert set(result.table["segmentation"]) == {"new_vs_returning"}


@pytest.mark.parametrize("segment_by", ["region", ["regions"], [1]])
def test_unknown_segmentations_are_refused(two_regions, segment_by):
    review, reductions, customers = two_regions
    with pytest.raises(ParamsError, match="segment_by must"):
        segment_effects(review, reductions, "exp", customers, segment_by)


@pytest.fixture(scope="module")
def generated_review(storegen):
    store = storegen.generate_store(storegen.StoreSpec(customers=30_000, seed=3, effect=0.8))
    orders = store.tables["orders"]
    orders = orders.assign(
        status=orders["status"]
        .map({"Выполнен": "completed", "Отменён": "cancelled", "Возврат": "returned"})
        .fillna(orders["status"])
    )
    as_of = pd.Timestamp(store.spec.end) - pd.Timedelta(days=1)
    reductions = ck.reduce_orders(orders, as_of, customer_days=True)
    review = review_experiments(
        store.tables["experiments"], reductions, primary_metric="orders", windows_days=[90]
    )
    return store, review, reductions


def test_storegen_experiments_read_as_their_known_truth_in_every_channel(generated_review):
    store, review, reductions = generated_review
    customers = store.tables["customers"]
    truth = store.truth_experiments.set_index("experiment_id")["effect"]
    for experiment_id, effect in truth.items():
        table = segment_effects(
            review, reductions, experiment_id, customers, ["acquisition_channel"], "orders"
        )
        assert len(table) == customers["acquisition_channel"].nunique()
        assert table["customers_control"].min() > 200
        if effect > 0:  # every channel got the effect (B orders 1.8 times as often)
            assert table["significant"].all() and (table["ci_low"] > 0).all()
        else:  # the A/A test: no channel survives the adjustment
            assert not table["significant"].any()


def test_the_segment_table_as_shown_names_the_adjustment_and_the_segments(two_regions):
    from custkit.splittest import segments_caption, segments_shown

    review, reductions, customers = two_regions
    result = segment_results(review, reductions, "exp", customers, ["new_vs_returning", "region"])
    shown = segments_shown(result, "RUB")
    assert len(shown) == len(result.table)
    assert {"returning customers", "north", "south", UNKNOWN} <= set(shown["Segment"])
    caption = segments_caption(result)
    assert caption.startswith("Revenue per customer over 90 days by segment")
    assert "adjusted (Holm) over each segmentation's comparisons (up to 3)" in caption
    assert "Not shown" not in caption
    no_region = segments_caption(segment_results(review, reductions, "exp", None, ["region"]))
    assert "Not shown, as the store's customers table has no such column: Region." in no_region
