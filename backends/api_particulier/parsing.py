"""API Particulier v3 success bodies → facts.

Every read is typed: a missing field, or a string where a number belongs,
raises :class:`Malformed` naming the field (never its value: values are
personal data), which the adapter reports as BAD_RESPONSE. Booleans are not
accepted as numbers (``True`` is an ``int`` in Python).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from counter.backend import (
    EajeInputs,
    Family,
    FamilyMember,
    HealthCover,
    JobSeeker,
    PostalAddress,
    QuotientFamilial,
    Schooling,
)

_MISSING = object()


class Malformed(Exception):
    """A success body that does not have the documented shape; ``field`` is its path."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class _Obj:
    """A JSON object read field by field, with the path kept for messages."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise Malformed(path)
        self.value = value
        self.path = path

    def _get(self, key: str, optional: bool) -> Any:
        value = self.value.get(key, _MISSING)
        if value is _MISSING or value is None:
            if optional:
                return None
            raise Malformed(self._at(key))
        return value

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def obj(self, key: str, optional: bool = False) -> _Obj | None:
        value = self._get(key, optional)
        return None if value is None else _Obj(value, self._at(key))

    def items(self, key: str) -> list[_Obj]:
        value = self._get(key, False)
        if not isinstance(value, list):
            raise Malformed(self._at(key))
        return [_Obj(item, f"{self._at(key)}[{i}]") for i, item in enumerate(value)]

    def integer(self, key: str, optional: bool = False) -> int | None:
        value = self._get(key, optional)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Malformed(self._at(key))
        return value

    def boolean(self, key: str, optional: bool = False) -> bool | None:
        value = self._get(key, optional)
        if value is not None and not isinstance(value, bool):
            raise Malformed(self._at(key))
        return value

    def text(self, key: str, optional: bool = False) -> str | None:
        value = self._get(key, optional)
        if value is not None and not isinstance(value, str):
            raise Malformed(self._at(key))
        return value

    def day(self, key: str, optional: bool = False) -> date | None:
        text = self.text(key, optional)
        if text is None:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise Malformed(self._at(key)) from None

    def lenient_date(self, key: str) -> date | None:
        """A birth date where civil status may lack parts ("1987-06-00"): None then."""
        text = self.text(key, optional=True)
        try:
            return date.fromisoformat(text[:10]) if text else None
        except ValueError:
            return None


def _data(body: Any) -> _Obj:
    return _Obj(body, "").obj("data")


def _clean(text: str | None) -> str | None:
    text = " ".join(text.split()) if text else ""
    return text or None


def _member(item: _Obj) -> FamilyMember:
    return FamilyMember(
        birth_name=item.text("nom_naissance"),
        given_names=item.text("prenoms"),
        birth_date=item.lenient_date("date_naissance"),
        sex=item.text("sexe", optional=True),
        usage_name=_clean(item.text("nom_usage", optional=True)),
    )


def _split_city(text: str) -> tuple[str, str]:
    """``"75002 PARIS"`` → ("75002", "PARIS"); ``"75002"`` → ("75002", "")."""
    text = " ".join(text.split())
    match = re.fullmatch(r"(\d[0-9AB]\d{3})(?: (.*))?", text)  # 2A/2B: Corsica
    if match:
        return match.group(1), match.group(2) or ""
    return "", text


def _caf_address(item: _Obj | None) -> PostalAddress | None:
    if item is None:
        return None
    postal_code, city = _split_city(item.text("code_postal_ville", optional=True) or "")
    complements = [item.text(k, optional=True) for k in
                   ("complement_information", "complement_information_geographique")]
    street = item.text("numero_libelle_voie", optional=True)
    place = item.text("lieu_dit", optional=True)
    if not street:
        street, place = place, None
    else:
        complements.append(place)
    return PostalAddress(
        street_line=_clean(street) or "",
        postal_code=postal_code,
        city=city,
        complement=_clean(", ".join(c for c in complements if c)),
        country=_clean(item.text("pays", optional=True)),
    )


def _family(data: _Obj) -> Family:
    return Family(
        adults=tuple(_member(m) for m in data.items("allocataires")),
        children=tuple(_member(m) for m in data.items("enfants")),
        address=_caf_address(data.obj("adresse", optional=True)),
    )


def _month_start(year: int, month: int, field: str) -> date:
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:
        raise Malformed(field)
    return date(year, month, 1)


# -- one function per section: (facts, the agency's "as of" date) -------------------


def quotient_familial(body: Any) -> tuple[tuple, date | None]:
    data = _data(body)
    qf = data.obj("quotient_familial")
    year, month = qf.integer("annee"), qf.integer("mois")
    as_of = _month_start(year, month, "data.quotient_familial.mois")
    fact = QuotientFamilial(value=qf.integer("valeur"), provider=qf.text("fournisseur"), year=year, month=month)
    return (fact, _family(data)), as_of


def c2s(body: Any) -> tuple[tuple, date | None]:
    data = _data(body)
    fact = HealthCover(
        beneficiary=data.boolean("est_beneficiaire"),
        with_participation=data.boolean("avec_participation", optional=True),
        since=data.day("date_debut_droit", optional=True),
    )
    return (fact,), None


def eaje(body: Any) -> tuple[tuple, date | None]:
    data = _data(body)
    inputs = data.obj("parametres_calcul_participation_familiale")
    resources = inputs.obj("base_ressources_annuelles", optional=True)
    value = resources.integer("valeur", optional=True) if resources else None
    year = resources.integer("annee_calcul", optional=True) if resources else None
    as_of = _month_start(year, 1, "data.parametres_calcul_participation_familiale."
                                  "base_ressources_annuelles.annee_calcul") if year is not None else None
    fact = EajeInputs(
        children_in_charge=inputs.integer("nombre_enfants_a_charge"),
        aeeh_children=inputs.integer("nombre_enfants_beneficiaire_aeeh"),
        annual_resources=value,
        resources_year=year,
    )
    return (fact, _family(data)), as_of


def _france_travail_address(item: _Obj | None) -> PostalAddress | None:
    if item is None:
        return None
    postal_code = item.text("code_postal", optional=True) or ""
    code, city = _split_city(item.text("localite", optional=True) or "")
    complements = [item.text(k, optional=True) for k in
                   ("ligne_complement_destinataire", "ligne_complement_adresse", "ligne_complement_distribution")]
    return PostalAddress(
        street_line=_clean(item.text("ligne_voie", optional=True)) or "",
        postal_code=postal_code or code,
        city=city,
        complement=_clean(", ".join(c for c in complements if c)),
    )


def france_travail(body: Any, today: date) -> tuple[tuple, date | None]:
    data = _data(body)
    registration = data.obj("inscription", optional=True)
    address = _france_travail_address(data.obj("adresse", optional=True))
    if registration is None:
        return (JobSeeker(registered=False, address=address),), None
    since = registration.day("date_debut")
    until = registration.day("date_fin", optional=True)
    category = registration.obj("categorie", optional=True)
    fact = JobSeeker(
        registered=until is None or until >= today,
        since=since,
        until=until,
        category=_clean(category.text("libelle", optional=True)) if category else None,
        address=address,
    )
    return (fact,), None


def _school_year(text: str) -> str:
    """The API accepts and answers "2025" or "2025-2026"; the counter shows the latter."""
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-{int(text) + 1}"
    if re.fullmatch(r"\d{4}-\d{4}", text):
        return text
    raise Malformed("data.annee_scolaire")


def scolarite(body: Any) -> tuple[tuple, date | None]:
    data = _data(body)
    school = data.obj("etablissement", optional=True)
    training = data.obj("module_elementaire_formation", optional=True)
    status = data.obj("statut_eleve", optional=True)
    level = data.integer("echelon_bourse", optional=True)
    fact = Schooling(
        enrolled=data.boolean("est_scolarise"),
        school_name=_clean(school.text("nom", optional=True)) if school else None,
        uai=school.text("code_uai", optional=True) if school else None,
        school_year=_school_year(data.text("annee_scolaire")),
        level=_clean(training.text("libelle", optional=True)) if training else None,
        status=_clean(status.text("libelle", optional=True)) if status else None,
        scholarship=data.boolean("est_boursier", optional=True),
        scholarship_level=level,
    )
    return (fact,), None
