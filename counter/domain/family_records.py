"""Families as the town's family system describes them: the common shape of an
import file's rows (``counter import families``) and of the change feed's
entries (``GET /v1/changes``), before they are checked and written.

Identifiers are the family system's own (``source_id``): re-importing or
syncing matches on them, so the same family is updated, never duplicated.
Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.dates import BirthDate


@dataclass(frozen=True, slots=True)
class SourceAddress:
    """Where a family lives: a BAN address of the town when the source gives its id or
    a street and number the counter's addresses know; otherwise a line elsewhere."""

    ban_id: str | None = None
    number: int | None = None
    suffix: str | None = None  # bis, ter, a…
    street: str | None = None  # the street's name as the source spells it
    complement: str | None = None
    line: str | None = None  # an address outside the town
    postal_code: str = ""
    city: str = ""


@dataclass(frozen=True, slots=True)
class SourcePerson:
    source_id: str
    role: str  # parent | child | other_guardian (counter.store.models.Role)
    birth_name: str
    given_names: tuple[str, ...]
    sex: str  # M | F
    birth: BirthDate  # partial dates allowed
    usage_name: str | None = None
    birth_insee_code: str | None = None
    birth_country_code: str = "99100"
    nir: str | None = None
    phone: str | None = None
    email: str | None = None
    # A member living elsewhere (a separated parent): their own address; None lives
    # at the family's.
    address: SourceAddress | None = None


@dataclass(frozen=True, slots=True)
class SourceFamily:
    """One household, whole: a family is written entirely or not at all."""

    source_id: str
    members: tuple[SourcePerson, ...]
    address: SourceAddress | None = None
    caf_number: str | None = None
