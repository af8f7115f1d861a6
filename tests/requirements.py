"""What a test needs of the machine (root, a tool, PostgreSQL).

On a developer's machine a missing requirement skips the test, saying why; under
`.ci/run` (COUNTER_TEST_STRICT=1) it fails it, so that CI never passes a test it
did not run.
"""

from __future__ import annotations

import os

import pytest


def missing(reason: str):
    if os.environ.get("COUNTER_TEST_STRICT") == "1":
        pytest.fail(f"CI cannot run this test: {reason}", pytrace=False)
    pytest.skip(reason)
