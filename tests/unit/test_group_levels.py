"""Effective levels along a group chain, computed from direct memberships."""

from __future__ import annotations

from datetime import UTC, datetime

from crmgraph.domain.groups import Group, is_whole_chain, levels_along

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def group(group_id: int, parent_id: int | None, full_path: str) -> Group:
    path = full_path.rsplit("/", 1)[-1]
    return Group(group_id, parent_id, path, path, full_path, True, None, NOW, NOW)


ROOT = group(1, None, "acme")
MID = group(2, 1, "acme/sales")
LEAF = group(3, 2, "acme/sales/emea")


def test_a_membership_counts_in_its_group_and_every_group_below() -> None:
    assert levels_along([LEAF, MID, ROOT], {1: 20}) == {1: 20, 2: 20, 3: 20}


def test_the_highest_membership_on_the_way_down_counts() -> None:
    assert levels_along([LEAF, MID, ROOT], {1: 10, 2: 40, 3: 20}) == {1: 10, 2: 40, 3: 40}


def test_without_memberships_every_level_is_no_access() -> None:
    assert levels_along([LEAF, MID, ROOT], {}) == {1: 0, 2: 0, 3: 0}


def test_only_a_chain_that_reaches_the_root_unbroken_is_whole() -> None:
    assert is_whole_chain([LEAF, MID, ROOT])
    assert is_whole_chain([ROOT])
    assert not is_whole_chain([])
    assert not is_whole_chain([LEAF, MID])  # the root is missing
    assert not is_whole_chain([LEAF, ROOT])  # a group between them is missing
