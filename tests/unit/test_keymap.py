"""[keys]: the terminals' keys a site changes, by binding id, checked strictly when the
configuration is read; the catalogue of binding ids is the screens' own."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from counter.config import ConfigError
from counter.domain.keys import BINDINGS, KeymapError, check_keymap
from counter.runtime import resolve


def _declared_bindings() -> dict[str, str]:
    """Every binding with an id that the screens, their widgets and the app declare: id -> key."""
    from textual.binding import Binding
    from textual.dom import DOMNode

    import screens

    found: dict[str, str] = {}
    for module in pkgutil.iter_modules(screens.__path__):
        loaded = importlib.import_module(f"screens.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if not issubclass(cls, DOMNode) or not cls.__module__.startswith("screens."):
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    assert found.get(binding.id, binding.key) == binding.key, f"{binding.id} has two keys"
                    found[binding.id] = binding.key
    return found


def test_the_catalogue_is_the_screens_bindings():
    catalogue = {binding: key for bindings in BINDINGS.values() for binding, key in bindings.items()}
    assert catalogue == _declared_bindings()


def test_the_default_keys_pass_their_own_check():
    assert check_keymap({}) == {}
    every = {binding: key for bindings in BINDINGS.values() for binding, key in bindings.items()}
    assert check_keymap(every) == every


@pytest.mark.parametrize(("table", "expected"), [
    ({"search.open": "ctrl+o"}, {"search.open": "ctrl+o"}),
    ({"search": {"open": "F11"}}, {"search.open": "f11"}),  # `search.open = "F11"` in TOML
    ({"search.open": "f11, ctrl+o"}, {"search.open": "f11,ctrl+o"}),
    ({"visit.school": "?"}, {"visit.school": "question_mark"}),
    ({"visit.school": "s", "visit.creche": "e"}, {"visit.school": "s", "visit.creche": "e"}),  # a swap
    ({"household.reveal_nir": "shift+ctrl+n"}, {"household.reveal_nir": "ctrl+shift+n"}),
])
def test_a_keymap_is_given_as_textual_names_its_keys(table, expected):
    assert check_keymap(table) == expected


@pytest.mark.parametrize(("table", "words"), [
    ({"search.opne": "f11"}, "unknown binding id 'search.opne'"),
    ({"search.open": "f55"}, "search.open: 'f55' is not a key name"),
    ({"search.open": "ctrl+"}, "'+' key is written 'plus'"),
    ({"search.open": "cmd+o"}, "unknown modifier 'cmd'"),
    ({"search.open": "ctrl+m"}, "most terminals send it as enter"),
    ({"search.open": 5}, "a key is a string"),
    ({"search.open": "f3"}, "'f3' is bound twice on the search screen: search.open and search.dossier"),
    ({"visit.school": "c"}, "'c' is bound twice on the visit screen"),
    ({"app.lock": "e"}, "'e' is bound twice on the visit screen"),  # the app's keys are everywhere
    ({"search.open": "f11,f11"}, "a key is given twice"),
])
def test_a_wrong_keymap_names_its_problem(table, words):
    with pytest.raises(KeymapError) as refused:
        check_keymap(table)
    assert words in str(refused.value)


def _config(tmp_path, table: str) -> str:
    path = tmp_path / "counter.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "c.sqlite3"}"\n{table}', encoding="utf-8")
    return str(path)


def test_the_keys_table_reaches_the_runtime(tmp_path):
    assert resolve(_config(tmp_path, ""), env={}).keymap == {}
    runtime = resolve(_config(tmp_path, '[keys]\nsearch.open = "ctrl+o"\n"visit.confirm" = "F12"\n'), env={})
    assert runtime.keymap == {"search.open": "ctrl+o", "visit.confirm": "f12"}


def test_a_wrong_keys_table_stops_the_service_in_english(tmp_path):
    with pytest.raises(ConfigError) as failed:
        resolve(_config(tmp_path, '[keys]\nsearch.open = "f3"\n'), env={})
    assert "key 'keys': 'f3' is bound twice on the search screen" in str(failed.value)
    assert failed.value.exit_status == 2
