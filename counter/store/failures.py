"""Why the database failed, named for the person who must act.

A damaged SQLite file, a full disk, a file the counter may not write and an
unreachable server call for different people and different actions. The
drivers tell them apart by a code (SQLite's result code, PostgreSQL's
SQLSTATE); those codes are what the log keeps, never the drivers' messages,
which may quote a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from counter.store.engine import EmptyDatabaseFile

DAMAGED = "damaged"
EMPTY = "empty"
FULL = "full"
DISK = "disk"
ACCESS = "access"
BUSY = "busy"
UNKNOWN = "unknown"  # an unreachable server, bad credentials, or a cause not named here

# SQLite primary result codes (the low byte of the extended code).
_SQLITE = {11: DAMAGED, 26: DAMAGED, 13: FULL, 10: DISK, 3: ACCESS, 8: ACCESS, 14: ACCESS, 5: BUSY, 6: BUSY}
# PostgreSQL SQLSTATEs: data or index corrupted, disk full, no privilege, read-only (a standby).
_SQLSTATE = {"XX001": DAMAGED, "XX002": DAMAGED, "53100": FULL, "42501": ACCESS, "25006": ACCESS}

_FRENCH = {
    DAMAGED: ("la base de données locale est endommagée (fichier abîmé) : rien ne peut y être lu ni "
              "enregistré. Prévenez l'administrateur : il doit restaurer la dernière sauvegarde."),
    EMPTY: ("le fichier de la base de données est vide (0 octet) : il a sans doute été tronqué, et le "
            "guichet ne le remplace pas par une base neuve. Prévenez l'administrateur : il doit restaurer "
            "la dernière sauvegarde."),
    FULL: "le disque de la base de données est plein : rien ne peut être enregistré. Prévenez l'administrateur.",
    DISK: ("le disque de la base de données renvoie des erreurs de lecture ou d'écriture. "
           "Prévenez l'administrateur."),
    ACCESS: ("la base de données ne peut pas être ouverte ou modifiée (droits d'accès, ou serveur en "
             "lecture seule). Prévenez l'administrateur."),
    BUSY: "la base de données est occupée par un autre guichet : réessayez dans un instant.",
}
_FRENCH_TRAINING_DAMAGED = ("la base de formation est endommagée (fichier abîmé). Elle ne contient que la ville "
                            "fictive : « counter train --reset » la recrée.")
_FRENCH_SERVER_DAMAGED = ("la base de données est endommagée sur son serveur. Prévenez l'administrateur : "
                          "il doit restaurer la dernière sauvegarde.")

_ENGLISH = {
    DAMAGED: "the database is damaged ({code}): restore the last backup; 'counter doctor' runs an integrity check",
    FULL: "the disk holding the database is full ({code})",
    DISK: "the disk holding the database reports I/O errors ({code}): check it, then restore the last backup",
    ACCESS: ("the database cannot be opened or written ({code}): check the owner and mode of the file and "
             "its directory, or whether the server is read-only"),
    BUSY: "the database is locked by another process ({code}): try again",
}


@dataclass(frozen=True)
class Failure:
    kind: str
    code: str  # the driver's code (SQLITE_CORRUPT, SQLSTATE XX001…) or the exception's type
    server: bool = False  # PostgreSQL: "on its server", not "local"

    @property
    def named(self) -> bool:
        """A cause the messages can name (else: say what the caller would say anyway)."""
        return self.kind != UNKNOWN

    def french(self, training: bool = False) -> str:
        if self.kind == DAMAGED and self.server:
            return _FRENCH_SERVER_DAMAGED
        if self.kind == DAMAGED and training:
            return _FRENCH_TRAINING_DAMAGED
        return _FRENCH.get(self.kind, "")

    def log_reason(self) -> str:
        """For the log: the kind and the code only."""
        return f"{self.kind} ({self.code})"


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        orig = getattr(exc, "orig", None)  # SQLAlchemy's wrapper around the driver's exception
        if isinstance(orig, BaseException):
            exc = orig
        else:
            exc = exc.__cause__ or exc.__context__


def classify(exc: BaseException) -> Failure:
    """The cause of a database failure, from the exception and those it wraps."""
    for link in _chain(exc):
        if isinstance(link, EmptyDatabaseFile):
            return Failure(EMPTY, "empty file")
        code = getattr(link, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _SQLITE:
            return Failure(_SQLITE[code & 0xFF], getattr(link, "sqlite_errorname", None) or f"SQLITE {code}")
        sqlstate = getattr(link, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate in _SQLSTATE:
            return Failure(_SQLSTATE[sqlstate], f"SQLSTATE {sqlstate}", server=True)
    inner = list(_chain(exc))[-1]
    return Failure(UNKNOWN, type(inner).__name__)


def agent_message(exc: BaseException, otherwise: str, lead: str = "", training: bool = False) -> str:
    """French, for the agent: ``lead`` and the named cause, else ``otherwise`` (a whole message)."""
    failure = classify(exc)
    if not failure.named:
        return otherwise
    text = failure.french(training)
    return lead + text if lead else text[0].upper() + text[1:]


def admin_message(exc: BaseException) -> str:
    """English, for administrators: the named cause, else the exception's type and first line."""
    empty = next((link for link in _chain(exc) if isinstance(link, EmptyDatabaseFile)), None)
    if empty is not None:
        return str(empty)
    failure = classify(exc)
    if failure.named:
        return _ENGLISH[failure.kind].format(code=failure.code)
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
