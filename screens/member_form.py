"""One member's identity, as civil status gives it: the form the new family and
the dossier's corrections (a child the CAF knows) both open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Select

from counter.domain.identity_checks import FRANCE, PersonInput
from screens.forms import FormScreen
from screens.widgets import Dropdown, SafeInput

ROLE_CHOICES = [("Parent", "parent"), ("Enfant", "child"), ("Autre responsable légal", "other_guardian")]
SEX_CHOICES = [("Féminin (F)", "F"), ("Masculin (M)", "M")]


class MemberForm(FormScreen[PersonInput]):
    """One member's identity as civil status gives it; errors at the field."""

    TITLE_TEXT = "Membre du foyer"
    # Someone already listed: said at the foot, the names to check first.
    FIELD_WIDGETS = {"members": "birth_name"}

    def __init__(self, member: PersonInput | None = None, check=None, on_edit=None, title: str | None = None) -> None:
        super().__init__(on_edit)
        self.member = member or PersonInput(role="parent")
        self.check = check  # (PersonInput) -> list[FieldError]
        if title:
            self.TITLE_TEXT = title

    def fields(self) -> ComposeResult:
        m = self.member
        yield self.label("Rôle dans le foyer")
        yield Dropdown(ROLE_CHOICES, id="role", compact=True, allow_blank=False,
                       value=m.role if m.role in dict(ROLE_CHOICES).values() else "parent")
        yield self.error("role")
        yield self.label("Nom de naissance")
        yield SafeInput(m.birth_name, id="birth_name", compact=True, max_length=120)
        yield self.error("birth_name")
        yield self.label("Nom d'usage (facultatif : nom marital…)")
        yield SafeInput(m.usage_name, id="usage_name", compact=True, max_length=120)
        yield self.error("usage_name")
        yield self.label("Prénoms dans l'ordre de l'état civil (espaces, ou virgules)")
        yield SafeInput(m.given_names, id="given_names", compact=True, max_length=200, placeholder="ex. : Léa Marie")
        yield self.error("given_names")
        yield self.label("Sexe à l'état civil")
        yield Dropdown(SEX_CHOICES, id="sex", prompt="Choisir F ou M", compact=True,
                       value=m.sex if m.sex in ("F", "M") else Select.NULL)
        yield self.error("sex")
        yield self.label("Date de naissance : jj/mm/aaaa (mm/aaaa ou aaaa si incomplète)")
        yield SafeInput(m.birth_date, id="birth_date", compact=True, max_length=10, placeholder="jj/mm/aaaa")
        yield self.error("birth_date")
        yield self.label("Pays de naissance : code INSEE (99100 = France)")
        yield SafeInput(m.birth_country_code, id="birth_country_code", compact=True, max_length=5)
        yield self.error("birth_country_code")
        if m.birthplace_to_complete:
            yield self.label("Commune de naissance : code INSEE ; vide si inconnue (à compléter)")
        else:
            yield self.label("Commune de naissance : code INSEE (45234, 2A004) ; vide si à l'étranger")
        yield SafeInput(m.birth_insee_code, id="birth_insee_code", compact=True, max_length=5)
        yield self.error("birth_insee_code")

    def collect(self) -> tuple[PersonInput, list]:
        return PersonInput(
            role=self.value("#role"), birth_name=self.value("#birth_name"), usage_name=self.value("#usage_name"),
            given_names=self.value("#given_names"), sex=self.value("#sex"), birth_date=self.value("#birth_date"),
            birth_country_code=self.value("#birth_country_code") or FRANCE,
            birth_insee_code=self.value("#birth_insee_code"),
            birthplace_to_complete=self.member.birthplace_to_complete,
        ), []
