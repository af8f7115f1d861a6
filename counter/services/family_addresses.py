"""Where a family from the family system lives, found among the town's addresses.

A source address is, in this order: a BAN address of the town by its id; a street
of the town (its name folded, its postal code) and a number, which must be one
of the BAN's numbers for that street when the BAN was imported; else, when its
postal code is none of the town's, a line outside the town. Each answer is the
columns of an ``address`` row, or the reasons (French, English) it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from counter.domain.family_checks import Reason, english
from counter.domain.family_records import SourceAddress
from counter.domain.identity_checks import check_address, check_other_address
from counter.services.sector_import import street_key
from counter.store.models import Street, TownAddress


@dataclass(frozen=True, slots=True)
class AddressFields:
    """The columns of an ``address`` row (compared to decide whether a family moved)."""

    street_id: int | None
    number: int | None
    suffix: str | None
    complement: str | None
    line: str | None
    postal_code: str
    city: str
    ban_id: str | None

    @classmethod
    def of_row(cls, row) -> AddressFields:
        return cls(row.street_id, row.number, row.suffix, row.complement, row.line, row.postal_code, row.city,
                   row.ban_id)

    def columns(self) -> dict:
        return {"street_id": self.street_id, "number": self.number, "suffix": self.suffix,
                "complement": self.complement, "line": self.line, "postal_code": self.postal_code,
                "city": self.city, "ban_id": self.ban_id}


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


@dataclass(frozen=True, slots=True)
class _Street:
    id: int
    name: str
    postal_code: str
    city: str


@dataclass(frozen=True, slots=True)
class _Town:
    ban_id: str
    street_id: int
    number: int | None
    suffix: str | None
    postal_code: str


class AddressBook:
    """The town's streets and BAN addresses, read once from the session and kept
    (an import or a sync pass resolves thousands of addresses with one read)."""

    def __init__(self, session) -> None:
        # Plain copies: the book outlives the session (an import commits batch after batch).
        self._streets: dict[tuple[str, str], _Street] = {}
        self._street_by_id: dict[int, _Street] = {}
        columns = (Street.id, Street.name, Street.postal_code, Street.city)
        for row in session.execute(select(*columns).order_by(Street.retired, Street.id)):
            street = _Street(*row)
            name, postal_code, _city = street_key(street.name, street.postal_code, street.city)
            self._streets.setdefault((name, postal_code), street)
            self._street_by_id[street.id] = street
        self.postal_codes = {s.postal_code for s in self._street_by_id.values()}
        self._by_ban: dict[str, _Town] = {}
        self._by_number: dict[tuple[int, int | None, str | None], _Town] = {}
        self._numbered_streets: set[int] = set()
        columns = (TownAddress.ban_id, TownAddress.street_id, TownAddress.number, TownAddress.suffix,
                   TownAddress.postal_code)
        for row in session.execute(select(*columns).order_by(TownAddress.retired, TownAddress.id)):
            address = _Town(*row)
            self._by_ban[address.ban_id] = address
            self._by_number.setdefault((address.street_id, address.number, (address.suffix or None) and
                                        address.suffix.lower()), address)
            self._numbered_streets.add(address.street_id)

    def resolve(self, source: SourceAddress, who: str | None = None) -> tuple[AddressFields | None, list[Reason]]:
        complement = _clean(source.complement)
        if source.ban_id:
            town = self._by_ban.get(source.ban_id.strip())
            if town is not None:
                return self._town_fields(town, complement), []
            if not source.street:
                return None, [Reason("ban_id", "Identifiant BAN inconnu de la ville (importez les adresses "
                                                "d'abord : counter import addresses).",
                                     "BAN id unknown to the town (import the addresses first: "
                                     "counter import addresses)", who)]
        postal_code = (source.postal_code or "").strip()
        suffix = (_clean(source.suffix) or "").lower() or None
        if source.street:
            name, _pc, _city = street_key(source.street, postal_code, source.city or "")
            street = self._streets.get((name, postal_code))
            if street is not None:
                return self._in_street(street, source.number, suffix, complement, who)
            if postal_code in self.postal_codes:
                return None, [Reason("street", "Cette rue n'est pas dans la liste des rues de la ville.",
                                     "this street is not in the town's street list", who)]
            number = f"{source.number}{' ' + suffix if suffix else ''} " if source.number is not None else ""
            return self._elsewhere(f"{number}{_clean(source.street)}", postal_code, source.city, complement, who)
        if source.line:
            return self._elsewhere(_clean(source.line), postal_code, source.city, complement, who)
        return None, [Reason("street", "Adresse incomplète : la rue (ou l'identifiant BAN) manque.",
                             "incomplete address: the street (or the BAN id) is missing", who)]

    def _town_fields(self, town: _Town, complement: str | None) -> AddressFields:
        street = self._street_by_id[town.street_id]
        return AddressFields(street.id, town.number, town.suffix or None, complement, None, town.postal_code,
                             street.city, town.ban_id)

    def _in_street(self, street: _Street, number: int | None, suffix: str | None, complement: str | None,
                   who: str | None) -> tuple[AddressFields | None, list[Reason]]:
        if street.id in self._numbered_streets:
            town = self._by_number.get((street.id, number, suffix))
            if town is None:
                shown = f"{number or ''}{' ' + suffix if suffix else ''}".strip() or "sans numéro"
                return None, [Reason("number", f"Le numéro {shown} n'est pas une adresse de cette rue dans la "
                                               "Base Adresse Nationale.",
                                     f"number {shown if number else 'missing'}: not an address of this street in "
                                     "the Base Adresse Nationale", who)]
            return self._town_fields(town, complement), []
        errors = check_address(street.id, number, suffix, complement, street.name)
        if errors:
            return None, [Reason(e.field, e.message, english(e.message, e.field), who) for e in errors]
        return AddressFields(street.id, number, suffix, complement, None, street.postal_code, street.city,
                             None), []

    @staticmethod
    def _elsewhere(line: str | None, postal_code: str, city: str | None, complement: str | None,
                   who: str | None) -> tuple[AddressFields | None, list[Reason]]:
        errors = check_other_address(line, postal_code, city, complement)
        if errors:
            return None, [Reason(e.field, e.message, english(e.message, e.field), who) for e in errors]
        return AddressFields(None, None, None, complement, line, postal_code, _clean(city) or "", None), []
