"""Place-name keys: the spellings an analyst meets for one Korean place compare equal."""

from __future__ import annotations

import pytest

from sitewatch.verify.names import matching_name, name_key, name_keys, romanise_hangul


def test_hangul_is_romanised_syllable_by_syllable() -> None:
    assert romanise_hangul("신오리") == "sinori"
    assert romanise_hangul("금천리") == "geumcheonri"
    assert romanise_hangul("깃대령") == "gitdaeryeong"
    assert romanise_hangul("Sohae 발사장") == "Sohae balsajang"


@pytest.mark.parametrize(
    "spellings",
    [
        ("Sino-ri", "Sinori", "Sin-o-ri", "신오리", "SINO RI", "Sino'ri"),
        ("Kumchon-ni", "Kŭmch'ŏn-ni", "Geumcheon-ri", "금천리"),
        ("Sil-li", "신리", "Sinri"),
        ("Yongrim", "Yongnim", "용림"),
        ("Kittaeryong", "깃대령"),
        ("Chiha-ri", "Jiha-ri", "지하리"),
        ("Tongchang-ri", "Dongchang-ri", "동창리"),
    ],
)
def test_transliterations_share_a_key(spellings: tuple[str, ...]) -> None:
    assert len({name_key(s) for s in spellings}) == 1, {s: name_key(s) for s in spellings}


def test_different_places_keep_different_keys() -> None:
    keys = {name_key(n) for n in ("Sino-ri", "Sinpo", "Sinpung-dong", "Sangnam-ni", "Sil-li")}
    assert len(keys) == 5


def test_generic_words_and_parentheses_are_optional() -> None:
    assert name_key("Sino-ri") in name_keys("Sino-ri Missile Operating Base")
    assert name_key("Ridgeview range") in name_keys("Ridgeview range (synthetic)")
    assert matching_name("풍계리", ["Punggye-ri Nuclear Test Site"]) is not None
    assert matching_name("Sinpo", ["Sino-ri", "Sinori"]) is None
    assert name_keys("Base") == {name_key("Base")}  # nothing but generic words: kept as is
