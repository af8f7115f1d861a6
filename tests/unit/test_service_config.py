"""The `[service]` table of the configuration: strict like the rest of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter.config import ConfigError
from counter.runtime import resolve


def _write(tmp_path, service: str) -> str:
    path = tmp_path / "counter.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n{service}', encoding="utf-8")
    return str(path)


def test_defaults_and_values(tmp_path):
    runtime = resolve(_write(tmp_path, ""))
    assert (runtime.service_socket, runtime.service_group, runtime.service_mode) == \
        (Path("/run/counter/counter.sock"), None, 0o660)
    runtime = resolve(_write(tmp_path, '[service]\nsocket = "/srv/c.sock"\ngroup = "counter-agents"\nmode = 0o600\n'))
    assert (runtime.service_socket, runtime.service_group, runtime.service_mode) == \
        (Path("/srv/c.sock"), "counter-agents", 0o600)


@pytest.mark.parametrize(("service", "said"), [
    ('[service]\nport = 8080\n', "unknown key 'service.port'"),
    ('[service]\nsocket = "counter.sock"\n', "key 'service.socket': must be the absolute path of a socket file"),
    ('[service]\nsocket = "/run/counter/"\n', "key 'service.socket': must be the absolute path"),
    (f'[service]\nsocket = "/{"x" * 120}.sock"\n', "key 'service.socket': a socket path is 107 bytes at most"),
    ('[service]\nmode = 0o666\n', "key 'service.mode': must be 0o660"),
    ('[service]\nmode = "0660"\n', "key 'service.mode': wrong type"),
    ('[service]\ngroup = "agents; rm"\n', "key 'service.group'"),
    ('[service]\nsocket = "/run/\\u001b[31m.sock"\n', "key 'service.socket': control or invisible characters"),
])
def test_mistakes_are_refused_naming_the_key(tmp_path, service, said):
    with pytest.raises(ConfigError) as refused:
        resolve(_write(tmp_path, service))
    assert said in str(refused.value)
