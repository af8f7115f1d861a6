"""Fixtures the agency adapter tests share."""

from __future__ import annotations

import pytest

from fixtures.emulators.town_data import town_data


@pytest.fixture(scope="module")
def town():
    return town_data()
