"""Which four-character slices of a search word are asked of the gram index."""

from __future__ import annotations

from crmgraph.persistence.crm_lists import GRAMS_OF_FIRST, likely_share, slices
from crmgraph.persistence.gram_stats import telling_grams


def test_a_word_is_sliced_into_every_four_characters_of_its_head() -> None:
    assert slices("nakamura") == ["naka", "akam", "kamu", "amur", "mura"]
    assert slices("abc") == []
    assert len(slices("x" * 100)) == GRAMS_OF_FIRST - 3


def test_without_statistics_every_distinct_slice_is_asked_for() -> None:
    assert telling_grams(["abab", "baba", "abab"], {}) == ["abab", "baba"]


def test_common_slices_are_left_out_but_the_two_rarest_are_kept() -> None:
    # As at a million contacts; "ra-l" is not in the statistics: rarer than any that is.
    frequencies = {"naka": 0.134, "akam": 0.07, "kamu": 0.069, "amur": 0.069, "mura": 0.069,
                   "ura-": 0.029, "a-le": 0.006, "-lee": 0.028}  # fmt: skip
    grams = slices("nakamura-lee")
    assert telling_grams(grams, frequencies) == ["ra-l", "a-le", "-lee", "ura-"]
    everywhere = dict.fromkeys(slices("example"), 0.9)
    assert sorted(telling_grams(slices("example"), everywhere)) == ["exam", "xamp"]
    assert telling_grams(["fisc", "cher"], {"fisc": 0.5, "cher": 0.6}) == ["fisc", "cher"]


def test_the_likely_share_of_a_search_is_its_words_rarest_slices_multiplied() -> None:
    frequencies = {"exam": 0.9, "xamp": 0.95, "ampl": 0.9, "mple": 0.9, "gmai": 0.5, "mail": 0.6}
    assert likely_share(["example"], frequencies) == 0.9
    assert likely_share(["example", "gmail"], frequencies) == 0.9 * 0.5
    # A slice not in the statistics is rare, a short word has no slices to tell.
    assert likely_share(["examples"], frequencies) == 0.0
    assert likely_share(["example", "lee"], frequencies) == 0.0
    assert likely_share(["example"], {}) == 0.0
