"""Real order data that ships with custkit: the CDNOW data set.

CDNOW is the purchase history of the customers who made their first purchase at the CDNOW online
music store in the first quarter of 1997, up to the end of June 1998 (Fader & Hardie). It is the
data set of the BG/NBD, Pareto/NBD and Gamma-Gamma papers, so it lets tests check custkit's models
against published numbers, offline.

The two files are gzip copies of ``CDNOW_master.txt`` (69,659 purchase rows, 23,570 customers)
and ``CDNOW_sample.txt`` (6,919 rows, 2,357 customers: the 1/10 sample used in the papers) from
the ``lifetimes`` 0.11.3 wheel (Copyright (c) 2015 Cameron Davidson-Pilon, MIT licence), which
redistributes them from Bruce Hardie's website. We keep our own copy because
``import lifetimes.datasets`` fails on current setuptools and custkit should not depend on
``lifetimes`` at run time.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

import pandas as pd

from custkit.errors import ParamsError

__all__ = ["load_cdnow"]

_KINDS = ("sample", "master")


def load_cdnow(kind: Literal["sample", "master"] = "sample") -> pd.DataFrame:
    """Load the CDNOW orders as a canonical orders frame.

    Parameters
    ----------
    kind : {"sample", "master"}, default "sample"
        ``"sample"``: the 2,357-customer sample of the papers (customer ids 1–2357, the sample's
        own numbering); ``"master"``: all 23,570 customers (ids 1–23570).

    Returns
    -------
    pandas.DataFrame
        One row per purchase record, in file order: ``order_id`` (int, row number from 1),
        ``customer_id`` (int), ``order_date`` (``datetime64[ns]``, midnight), ``revenue``
        (float, dollars) and ``items`` (int, number of CDs). A customer can have several rows on
        one day; :func:`custkit.ltv.summarize` merges them.

    Examples
    --------
    >>> orders = load_cdnow("sample")
    >>> len(orders), orders["customer_id"].nunique()
    (6919, 2357)
    """
    if kind not in _KINDS:
        raise ParamsError(
            f"The 'kind' parameter of load_cdnow must be one of {list(_KINDS)}. "
            f"Got {kind!r} instead."
        )
    path = files(__name__).joinpath("data", f"CDNOW_{kind}.txt.gz")
    # sample: master id, sample id, date, CDs, dollars; master: id, date, CDs, dollars (+ header)
    names = (
        ["master_id", "customer_id", "date", "items", "revenue"]
        if kind == "sample"
        else ["customer_id", "date", "items", "revenue"]
    )
    with path.open("rb") as handle:
        raw = pd.read_csv(
            handle,
            compression="gzip",
            sep=r"\s+",
            header=None,
            names=names,
            skiprows=1 if kind == "master" else 0,
            dtype={"customer_id": "int64", "date": "str", "items": "int64", "revenue": "float64"},
            engine="c",
        )
    return pd.DataFrame(
        {
            "order_id": pd.RangeIndex(1, len(raw) + 1).to_numpy(dtype="int64"),
            "customer_id": raw["customer_id"].to_numpy(dtype="int64"),
            "order_date": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[ns]"),
            "revenue": raw["revenue"].to_numpy(dtype="float64"),
            "items": raw["items"].to_numpy(dtype="int64"),
        }
    )
