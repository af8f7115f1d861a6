"""What the outbox sends: request bodies for the town's family system (contract
v1, docs/agency-protocol.md) and for Koha's ``POST /api/v1/patrons``.

Pure functions, no I/O. ``person`` is any object with a person row's
attributes — a ``counter.store.models.Person``, a SQL row, or a
``counter.services.visits.Member`` (``given_names`` as a comma-separated string
or a sequence; the birth as ``birth`` or ``birth_year/month/day``; ``email`` and
``phone`` optional). ``address`` is a ``counter.domain.people.AddressView``.

A body is built once, when the visit is confirmed, and stored as the outbox
message's payload: the same bytes go out at every retry, which is what the
city's idempotency keys compare.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.domain.people import AddressView
from counter.domain.visits import WEEKDAYS

if TYPE_CHECKING:
    from counter.domain.facts import Identity
    from registrations.creche.kind import CrecheRequest
    from registrations.library.kind import LibraryRequest
    from registrations.school.kind import SchoolRequest

CITY_REGISTRATION = "city.registration"
# POST /v1/registrations/{id}/cancellation (contract 1.2): payload {"registration_id": …, "body": {…}}.
CITY_CANCELLATION = "city.cancellation"
KOHA_PATRON = "koha.patron"
RELAY_KEY = "_relay"  # the relay's own notes in a payload; never sent

CONTRACT_DAYS = ("mon", "tue", "wed", "thu", "fri")
_DAY = dict(zip(WEEKDAYS, CONTRACT_DAYS, strict=True))
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_KEY_CODE = 32  # "counter-" + 32 + "-reg-" + a 19-digit id = 64
# Koha cannot link a child to an adult without a patron record.
NO_GUARANTOR_NOTE = "Garant sans carte de lecteur : rattachement à faire à la médiathèque."


# -- shared pieces ---------------------------------------------------------------------


def contract_days(days: Sequence[str]) -> list[str]:
    """lun/mar/mer/jeu/ven → mon/tue/wed/thu/fri, in week order, once each."""
    unknown = [d for d in days if d not in _DAY]
    if unknown:
        raise ValueError(f"unknown weekday(s): {', '.join(unknown)}")
    return [_DAY[d] for d in WEEKDAYS if d in set(days)]


def birth_text(birth: BirthDate) -> str:
    """ISO 8601 with the precision known: 2019-04-12, 1987-06 or 1950."""
    if birth.complete:
        return birth.earliest().isoformat()
    return f"{birth.year:04d}-{birth.month:02d}" if birth.month else f"{birth.year:04d}"


def parse_birth_text(text: str) -> BirthDate:
    """The inverse of :func:`birth_text`; ValueError when it is not one."""
    parts = text.split("-")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError(f"not a birth date: {text!r}")
    numbers = [int(p) for p in parts] + [None, None]
    return BirthDate(numbers[0], numbers[1], numbers[2])


def _given_names(person: Any) -> list[str]:
    names = person.given_names
    return split_given_names(names) if isinstance(names, str) else [n for n in names if n]


def _birth(person: Any) -> BirthDate:
    birth = getattr(person, "birth", None)
    if isinstance(birth, BirthDate):
        return birth
    return BirthDate(person.birth_year, person.birth_month, person.birth_day)


def contract_address(address: AddressView) -> dict:
    return {"street_line": address.street_line(), "complement": address.complement,
            "postal_code": address.postal_code, "city": address.city}


def contract_person(person: Any, address: AddressView | None = None) -> dict:
    """A person the city may not know yet: their identity, and where they live."""
    body = {"birth_name": person.birth_name, "usage_name": person.usage_name or None,
            "given_names": _given_names(person), "sex": person.sex, "birth_date": birth_text(_birth(person))}
    if address is not None:
        body["address"] = contract_address(address)
    return body


def contract_identity(person: dict) -> Identity:
    """The inverse of :func:`contract_person`: the identity agencies are asked about."""
    from counter.domain.facts import Identity

    return Identity(birth_name=person["birth_name"], given_names=tuple(person["given_names"]), sex=person["sex"],
                    birth=parse_birth_text(person["birth_date"]), usage_name=person.get("usage_name"))


def _subject(person: Any, city_person_id: str | None, address: AddressView | None) -> dict:
    # The city's id when the counter has it; otherwise the identity, and the city creates the person.
    if city_person_id:
        return {"person_id": city_person_id}
    if person is None:
        raise ValueError("a registration needs the city's person id or the person")
    return {"person": contract_person(person, address)}


# -- the city --------------------------------------------------------------------------


def school_body(request: SchoolRequest, person: Any, school_uai: str, city_person_id: str | None, *,
                address: AddressView | None = None) -> dict:
    """``POST /v1/registrations`` for a school; ``address`` is used only for a person the city does not know."""
    body = {"kind": "school", **_subject(person, city_person_id, address), "school_year": request.school_year,
            "uai": school_uai, "level": request.level, "canteen_days": contract_days(request.canteen_days),
            "after_school_days": contract_days(request.after_school_days)}
    if request.derogation:
        body["derogation_reason"] = request.derogation_reason.strip()
    return body


def creche_body(request: CrecheRequest, person: Any | None, creche_codes: Sequence[str | None],
                city_person_id: str | None, parent_city_id: str | None, *, parent: Any | None = None,
                address: AddressView | None = None, days: Sequence[str] = ()) -> dict:
    """``POST /v1/registrations`` for a crèche application.

    An expected birth (``request.person_id is None``) is sent as
    ``expected_birth``: the parent by ``parent_city_id``, else by identity
    (``parent``, living at ``address``). ``days`` are the French weekdays
    chosen; without them the first ``days_per_week`` days of the week are
    sent (the contract wants days, the counter's form asks for a count).
    """
    if not creche_codes or any(not c for c in creche_codes):
        raise ValueError("every wished crèche needs its code in the town's family system")
    chosen = contract_days(days) if days else list(CONTRACT_DAYS[:max(1, min(5, request.days_per_week))])
    body: dict[str, Any] = {"kind": "creche"}
    if request.person_id is None:
        if request.due_date is None:
            raise ValueError("an expected birth needs its due date")
        expected: dict[str, Any] = {"due_date": request.due_date.isoformat()}
        if parent_city_id:
            expected["parent_person_id"] = parent_city_id
        elif parent is not None:
            expected["parent"] = contract_person(parent, address)
        else:
            raise ValueError("an expected birth needs the parent's city id or identity")
        body["expected_birth"] = expected
    else:
        body.update(_subject(person, city_person_id, address))
    body.update(creche_ids=list(creche_codes), start_date=request.start_date.isoformat(), days=chosen)
    return body


# -- Koha ------------------------------------------------------------------------------------


def patron_body(request: LibraryRequest, person: Any, address: AddressView | None, library_code: str | None,
                guarantor_patron_id: int | None, *, valid_until: date | None = None) -> dict:
    """Koha's patron object for ``POST /api/v1/patrons``; absent values are left out.

    The counter does not choose the library (``library_code`` None): the Koha
    adapter sets the one the configuration names, or Koha's only library, when
    it sends the card — so a configuration fixed later reaches the cards waiting.

    The surname is the usage name when there is one (the name on the card;
    the adapter finds a card by birth name, then usage name). Koha needs a full
    birth date: unknown parts are typed 01, as librarians do. ``valid_until``
    is the card's expiry, fixed at confirmation so that every retry asks for the
    same date. A child is linked to the guarantor's patron record when it is
    known; otherwise a staff note asks the library to make the link.
    """
    given = _given_names(person)
    body: dict[str, Any] = {
        "surname": person.usage_name or person.birth_name,
        "firstname": given[0] if given else None,
        "middle_name": " ".join(given[1:]) or None,
        "date_of_birth": _birth(person).earliest().isoformat(),
        "gender": person.sex,
        "library_id": library_code or None,
        "category_id": request.category,
        "expiry_date": valid_until.isoformat() if valid_until else None,
        "email": getattr(person, "email", None),
        "phone": getattr(person, "phone", None),
    }
    if address is not None:
        number = " ".join(str(p) for p in (address.number, address.suffix) if p) if address.street else ""
        body.update(street_number=number or None, address=address.street or address.line,
                    address2=address.complement, postal_code=address.postal_code or None,
                    city=address.city or None)
    if guarantor_patron_id is not None:
        body["guarantor_id"] = guarantor_patron_id
    elif request.guarantor_id is not None:
        body["staff_notes"] = NO_GUARANTOR_NOTE
    return {k: v for k, v in body.items() if v is not None}


def card_notes(person: Any, guarantor: Any | None, today: date) -> dict:
    """What the relay needs to find the reader's and the guarantor's existing
    Koha records (by birth name, then usage name), never sent to Koha."""
    notes: dict[str, Any] = {"reader": contract_person(person), "on": today.isoformat()}
    if guarantor is not None:
        notes["guarantor"] = contract_person(guarantor)
        notes["relationship"] = relationship_of(guarantor)
    return notes


def relationship_of(guarantor: Any) -> str:
    """Koha's ``relationship_type`` as a French library configures it."""
    if getattr(guarantor, "role", "parent") in ("parent", "person"):
        return {"F": "mère", "M": "père"}.get(guarantor.sex, "tuteur")
    return "tuteur"


# -- the key -----------------------------------------------------------------------------------


def cancellation_key(visit_code: str, registration_id: int) -> str:
    """``counter-<visit code>-cancel-<registration id>``: a registration is cancelled at
    most once, so its cancellation has one key of its own (≤ 64 visible ASCII)."""
    code = _KEY_UNSAFE.sub("_", visit_code)[:MAX_KEY_CODE - 3] or "_"
    return f"counter-{code}-cancel-{int(registration_id)}"


def idempotency_key(visit_code: str, registration_id: int) -> str:
    """``counter-<visit code>-reg-<registration id>``: the same registration always gets
    the same key; the registration id alone is unique in one database, the visit
    code keeps two databases (training, production) apart. ≤ 64 visible ASCII."""
    code = _KEY_UNSAFE.sub("_", visit_code)[:MAX_KEY_CODE] or "_"
    return f"counter-{code}-reg-{int(registration_id)}"
