"""Every small TOML file we are given is read by one helper (counter.files.read_toml):
the configuration, the service's table of it, a families mapping, a scenario, a
replay script. Each says a file that is not TOML, or nests thousands deep, in its
own error type naming the file, never with a traceback."""

import pytest

from counter.client.locate import LocateConfigError, read_service_table
from counter.config import ConfigError, load_settings
from counter.files import InvalidToml, UnreadableFile, read_toml
from counter.services.family_mapping import MappingError, load_mapping
from fixtures.replay import ReplayError, load_script
from fixtures.scenarios import ScenarioError, load_file

DEEP = 5000  # deeper than the interpreter's recursion limit

LOADERS = [
    pytest.param(load_settings, ConfigError, id="configuration"),
    pytest.param(read_service_table, LocateConfigError, id="service-table"),
    pytest.param(load_mapping, MappingError, id="families-mapping"),
    pytest.param(load_file, ScenarioError, id="scenario"),
    pytest.param(load_script, ReplayError, id="replay-script"),
]
CONTENTS = {
    "not-toml": "mode = \n",
    "deep-arrays": "a = " + "[" * DEEP + "]" * DEEP + "\n",
    "deep-tables": "a = " + "{b = " * DEEP + "1" + "}" * DEEP + "\n",
}


@pytest.mark.parametrize("content", CONTENTS.values(), ids=CONTENTS.keys())
def test_read_toml_says_what_is_wrong_with_the_file(tmp_path, content):
    path = tmp_path / "file.toml"
    path.write_text(content)
    with pytest.raises(InvalidToml) as raised:
        read_toml(path, "the file", 1 << 20)
    assert str(raised.value).startswith(f"{path}: invalid TOML: ")
    assert raised.value.path == path


def test_read_toml_reads_a_table_and_refuses_what_is_not_a_small_text(tmp_path):
    path = tmp_path / "file.toml"
    path.write_text('mode = "training"\n[service]\nsocket = "/run/x.sock"\n')
    assert read_toml(path, "the file", 1024) == {"mode": "training", "service": {"socket": "/run/x.sock"}}
    with pytest.raises(UnreadableFile, match="the file is larger than 0 KiB"):
        read_toml(path, "the file", 10)
    path.write_bytes(b'mode = "\xff"\n')
    with pytest.raises(UnreadableFile, match="the file is not UTF-8 text"):
        read_toml(path, "the file", 1024)


@pytest.mark.parametrize("loader, error", LOADERS)
@pytest.mark.parametrize("content", CONTENTS.values(), ids=CONTENTS.keys())
def test_each_loader_says_a_bad_toml_file_in_its_own_error(tmp_path, loader, error, content):
    path = tmp_path / "file.toml"
    path.write_text(content)
    with pytest.raises(error) as raised:
        loader(path)
    assert str(path) in str(raised.value)
    assert "TOML" in str(raised.value)
