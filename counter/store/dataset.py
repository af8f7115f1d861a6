"""Training and production data never mix.

The database records which kind of data it holds (``store_meta`` key
``dataset``). Training opens only a training database, production only a
production one; production never loads the fictional town; training talks only
to agencies on loopback (the emulators).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import text

TRAINING = "training"
PRODUCTION = "production"
KEY = "dataset"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Agencies' own test platforms, serving fictional people only (docs/backends.md).
STAGING_HOSTS = ("staging.particulier.api.gouv.fr",)


class MixedData(Exception):
    """Training and production would mix; the message is for the person at the terminal (French)."""


def claim(store) -> str | None:
    """What the database says it holds, or None before anyone claimed it."""
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT value FROM store_meta WHERE key = :k"), {"k": KEY}).scalar()


def _describe(dataset: str) -> str:
    return "de formation" if dataset == TRAINING else "de production"


def ensure(store, mode: str) -> None:
    """Claim the database for ``mode`` on first use; raise MixedData if it holds the other kind."""
    wanted = TRAINING if mode == TRAINING else PRODUCTION
    with store.write_connection() as connection:
        held = connection.execute(text("SELECT value FROM store_meta WHERE key = :k"), {"k": KEY}).scalar()
        if held is None:
            connection.execute(text("INSERT INTO store_meta (key, value) VALUES (:k, :v)"), {"k": KEY, "v": wanted})
            return
    if held != wanted:
        raise MixedData(
            f"Cette base de données contient des données {_describe(held)} : le mode "
            f"{'formation' if wanted == TRAINING else 'production'} refuse de l'ouvrir "
            "(les données de formation et de production ne se mélangent jamais)."
        )


def refuse_fixtures(store) -> None:
    """The fictional town never enters a production database."""
    if claim(store) == PRODUCTION:
        raise MixedData("Refusé : la ville fictive (données de formation) ne se charge pas "
                        "dans une base de production.")


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK_HOSTS


def training_may_use(url: str) -> bool:
    """Training talks to the emulators on loopback, or to an agency's staging platform."""
    return is_loopback(url) or (urlsplit(url).hostname or "").lower() in STAGING_HOSTS
