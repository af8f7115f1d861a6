from counter.domain.ranking import Match, is_near, match_word, rank_key


def test_exact_beats_prefix_beats_near():
    assert match_word("roux", ["roux", "jeanne"]) == (Match.EXACT, 0)
    assert match_word("roux", ["rouxel", "jeanne"]) == (Match.PREFIX, 2)
    assert match_word("lefevre", ["lefebvre"])[0] is Match.NEAR
    exact = rank_key(["martin", "pierre"], "MARTIN", None, ["Pierre"])
    prefix = rank_key(["martin", "pierre"], "MARTINEAU", None, ["Pierre"])
    near = rank_key(["martin", "pierre"], "MARTAIN", None, ["Pierre"])
    assert exact < prefix < near


def test_every_word_must_match():
    assert rank_key(["martin", "zoe"], "MARTIN", None, ["Pierre"]) is None


def test_closer_completion_ranks_first():
    assert rank_key(["mar"], "MARC", None, ["Jean"]) < rank_key(["mar"], "MARTINEZ", None, ["Jean"])


def test_typos_only_for_names_of_five_letters_or_more():
    assert is_near("lefbvre", "lefebvre")
    assert not is_near("rux", "roux")  # 4-letter name: no typo matching
    assert is_near("gerome", "jerome")  # phonetic


def test_the_surname_a_person_goes_by_comes_first():
    from counter.domain.ranking import rank_key

    people = {
        "ROUX Anne": rank_key(["roux"], "ROUX", None, ["Anne"]),
        "ARNAUD née ROUX": rank_key(["roux"], "ROUX", "ARNAUD", ["Laurence"]),
        "ROUX née BLANC": rank_key(["roux"], "BLANC", "ROUX", ["Zoé"]),
        "BLANC ROUX": rank_key(["roux"], "BLANC ROUX", None, ["Inès"]),
        "given name Roux": rank_key(["roux"], "ABADIE", None, ["Roux"]),
        "ROUXEL": rank_key(["roux"], "ROUXEL", None, ["Marc"]),
    }
    order = sorted(people, key=people.get)
    assert order == ["ROUX Anne", "ROUX née BLANC", "ARNAUD née ROUX", "BLANC ROUX", "given name Roux", "ROUXEL"]
    assert rank_key(["zoe"], "ROUX", None, ["Anne"]) is None


def test_the_first_given_name_outranks_the_others():
    from counter.domain.ranking import rank_key

    jeanne = rank_key(["roux", "jea"], "ROUX", None, ["Jeanne", "Stéphanie"])
    ethan = rank_key(["roux", "jea"], "ROUX", None, ["Éthan", "Émile", "Jean"])
    assert jeanne < ethan


def test_a_surname_and_a_first_given_name_beat_two_surnames():
    from counter.domain.ranking import rank_key

    people = {
        "ROUX Jade": rank_key(["roux", "j"], "ROUX", None, ["Jade"]),
        "JOLY-ROUX née ROUX Claire": rank_key(["roux", "j"], "ROUX", "JOLY-ROUX", ["Claire"]),
        "ROUX née JOLY Marie": rank_key(["roux", "j"], "JOLY", "ROUX", ["Marie"]),
    }
    assert min(people, key=people.get) == "ROUX Jade"


def test_a_single_word_prefers_surnames_to_given_names():
    from counter.domain.ranking import rank_key

    surname = rank_key(["martin"], "DUPONT", "MARTIN", ["Anne"])
    born = rank_key(["martin"], "MARTIN", "DUPONT", ["Anne"])
    given = rank_key(["martin"], "ANTOINE", None, ["Martin"])
    assert surname < born < given
