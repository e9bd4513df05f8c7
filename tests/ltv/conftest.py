"""CDNOW sample summaries shared by the LTV model tests (calibration to 1997-09-30, weeks)."""

import pytest

from custkit.datasets import load_cdnow
from custkit.ltv import summarize


@pytest.fixture(scope="session")
def cdnow_summary():
    return summarize(
        load_cdnow("sample"), as_of="1998-06-30", calibration_end="1997-09-30", time_unit="W"
    )
