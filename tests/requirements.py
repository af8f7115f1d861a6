"""What a test needs of the machine (root, a tool, PostgreSQL).

On a developer's machine a missing requirement skips the test, saying why; under
`.ci/run` (COUNTER_TEST_STRICT=1) it fails it, so that CI never passes a test it
did not run.
"""

from __future__ import annotations

import os

import pytest


def missing(reason: str):
    """Called only where a requirement was found missing: a skip on a developer's
    machine, a failure under CI."""
    if os.environ.get("COUNTER_TEST_STRICT") != "1":
        pytest.skip(reason)
    pytest.fail(f"CI cannot run this test: {reason}", pytrace=False)
