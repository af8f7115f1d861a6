"""[sync]: strict like the rest of the configuration, and carried by the runtime."""

from __future__ import annotations

import pytest

from counter.config import ConfigError
from counter.runtime import resolve


def _config(tmp_path, sync: str) -> str:
    path = tmp_path / "counter.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "c.sqlite3"}"\n{sync}', encoding="utf-8")
    return str(path)


def test_the_sync_table_reaches_the_runtime_with_defaults(tmp_path):
    runtime = resolve(_config(tmp_path, ""), env={})
    assert (runtime.sync_enabled, runtime.sync_interval_minutes, runtime.sync_warn_after_hours) == (True, 10, 24)
    runtime = resolve(_config(tmp_path, "[sync]\nenabled = false\ninterval_minutes = 3\nwarn_after_hours = 48\n"),
                      env={})
    assert (runtime.sync_enabled, runtime.sync_interval_minutes, runtime.sync_warn_after_hours) == (False, 3, 48)


@pytest.mark.parametrize(("table", "words"), [
    ("[sync]\nintervalle = 5\n", "sync.intervalle"),
    ("[sync]\ninterval_minutes = 0\n", "sync.interval_minutes"),
    ("[sync]\ninterval_minutes = \"10\"\n", "sync.interval_minutes"),
    ("[sync]\nwarn_after_hours = 100000\n", "sync.warn_after_hours"),
])
def test_a_wrong_sync_table_names_the_key(tmp_path, table, words):
    with pytest.raises(ConfigError) as failed:
        resolve(_config(tmp_path, table), env={})
    assert words in str(failed.value) and failed.value.exit_status == 2
