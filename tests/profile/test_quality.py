"""Profile quality figures (issue 33): sentence ends, invented personal data, grounding."""

from __future__ import annotations

import numpy as np
import pytest

from profilerec.profile.quality import (
    ends_mid_sentence,
    grounding,
    personal_details,
    profile_quality,
    trim_to_sentence,
    words,
)

HISTORY = "Lavender Soap Bar by Dr. Bronner natural soap\nGift set for Emily Rose (review: love it)"
ITEMS = ["Lavender Soap Bar", "Rose shampoo with argan oil", "Gift set", "Vanilla body lotion"]


def test_sentence_ends() -> None:
    assert not ends_mid_sentence("Likes soap.")
    assert not ends_mid_sentence('She said "great!"  ')
    assert ends_mid_sentence("Likes soap and")
    assert ends_mid_sentence("")
    assert trim_to_sentence("Likes soap. Wants lotion. Also buys 2") == "Likes soap. Wants lotion."
    assert trim_to_sentence("Lists:\n1. Soap.\n\n3") == "Lists:\n1. Soap."
    assert trim_to_sentence("Likes soap.") == "Likes soap."
    assert trim_to_sentence("no sentence end at all") == "no sentence end at all"
    assert trim_to_sentence("Costs 2.5 dollars and") == "Costs 2.5 dollars and"  # no boundary


def test_personal_details_absent_from_the_history() -> None:
    profile = (
        "The Customer: Alex Chen, 28 year old. Customer Name: Sarah Smith. Bought on "
        "January 9th, 2023 and 2022-09-28; mail alex@example.com. Likes Dr. Bronner soap, "
        "a gift for Emily Rose."
    )
    found = personal_details(profile, HISTORY)
    assert found["name"] == ["Alex Chen", "Sarah Smith"]  # Dr. Bronner, Emily Rose: in history
    assert found["date"] == ["January 9th, 2023", "2022-09-28"]
    assert found["email"] == ["alex@example.com"]
    assert found["age"] == ["28 year old"]
    clean = "This shopper likes lavender soap and natural products. Next: a body lotion."
    assert personal_details(clean, HISTORY) == {}
    assert personal_details("Customer Name: Product", HISTORY) == {}  # labels are not names


def test_grounding_counts_catalogue_words_found_in_the_history() -> None:
    vocabulary = set().union(*(words(t) for t in ITEMS))
    # product words: lavender, soap, rose, shampoo (catalogue); "lovely" is not one
    assert grounding("Lovely lavender soap, rose shampoo.", HISTORY, vocabulary) == 0.75
    assert grounding("A lovely person.", HISTORY, vocabulary) is None


def test_profile_quality_block() -> None:
    profiles = [
        "The Customer: Alex Chen likes lavender soap.",
        "Likes rose shampoo and vanilla lotion, and",
        "Likes lavender soap. Wants a gift set.",
        "",
    ]
    vecs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    q = profile_quality(profiles, [HISTORY] * 4, ITEMS, vecs)
    assert q["n"] == 4
    assert q["cut_mid_sentence"] == 0.5  # the second and the empty one
    assert q["invented_personal"] == 0.25 and q["invented_by_kind"]["name"] == 0.25
    assert q["invented_example"] == "name: Alex Chen"
    assert q["mean_words"] == pytest.approx(np.mean([7, 7, 7, 0]))
    assert q["sameness"] == pytest.approx(1 / 3, abs=1e-4)  # 2 equal pairs of 6
    # grounding: (lavender, soap) 2/2; (rose, shampoo, vanilla, lotion) 1/4, only "rose" is
    # in the history; (lavender, soap, gift, set) 4/4; the empty profile has no product word
    assert q["grounding"] == pytest.approx((1.0 + 0.25 + 1.0) / 3, abs=1e-4)
    assert "sameness" not in profile_quality(profiles, [HISTORY] * 4, ITEMS)
