"""The names in the model, the store and the vocabulary agree: every kind and status has words for people."""

from __future__ import annotations

from pipeline.model import CheckStatus, Kind
from pipeline.store.exports import WORDS
from pipeline.store.schema import DocStatus
from pipeline.vocabulary import vocab, yuan_per


def test_every_kind_and_status_is_named_for_people() -> None:
    display = vocab()["display"]
    assert set(display["kinds"]) == set(Kind)
    assert set(display["check_status"]) == set(CheckStatus)
    assert set(WORDS["doc_status"]) == set(DocStatus)


def test_the_one_table_of_yuan_per_unit() -> None:
    per = yuan_per()
    assert (per["元"], per["千元"], per["万元"], per["亿元"]) == (1, 1_000, 10_000, 100_000_000)
    assert all(unit.endswith("元") for unit in per)
