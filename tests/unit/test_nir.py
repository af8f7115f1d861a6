import pytest

from counter.domain.nir import NirCheck, check_nir, format_nir, looks_like_nir, mask_nir, nir_key, with_key


def test_the_published_example_is_valid():
    assert check_nir("2 55 08 14 168 025 38") is NirCheck.VALID
    assert nir_key("2550814168025") == 38


def test_a_wrong_key_is_detected():
    assert check_nir("2 55 08 14 168 025 39") is NirCheck.BAD_KEY


@pytest.mark.parametrize("dept, offset", [("2A", 1_000_000), ("2B", 2_000_000)])
def test_corsica_keys_follow_both_official_formulations(dept, offset):
    body = f"18412{dept}004123"
    # Second formulation: read 2A/2B as 20, then subtract 1,000,000 / 2,000,000.
    as_twenty = int(body.replace(dept, "20")) - offset
    assert nir_key(body) == 97 - as_twenty % 97
    assert check_nir(with_key(body)) is NirCheck.VALID
    assert check_nir(body + f"{(nir_key(body) % 97) + 1:02d}") is NirCheck.BAD_KEY


def test_shapes():
    assert looks_like_nir("1 84 12 2A 004 123 45")
    assert looks_like_nir("2550814168025")  # body without key
    assert not looks_like_nir("9 55 08 14 168 025 38")  # no such sex digit
    assert not looks_like_nir("25508141680")
    assert check_nir("12345") is NirCheck.MALFORMED
    assert check_nir("2550814168025") is NirCheck.NO_KEY


def test_display_and_mask():
    assert format_nir("255081416802538") == "2 55 08 14 168 025 38"
    masked = mask_nir("255081416802538")
    assert masked.startswith("2 55 08")
    assert "168" not in masked and "38" not in masked.replace("2 55 08", "")
