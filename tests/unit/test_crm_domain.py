from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from crmgraph.domain.crm import (
    INSUFFICIENT,
    MAX_CONTACTS_PER_CALL,
    SOURCE_HAS_CONTACTS,
    SOURCE_IS_SELF,
    SOURCE_NOT_FOUND,
    TOO_MANY,
    ContactChange,
    OperationMode,
    contact_inactive,
    contact_not_found,
    crm_group_id,
    may_hold_crm_records,
    plan_contact_change,
    source_change_errors,
    system_note,
    too_many_to_add,
)
from crmgraph.domain.groups import Group

REPLACE, APPEND, REMOVE = OperationMode.REPLACE, OperationMode.APPEND, OperationMode.REMOVE


@dataclass(frozen=True)
class G:
    id: int
    parent_id: int | None = None
    crm_source_group_id: int | None = None


def chain(*sources: int | None) -> list[G]:
    """A chain from a group up to its root; group ids count down to the root, id 1."""
    ids = range(len(sources), 0, -1)
    return [
        G(id=gid, parent_id=gid - 1 or None, crm_source_group_id=source)
        for gid, source in zip(ids, sources, strict=True)
    ]


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        pytest.param(chain(None), 1, id="root-without-source-is-its-own-crm-group"),
        pytest.param(chain(99), 99, id="root-with-source-uses-the-source"),
        pytest.param(chain(None, None, None), 1, id="subgroup-without-sources-uses-root"),
        pytest.param(chain(50, None, None), 50, id="source-on-the-group-itself"),
        pytest.param(chain(None, 60, None), 60, id="source-on-the-parent"),
        pytest.param(chain(None, None, 70), 70, id="source-on-the-root"),
        pytest.param(chain(None, 60, 70), 60, id="nearest-source-wins"),
        pytest.param(chain(50, 60, 70), 50, id="own-source-beats-every-ancestor"),
    ],
)
def test_crm_group_is_the_nearest_named_source_else_the_root(
    groups: list[G], expected: int
) -> None:
    assert crm_group_id(groups) == expected


def test_crm_group_walk_accepts_domain_groups() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    root = Group(1, None, "acme", "Acme", "acme", True, 9, now, now)
    child = Group(2, 1, "support", "Support", "acme/support", True, None, now, now)
    assert crm_group_id([child, root]) == 9


@pytest.mark.parametrize(
    "groups",
    [
        pytest.param([], id="empty"),
        pytest.param(list(reversed(chain(None, None))), id="root-first"),
        pytest.param(chain(None, None)[:1], id="stops-below-the-root"),
        pytest.param([G(3, parent_id=2), G(1)], id="skips-a-generation"),
    ],
)
def test_crm_group_walk_refuses_a_chain_that_is_not_group_to_root(groups: list[G]) -> None:
    with pytest.raises(ValueError, match="group"):
        crm_group_id(groups)


@pytest.mark.parametrize(
    ("group", "named_as_source", "allowed"),
    [
        pytest.param(G(1), False, True, id="plain-root"),
        pytest.param(G(1, crm_source_group_id=5), False, False, id="root-with-own-source"),
        pytest.param(G(1, crm_source_group_id=5), True, True, id="root-with-source-but-a-target"),
        pytest.param(G(2, parent_id=1), False, False, id="subgroup"),
        pytest.param(G(2, parent_id=1), True, True, id="subgroup-named-as-source"),
    ],
)
def test_only_plain_roots_and_source_targets_may_hold_crm_records(
    group: G, named_as_source: bool, allowed: bool
) -> None:
    assert may_hold_crm_records(group, is_named_as_source=named_as_source) is allowed


@pytest.mark.parametrize(
    ("current", "new", "has_contacts", "accessible", "errors"),
    [
        pytest.param(None, 5, False, True, [], id="set-a-source"),
        pytest.param(5, None, False, True, [], id="clear-the-source"),
        pytest.param(5, 5, True, False, [], id="unchanged-source-is-not-checked"),
        pytest.param(None, 5, True, True, [SOURCE_HAS_CONTACTS], id="issues-have-contacts"),
        pytest.param(5, None, True, True, [SOURCE_HAS_CONTACTS], id="clearing-with-contacts"),
        pytest.param(None, 1, False, True, [SOURCE_IS_SELF], id="group-itself"),
        pytest.param(None, 7, False, False, [SOURCE_NOT_FOUND], id="not-found-or-not-dev"),
        pytest.param(
            None, 7, True, False, [SOURCE_NOT_FOUND, SOURCE_HAS_CONTACTS], id="both-problems"
        ),
    ],
)
def test_contact_source_change_rules(
    current: int | None, new: int | None, has_contacts: bool, accessible: bool, errors: list[str]
) -> None:
    assert (
        source_change_errors(
            1,
            new,
            current_source_id=current,
            issues_have_contacts=has_contacts,
            source_accessible=accessible,
        )
        == errors
    )


def test_source_messages_are_clear() -> None:
    assert SOURCE_HAS_CONTACTS == (
        "Contact source cannot be changed when issues already have contacts assigned "
        "from a different source."
    )
    assert SOURCE_IS_SELF == "Contact source cannot be the group itself"
    assert SOURCE_NOT_FOUND == (
        "Contact source group not found or you do not have Developer access to it"
    )


@pytest.mark.parametrize(
    ("current", "requested", "mode", "to_add", "to_remove"),
    [
        pytest.param(set(), [3, 1, 2], REPLACE, [3, 1, 2], [], id="replace-empty"),
        pytest.param({1, 2, 9, 4}, [5, 2, 1], REPLACE, [5], [4, 9], id="replace-mixed"),
        pytest.param({1, 2}, [2, 1], REPLACE, [], [], id="replace-same-set"),
        pytest.param({1, 2}, [], REPLACE, [], [1, 2], id="replace-with-nothing"),
        pytest.param({1}, [4, 3, 4, 1, 3], REPLACE, [4, 3], [], id="replace-duplicates"),
        pytest.param({1}, [2, 1, 3], APPEND, [2, 3], [], id="append-skips-linked"),
        pytest.param({1}, [2, 2, 1, 1], APPEND, [2], [], id="append-duplicates"),
        pytest.param({1}, [1], APPEND, [], [], id="append-only-linked"),
        pytest.param({1, 2, 3}, [3, 1], REMOVE, [], [3, 1], id="remove-in-input-order"),
        pytest.param({1, 2}, [2, 2, 8], REMOVE, [], [2], id="remove-duplicates-and-unlinked"),
        pytest.param(set(), [8], REMOVE, [], [], id="remove-unlinked"),
    ],
)
def test_contact_change_plan(
    current: set[int],
    requested: list[int],
    mode: OperationMode,
    to_add: list[int],
    to_remove: list[int],
) -> None:
    change = plan_contact_change(current, requested, mode)
    assert change == ContactChange(to_add=to_add, to_remove=to_remove)
    assert change.changed is bool(to_add or to_remove)


def seven() -> list[int]:
    return list(range(1, 8))


@pytest.mark.parametrize(
    ("requested", "current", "mode", "refused"),
    [
        pytest.param([1, 2, 3, 4, 5, 6], set(), APPEND, False, id="append-6"),
        pytest.param(seven(), set(), APPEND, True, id="append-7"),
        pytest.param([1, 1, 1, 1, 2, 2, 2], set(), APPEND, True, id="append-dupes-counted"),
        pytest.param(seven(), {1, 2}, APPEND, True, id="append-linked-counted"),
        pytest.param(seven(), set(), REPLACE, True, id="replace-7-new"),
        pytest.param(seven(), {7}, REPLACE, False, id="replace-6-new-1-linked"),
        pytest.param(list(range(1, 20)), set(range(1, 14)), REPLACE, False, id="replace-6-new"),
        pytest.param([1, 1, 1, 1, 2, 2, 2], set(), REPLACE, True, id="replace-dupes-counted"),
        pytest.param([], set(range(1, 50)), REPLACE, False, id="replace-removes-many"),
        pytest.param(list(range(1, 50)), set(range(1, 50)), REMOVE, False, id="remove-49"),
    ],
)
def test_at_most_six_contacts_are_added_per_call(
    requested: list[int], current: set[int], mode: OperationMode, refused: bool
) -> None:
    assert too_many_to_add(requested, current, mode) is refused


def test_set_contacts_messages_are_gitlabs_wording() -> None:
    assert MAX_CONTACTS_PER_CALL == 6
    assert TOO_MANY == "You can only add up to 6 contacts at one time"
    assert INSUFFICIENT == (
        "You have insufficient permissions to set customer relations contacts for this issue"
    )
    assert contact_not_found(42) == (
        "Issue customer relations contacts 42: The resource that you are attempting to access "
        "does not exist or you don't have permission to perform this action"
    )
    assert contact_inactive(7) == (
        "Issue customer relations contacts 7: inactive contacts cannot be added to issues"
    )


def test_operation_mode_names_match_the_graphql_enum() -> None:
    assert [mode.name for mode in OperationMode] == ["REPLACE", "APPEND", "REMOVE"]


@pytest.mark.parametrize(
    ("added", "removed", "note"),
    [
        (1, 0, "added 1 contact"),
        (3, 0, "added 3 contacts"),
        (0, 1, "removed 1 contact"),
        (0, 2, "removed 2 contacts"),
        (1, 1, "added 1 contact and removed 1 contact"),
        (2, 5, "added 2 contacts and removed 5 contacts"),
        (0, 0, None),
    ],
)
def test_system_note_counts_contacts(added: int, removed: int, note: str | None) -> None:
    assert system_note(added, removed) == note
