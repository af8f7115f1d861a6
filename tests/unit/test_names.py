from counter.domain.names import fold, name_tokens, person_tokens, query_token, split_given_names


def test_fold_strips_case_accents_and_ligatures():
    assert fold("Gérôme") == "gerome"
    assert fold("ÉLOÏSE") == "eloise"
    assert fold("Cœur") == "coeur"
    assert fold("Noël François") == "noel francois"


def test_compound_names_are_indexed_by_part_and_joined():
    assert name_tokens("de La Fontaine") == ["de", "la", "fontaine", "delafontaine"]
    assert name_tokens("N'Diaye") == ["n", "diaye", "ndiaye"]
    assert name_tokens("Jean-Philippe") == ["jean", "philippe", "jeanphilippe"]
    assert name_tokens("LE GALL") == ["le", "gall", "legall"]
    assert name_tokens("Martin") == ["martin"]


def test_typed_words_drop_inner_separators_to_meet_the_joined_tokens():
    assert query_token("N'Diaye") == "ndiaye"
    assert query_token("jean-ph") == "jeanph"
    assert query_token("Dupont-Moreau") == "dupontmoreau"
    assert query_token("'") == ""


def test_person_tokens_cover_birth_usage_and_given_names_once():
    tokens = person_tokens("LEFEBVRE", "MARTIN", ["Alexis", "Gérôme", "Jean-Philippe"])
    assert tokens == ["lefebvre", "martin", "alexis", "gerome", "jean", "philippe", "jeanphilippe"]
    assert person_tokens("MARTIN", "MARTIN", ["Pierre"]) == ["martin", "pierre"]


def test_given_names_keep_civil_status_order():
    assert split_given_names("Alexis, Gérôme, Jean-Philippe") == ["Alexis", "Gérôme", "Jean-Philippe"]
    assert split_given_names("Marie Davida") == ["Marie Davida"]
