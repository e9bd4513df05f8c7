"""A demo store shared by the churn tests that need realistic data (generated once)."""

import pytest

from custkit.data.demo import generate_demo_store


@pytest.fixture(scope="session")
def demo_store():
    return generate_demo_store(20_000, seed=11, dirty=False)
