"""A visit's registrations while they are typed: plain data, saved as JSON drafts.

Nothing here touches the database; the visit service validates a draft with
the kinds' rules (counter.domain.kinds, registrations/) and confirms it in one
transaction.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from counter.domain.kinds import kind, kind_of
from counter.domain.reg_states import STATE_LABELS, RegState  # noqa: F401 — where they were always imported from

WEEKDAYS = ("lun", "mar", "mer", "jeu", "ven")


class Kind(enum.StrEnum):
    """The ids of the built-in kinds (registrations/school, creche, library). Nothing
    branches on them: behaviour is the kind's (counter.domain.kinds)."""

    SCHOOL = "school"
    CRECHE = "creche"
    LIBRARY = "library"




class Request:
    """One registration a family asks for; each kind of registration subclasses it
    (a frozen dataclass, its ``request_type``).

    A plain class, not a dataclass: fields typed ``Request`` carry one of the
    subclasses, tagged with its kind on the wire (counter.wire.api.visits
    registers every installed kind's type).
    """

    __slots__ = ()


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str  # French, shown at the field


@dataclass
class VisitDraft:
    """Everything typed during a visit, saved at every step."""

    household_id: int | None = None
    person_id: int | None = None
    requests: list[Request] = field(default_factory=list)
    # The household's quotient familial: from the dossier (agency) or typed (declared).
    qf_value: int | None = None
    qf_source: str | None = None  # agency | declared
    # EAJE inputs from the dossier, for the crèche tariff.
    eaje_children: int | None = None
    eaje_aeeh: int | None = None
    eaje_resources: int | None = None
    # A form being typed (its raw fields), so that a crash loses not even that.
    editing: dict | None = None
    # Each change the agent makes is numbered: the service keeps the newest, so
    # a save resent late (after the service came back) never overwrites a newer one.
    revision: int = 0

    def to_json(self) -> str:
        data = asdict(self)
        data["requests"] = [{"kind": kind_of(r).id, **kind_of(r).encode(r)} for r in self.requests]
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VisitDraft:
        data = json.loads(text or "{}")
        requests = [_request(item) for item in data.pop("requests", [])]
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}, requests=requests)


def _request(item: dict[str, Any]) -> Request:
    values = dict(item)
    return kind(values.pop("kind")).decode(values)


def duplicates(requests: list[Request]) -> list[FieldError]:
    """The same child twice in one visit for the same thing."""
    seen, errors = set(), []
    for request in requests:
        key = kind_of(request).duplicate_key(request)
        if key in seen:
            errors.append(FieldError("person_id", "Cette demande figure déjà dans la visite."))
        seen.add(key)
    return errors
