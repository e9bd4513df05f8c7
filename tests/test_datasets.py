"""The bundled CDNOW files load as canonical orders with the published sizes."""

import pandas as pd
import pytest

from custkit.datasets import load_cdnow
from custkit.errors import ParamsError


def test_cdnow_sample_has_6919_rows_of_2357_customers_in_canonical_columns():
    orders = load_cdnow("sample")
    assert list(orders.columns) == ["order_id", "customer_id", "order_date", "revenue", "items"]
    assert len(orders) == 6919
    assert orders["customer_id"].nunique() == 2357
    assert orders["customer_id"].min() == 1 and orders["customer_id"].max() == 2357
    assert orders["order_date"].dtype == "datetime64[ns]"
    assert orders["order_id"].tolist() == list(range(1, 6920))
    assert orders["order_date"].min() == pd.Timestamp("1997-01-01")
    assert orders["order_date"].max() == pd.Timestamp("1998-06-30")
    first = orders.iloc[0]
    assert (first["customer_id"], first["items"], first["revenue"]) == (1, 2, 29.33)


def test_cdnow_master_has_69659_rows_of_23570_customers():
    orders = load_cdnow("master")
    assert len(orders) == 69659
    assert orders["customer_id"].nunique() == 23570
    assert orders["revenue"].dtype == "float64" and orders["items"].dtype == "int64"


def test_load_cdnow_rejects_an_unknown_kind_naming_the_choices():
    with pytest.raises(ParamsError, match=r"\['sample', 'master'\]. Got 'full' instead"):
        load_cdnow("full")
