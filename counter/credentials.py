"""Agency credentials, in the system keyring only.

Service ``counter``, user = the backend's name in the configuration. Secrets
never go to the configuration, the logs, the screens or exception messages.

A keyring backend may fail in any way — an encrypted-file keyring asks for its
own password (``getpass`` raises EOFError without a terminal, ValueError on a
wrong password), a D-Bus service may be gone — so every call into it is
guarded and a failure becomes a message for administrators. The app reads the
secrets once, before it takes the terminal (``counter.cli``), so that a
keyring's prompt can never appear inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SERVICE = "counter"
# The roaming bus's password for the town's database ([mobile] central_url, docs/tour.md).
MOBILE_CENTRAL = "mobile.central"
# keyrings.cryptfile reads its own password from this variable instead of prompting.
CRYPTFILE_PASSWORD_ENV = "KEYRING_CRYPTFILE_PASSWORD"

NO_KEYRING_HELP = """\
No usable keyring backend was found, so agency credentials cannot be stored.
Options:
  - a desktop or server session with the Secret Service (GNOME Keyring, KWallet)
    reachable over D-Bus; on a headless server, start one for the counter's account
    (e.g. gnome-keyring-daemon --unlock) in its session;
  - an encrypted file keyring: pip install keyrings.cryptfile, then
    export PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring
    and give its password in KEYRING_CRYPTFILE_PASSWORD (docs/backends.md says how,
    from a root-only file or systemd credentials);
  - any other keyring backend, selected with PYTHON_KEYRING_BACKEND.
Training mode needs no credential at all."""

# Said with any failure of the keyring itself: the usual cause on a server.
OWN_PASSWORD_HINT = (f"a keyring that asks for a password of its own cannot ask here; give keyrings.cryptfile "
                     f"its password in {CRYPTFILE_PASSWORD_ENV} (see docs/backends.md)")


class CredentialError(Exception):
    """Credentials cannot be read or written; the message is safe to show."""


@dataclass(frozen=True)
class KeyringRead:
    """The secrets read for some backends, and why the keyring could not be read, if so."""

    secrets: Mapping[str, str] = field(default_factory=dict)  # only the backends with a stored secret
    problem: str | None = None  # English, for administrators; None when the keyring answered


# What the app uses when nobody read the keyring before it started.
NOT_READ = KeyringRead(problem="the secrets were not read before the app started")


def _keyring():
    """The keyring backend in use; CredentialError when even choosing one fails
    (e.g. PYTHON_KEYRING_BACKEND names something not installed)."""
    import keyring

    try:
        return keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 — a third-party backend may raise anything
        raise CredentialError(f"the keyring backend cannot be loaded ({_why(exc)})") from None


def _why(exc: BaseException, secret: str | None = None) -> str:
    """The exception's type and first line, without the secret should it echo it."""
    text = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
    if not text or (secret and secret in text):
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _described(backend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def backend_name() -> str:
    try:
        return _described(_keyring())
    except CredentialError as exc:
        return str(exc)


def keyring_usable() -> bool:
    return keyring_problem() is None


def keyring_problem() -> str | None:
    """Why no secret can be stored (English, for administrators), or None."""
    try:
        backend = _keyring()
    except CredentialError as exc:
        return f"{exc}\n{NO_KEYRING_HELP}"
    return None if getattr(backend, "priority", 0) > 0 else NO_KEYRING_HELP


def read_secrets(names: Iterable[str]) -> KeyringRead:
    """The secrets of backends ``names``; never raises, never asks twice.

    With no name the keyring is not touched (nor imported): training needs
    no credential.
    """
    names = list(names)
    if not names:
        return KeyringRead()
    try:
        backend = _keyring()
    except CredentialError as exc:
        return KeyringRead(problem=str(exc))
    if getattr(backend, "priority", 0) <= 0:
        return KeyringRead(problem=f"no usable keyring ({_described(backend)}): agency credentials cannot be read")
    secrets = {}
    for name in names:
        try:
            secret = backend.get_password(SERVICE, name)
        except Exception as exc:  # noqa: BLE001 — KeyringError, EOFError from a prompt, ValueError…
            return KeyringRead(secrets, f"the keyring {_described(backend)} could not be read ({_why(exc)}): "
                                        f"{OWN_PASSWORD_HINT}")
        if secret:
            secrets[name] = secret
    return KeyringRead(secrets)


def set_secret(name: str, secret: str) -> None:
    backend = _keyring()
    if getattr(backend, "priority", 0) <= 0:
        raise CredentialError(NO_KEYRING_HELP)
    if not secret or secret != secret.strip() or "\n" in secret:
        raise CredentialError("refused: the secret is empty or has surrounding spaces or line breaks")
    try:
        backend.set_password(SERVICE, name, secret)
    except Exception as exc:  # noqa: BLE001 — KeyringError, EOFError from a prompt, ValueError…
        # The keyring's own message may describe the store, never the secret.
        raise CredentialError(f"the keyring {_described(backend)} refused to store it ({_why(exc, secret)}); "
                              f"{OWN_PASSWORD_HINT}") from None
