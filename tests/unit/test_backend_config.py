"""[backends.*] and [emulators.*] in the configuration file, checked by each plugin."""

from __future__ import annotations

import pytest

from counter.cli import main

DB = '[database]\nurl = "sqlite:////tmp/counter-test.db"\n'


def run(tmp_path, capsys, body: str) -> tuple[int, str]:
    path = tmp_path / "c.toml"
    path.write_text(body, encoding="utf-8")
    code = main(["--config", str(path), "db", "status"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "body, message",
    [
        ('[backends.caf]\nkind = "nope"\nbase_url = "https://x.fr"\n',
         "key 'backends.caf.kind': unknown backend kind 'nope' (installed: api_particulier, city, koha)"),
        ('[backends.caf]\nbase_url = "https://x.fr"\n', "missing key 'backends.caf.kind'"),
        ('[backends.caf]\nkind = "api_particulier"\nbase_url = "https://x.fr"\n',
         "missing key 'backends.caf.recipient'"),
        ('[backends.caf]\nkind = "api_particulier"\nbase_url = "https://x.fr"\nrecipient = "12345678901234"\n',
         "key 'backends.caf.recipient'"),
        ('[backends.lib]\nkind = "koha"\nbase_url = "ftp://x.fr"\n', "key 'backends.lib.base_url': must be an http"),
        ('[backends.lib]\nkind = "koha"\nbase_url = "https://x.fr"\ncolour = 1\n', "unknown key 'backends.lib.colour'"),
        ('[backends.lib]\nkind = "koha"\nbase_url = "https://x.fr"\ntimeout = "5"\n', "key 'backends.lib.timeout'"),
        ('[backends.lib]\nkind = "koha"\n', "missing key 'backends.lib.base_url' (only training"),
        ('[emulators.ghost]\nlatency_ms = 5\n', "key 'emulators.ghost': no backend of that name"),
    ],
)
def test_bad_backend_settings_name_the_key(tmp_path, capsys, body, message):
    code, err = run(tmp_path, capsys, DB + body)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_emulator_knobs_are_checked(tmp_path, capsys):
    body = 'mode = "training"\n[backends.koha]\nkind = "koha"\n[emulators.koha]\nerror_status = 200\n'
    code, err = run(tmp_path, capsys, body)
    assert code == 2 and "key 'emulators.koha.error_status'" in err


def test_training_configuration_refuses_a_database(tmp_path, capsys):
    code, err = run(tmp_path, capsys, 'mode = "training"\n' + DB)
    assert code == 2 and "training mode uses its own database" in err


def test_real_and_emulated_backends_mix_in_one_training_file(tmp_path):
    from counter.runtime import resolve

    path = tmp_path / "c.toml"
    path.write_text(
        'mode = "training"\n'
        '[backends.caf]\nkind = "api_particulier"\nbase_url = "https://staging.particulier.api.gouv.fr"\n'
        'recipient = "21459999900015"\ntimeout = 3\n'
        '[backends.koha]\nkind = "koha"\n'
        '[emulators.koha]\nlatency_ms = 800\n',
        encoding="utf-8",
    )
    runtime = resolve(str(path))
    assert runtime.training
    assert runtime.backends["caf"].base_url == "https://staging.particulier.api.gouv.fr"
    assert runtime.backends["caf"].timeout == 3.0
    assert runtime.backends["koha"].base_url is None  # in-process emulator
    assert runtime.emulators["koha"].latency_ms == 800


def test_training_knobs_alone_apply_to_the_training_backends(tmp_path):
    from counter.runtime import resolve

    path = tmp_path / "c.toml"
    path.write_text('mode = "training"\n[emulators.api_particulier]\ndown = true\n'
                    '[emulators.koha]\nlatency_ms = 800\n', encoding="utf-8")
    runtime = resolve(str(path))
    assert runtime.backends is None  # the training defaults, every one of them
    assert runtime.emulators["api_particulier"].down and runtime.emulators["koha"].latency_ms == 800


@pytest.mark.parametrize("body, message", [
    # Without [backends.*], the names are the training defaults'.
    ('mode = "training"\n[emulators.caf]\ndown = true\n',
     "key 'emulators.caf': no training backend of that name (known: api_particulier, koha, city)"),
    # With [backends.*], only those (the defaults are not added to them).
    ('mode = "training"\n[backends.caf]\nkind = "api_particulier"\nrecipient = "21459999900015"\n'
     '[emulators.koha]\ndown = true\n', "key 'emulators.koha': no backend of that name (known: caf)"),
])
def test_training_knobs_for_an_unknown_backend_are_refused(tmp_path, capsys, body, message):
    code, err = run(tmp_path, capsys, body)
    assert code == 2 and message in err and str(tmp_path / "c.toml") in err


def test_the_body_knobs_come_from_the_configuration(tmp_path, capsys):
    from counter.runtime import resolve

    path = tmp_path / "c.toml"
    path.write_text('mode = "training"\n[emulators.koha]\nhuge_body = true\nnot_utf8 = true\n'
                    'drop_fields = ["category_id"]\nmistype_fields = ["patron_id", "expiry_date"]\n', encoding="utf-8")
    koha = resolve(str(path)).emulators["koha"]
    assert (koha.huge_body, koha.not_utf8) == (True, True)
    assert koha.drop_fields == ["category_id"] and koha.mistype_fields == ["patron_id", "expiry_date"]
    for bad, key in (('drop_fields = "category_id"', "emulators.koha.drop_fields"),
                     ('mistype_fields = [""]', "emulators.koha.mistype_fields"),
                     ("huge_body = 1", "emulators.koha.huge_body")):
        code, err = run(tmp_path, capsys, f'mode = "training"\n[emulators.koha]\n{bad}\n')
        assert code == 2 and f"key '{key}'" in err, bad
