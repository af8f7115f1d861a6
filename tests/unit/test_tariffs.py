"""School prices by quotient familial and the crèche's CNAF effort rate, with the town's rules."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from counter.config import ConfigError, load_settings
from counter.domain.rules import DEFAULT_CRECHE, default_rules
from counter.domain.tariffs import (
    CrecheTariffRules,
    QfBracket,
    bracket_for,
    creche_quote,
    euros,
    school_quote,
)
from counter.runtime import resolve
from registrations.school.kind import SchoolRequest

NNBSP = "\u202f"
BRACKETS = (
    QfBracket(400, D("1.05"), D("0.80")),
    QfBracket(700, D("2.10"), D("1.40")),
    QfBracket(None, D("4.90"), D("3.10")),
)


def request(canteen=("lun", "mar", "jeu", "ven"), after_school=("lun", "jeu")) -> SchoolRequest:
    return SchoolRequest(person_id=1, school_year=2027, level="CP", school_id=3,
                         canteen_days=canteen, after_school_days=after_school)


@pytest.mark.parametrize("qf, up_to", [(0, 400), (400, 400), (401, 700), (700, 700), (701, None), (5000, None)])
def test_a_qf_at_a_bound_is_in_the_bracket_that_bound_closes(qf, up_to):
    assert bracket_for(qf, BRACKETS).up_to == up_to


def test_without_a_qf_the_family_pays_the_full_price_and_is_told_so():
    quote = school_quote(request(), None, None, BRACKETS)
    assert quote.bracket == BRACKETS[-1] and quote.full_price
    assert quote.basis == "sans quotient familial : tarif plein"
    assert not quote.declared


def test_school_quote_counts_meals_and_after_school_days():
    quote = school_quote(request(), 640, "CNAF", BRACKETS)
    canteen, after_school = quote.lines
    assert (canteen.unit_price, canteen.per_week, canteen.weekly) == (D("2.10"), 4, D("8.40"))
    assert (after_school.unit_price, after_school.per_week, after_school.weekly) == (D("1.40"), 2, D("2.80"))
    assert quote.weekly_total == D("11.20")
    assert quote.basis == "QF 640 (CAF)" and not quote.declared
    assert canteen.text == "Restauration scolaire : 2,10 € par repas × 4 = 8,40 € par semaine"


def test_a_declared_qf_is_marked_declared():
    quote = school_quote(request(), 640, "declared", BRACKETS)
    assert quote.basis == "QF 640 déclaré" and quote.declared
    assert school_quote(request(), 640, None, BRACKETS).declared  # nothing confirms it


def test_no_service_means_no_line_and_nothing_to_pay():
    quote = school_quote(request(canteen=(), after_school=()), 300, "MSA", BRACKETS)
    assert quote.lines == () and quote.weekly_total == 0
    assert quote.basis == "QF 300 (MSA)"


def test_default_brackets_are_ordered_and_end_open():
    brackets = default_rules().qf_brackets
    bounds = [b.up_to for b in brackets[:-1]]
    assert bounds == sorted(set(bounds)) and brackets[-1].up_to is None
    assert bracket_for(None, brackets).canteen == max(b.canteen for b in brackets)


# -- crèche ------------------------------------------------------------------------

RULES = CrecheTariffRules(DEFAULT_CRECHE.effort_rates, D("801.00"), D("8500.00"))


@pytest.mark.parametrize("children, rate", [
    (1, "0.0619"), (2, "0.0516"), (3, "0.0413"), (4, "0.0310"), (5, "0.0310"), (6, "0.0310"),
    (7, "0.0310"), (8, "0.0206"), (9, "0.0206"), (10, "0.0206"), (14, "0.0206"),
])
def test_the_cnaf_effort_rate_scale(children, rate):
    assert creche_quote(36_000, children, 0, RULES, False, 40).rate == D(rate)


def test_fewer_than_one_child_counts_as_one():
    assert creche_quote(36_000, 0, 0, RULES, False, 40).rate == D("0.0619")


def test_the_formula_reads_in_french_with_the_numbers():
    quote = creche_quote(40_923, 2, 0, RULES, False, 40)
    assert quote.monthly_resources == D("3410.25")
    assert quote.hourly == D("1.76")
    assert quote.formula == f"40{NNBSP}923 € / 12 = 3{NNBSP}410,25 € × 0,0516 % = 1,76 €/h"
    assert quote.clamped is None and quote.children_counted == 2


def test_monthly_estimate_is_hourly_times_weekly_hours_over_a_month():
    quote = creche_quote(40_923, 2, 0, RULES, True, 40)
    assert quote.monthly_estimate == D("305.07")  # 1,76 × 40 × 52 / 12 = 305,066…
    assert quote.declared


def test_resources_below_the_floor_are_raised_to_it():
    quote = creche_quote(6_000, 1, 0, RULES, False, 40)
    assert quote.clamped == "floor" and quote.monthly_resources == D("801.00")
    assert quote.hourly == D("0.50")  # 801 × 0,0619 % = 0,4958…
    assert "500,00 €, porté au plancher de 801,00 €" in quote.formula


def test_resources_above_the_ceiling_are_capped():
    quote = creche_quote(150_000, 1, 0, RULES, False, 40)
    assert quote.clamped == "ceiling" and quote.monthly_resources == D("8500.00")
    assert quote.hourly == D("5.26")  # 8 500 × 0,0619 % = 5,2615
    assert f"ramené au plafond de 8{NNBSP}500,00 €" in quote.formula


def test_exactly_at_the_floor_is_not_clamped():
    assert creche_quote(9_612, 1, 0, RULES, False, 40).clamped is None  # 9 612 / 12 = 801


def test_an_aeeh_child_moves_the_family_one_rate_down_once():
    quote = creche_quote(40_923, 2, 2, RULES, False, 40)
    assert quote.children_counted == 3 and quote.rate == D("0.0413")
    assert "AEEH" in quote.rate_basis
    assert creche_quote(40_923, 10, 1, RULES, False, 40).rate == D("0.0206")  # not beyond the last rate
    short = CrecheTariffRules((D("0.06"), D("0.05")), D("700"), D("7000"))
    assert creche_quote(40_923, 2, 1, short, False, 40).rate == D("0.05")


def test_euros_use_a_decimal_comma():
    assert euros(D("3.4")) == "3,40 €"
    assert euros(D("1234.5")) == f"1{NNBSP}234,50 €"


# -- configuration -----------------------------------------------------------------

TRAINING = 'mode = "training"\n'


def load(tmp_path, body: str):
    path = tmp_path / "counter.toml"
    path.write_text(TRAINING + body, encoding="utf-8")
    return load_settings(path)


def test_without_tables_the_rules_are_the_defaults(tmp_path):
    assert load(tmp_path, "").town_rules() == default_rules()


def test_configured_rules_reach_the_runtime(tmp_path, isolated_environment):
    path = tmp_path / "counter.toml"
    path.write_text(TRAINING + """
[[tariffs.qf_brackets]]
up_to = 500
canteen = 1.5
after_school = 1
[[tariffs.qf_brackets]]
canteen = 4.25
after_school = 3.1
[creche_tariff]
monthly_floor = 820.5
[library]
categories = [{ code = "A", label = "Adulte", price = 12.0 }, { code = "J", label = "Jeune", price = 0 }]
adult = "A"
minor = "J"
student = "J"
job_seeker = "J"
c2s = "J"
[printing]
printer = "accueil"
""", encoding="utf-8")
    rules = resolve(str(path), env={"COUNTER_HOME": str(isolated_environment)}).rules
    assert rules.qf_brackets == (QfBracket(500, D("1.5"), D("1")), QfBracket(None, D("4.25"), D("3.1")))
    assert rules.creche.monthly_floor == D("820.5") and rules.creche.monthly_ceiling == D("8500")
    assert rules.creche.effort_rates == DEFAULT_CRECHE.effort_rates
    assert rules.library.category("A").price == D("12") and rules.library.minor == "J"
    assert rules.printer == "accueil"
    assert resolve(None, env={"COUNTER_HOME": str(isolated_environment)}).rules is None


BRACKET = "[[tariffs.qf_brackets]]\n"


@pytest.mark.parametrize("body, message", [
    (BRACKET + "up_to = 400\ncanteen = 1\nafter_school = 1\n", "key 'tariffs.qf_brackets': the last bracket has no up_to"),
    (BRACKET + "up_to = 400\ncanteen = 1\nafter_school = 1\n" + BRACKET + "up_to = 400\ncanteen = 2\nafter_school = 2\n"
     + BRACKET + "canteen = 3\nafter_school = 3\n", "key 'tariffs.qf_brackets': bracket 2: up_to = 400 must be above"),
    (BRACKET + "canteen = 1\nafter_school = 1\n" + BRACKET + "canteen = 3\nafter_school = 3\n",
     "key 'tariffs.qf_brackets': bracket 1: only the last bracket may leave out up_to"),
    (BRACKET + "canteen = 1.055\nafter_school = 1\n", "key 'tariffs.qf_brackets.0.canteen': 1.055 has fractions of a cent"),
    (BRACKET + "canteen = -1\nafter_school = 1\n", "key 'tariffs.qf_brackets.0.canteen'"),
    (BRACKET + "canteen = 1\n", "missing key 'tariffs.qf_brackets.0.after_school'"),
    ("[creche_tariff]\neffort_rates = [0.0516, 0.0619]\n", "key 'creche_tariff.effort_rates': rate 2 = 0.0619 is above"),
    ("[creche_tariff]\neffort_rates = [6.19]\n", "key 'creche_tariff.effort_rates': rate 1 = 6.19: a percentage"),
    ("[creche_tariff]\neffort_rates = [0.0619, 0]\n", "key 'creche_tariff.effort_rates': rate 2 = 0"),
    ("[creche_tariff]\nmonthly_floor = 9000\n", "key 'creche_tariff': monthly_floor (9000.0) must be below"),
    ("[creche_tariff]\nmonthly_celing = 9000\n", "unknown key 'creche_tariff.monthly_celing'"),
    ('[library]\nc2s = "RSA"\n', "key 'library.c2s': 'RSA' is not one of the categories"),
    ('[library]\ncategories = [{ code = "A", label = "Adulte", price = 15 }]\nminor = "A"\nstudent = "A"\n'
     'job_seeker = "A"\nc2s = "A"\n', "key 'library.adult': 'ADULTE' is not one of the categories (A)"),
    ('[library]\ncategories = [{ code = "A", label = "a", price = 1 }, { code = "A", label = "b", price = 0 }]\n',
     "key 'library.categories': code A given twice"),
    ('[library]\ncategories = [{ code = "A", label = "a", price = -2 }]\n', "key 'library.categories.0.price'"),
    ('[library]\nsenior_age = 65\n', "key 'library': senior and senior_age go together"),
    ('[printing]\nprinter = "accueil rdc"\n', "key 'printing.printer': not a CUPS printer name"),
    ('[printing]\nprinter = "-oraw"\n', "key 'printing.printer': not a CUPS printer name"),
])
def test_bad_rules_are_refused_naming_the_key(tmp_path, body, message):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, body)
    assert message in str(error.value)
    assert "counter.toml" in str(error.value)
