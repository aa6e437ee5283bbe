"""The ability table and the issue rules, written out as truth tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.authz.actor import Actor
from crmgraph.authz.policy import admin_aware, can_assign_level, can_read_issue, can_update_issue
from crmgraph.domain.issues import Issue, IssueState
from crmgraph.domain.roles import NO_ACCESS, AccessLevel
from crmgraph.domain.users import Scope, User

ROLES = [
    NO_ACCESS,
    AccessLevel.GUEST,
    AccessLevel.PLANNER,
    AccessLevel.REPORTER,
    AccessLevel.DEVELOPER,
    AccessLevel.MAINTAINER,
    AccessLevel.OWNER,
]

# One row per ability; one column per role in the order of ROLES. x = allowed, . = denied.
# fmt: off
TABLE: dict[Ability, str] = {
    #                                   none guest planner reporter developer maintainer owner
    Ability.READ_GROUP:                "  .    x      x       x        x          x        x",
    Ability.CREATE_SUBGROUP:           "  .    .      .       .        .          x        x",
    Ability.CREATE_PROJECT:            "  .    .      .       .        .          x        x",
    Ability.ADMIN_GROUP_MEMBER:        "  .    .      .       .        .          x        x",
    Ability.ADMIN_GROUP:               "  .    .      .       .        .          .        x",
    Ability.READ_PROJECT:              "  .    x      x       x        x          x        x",
    Ability.ADMIN_PROJECT_MEMBER:      "  .    .      .       .        .          x        x",
    Ability.READ_ISSUE:                "  .    x      x       x        x          x        x",
    Ability.READ_CONFIDENTIAL_ISSUES:  "  .    .      .       x        x          x        x",
    Ability.CREATE_ISSUE:              "  .    x      x       x        x          x        x",
    Ability.UPDATE_ISSUE:              "  .    .      x       x        x          x        x",
    Ability.CREATE_NOTE:               "  .    x      x       x        x          x        x",
    Ability.READ_CRM_CONTACT:          "  .    .      x       x        x          x        x",
    Ability.READ_CRM_ORGANIZATION:     "  .    .      x       x        x          x        x",
    Ability.ADMIN_CRM_CONTACT:         "  .    .      .       .        x          x        x",
    Ability.ADMIN_CRM_ORGANIZATION:    "  .    .      .       .        x          x        x",
    Ability.SET_ISSUE_CRM_CONTACTS:    "  .    .      x       x        x          x        x",
}
# fmt: on

CRM_ABILITIES = {
    Ability.READ_CRM_CONTACT,
    Ability.READ_CRM_ORGANIZATION,
    Ability.ADMIN_CRM_CONTACT,
    Ability.ADMIN_CRM_ORGANIZATION,
    Ability.SET_ISSUE_CRM_CONTACTS,
}


def _cells(ability: Ability) -> list[bool]:
    marks = TABLE[ability].split()
    assert len(marks) == len(ROLES), ability
    return [mark == "x" for mark in marks]


CASES = [
    pytest.param(ability, role, expected, id=f"{ability.value}-{getattr(role, 'name', 'none')}")
    for ability in TABLE
    for role, expected in zip(ROLES, _cells(ability), strict=True)
]


def test_the_table_names_every_ability() -> None:
    assert set(TABLE) == set(Ability)


@pytest.mark.parametrize(("ability", "role", "expected"), CASES)
def test_role_grants_ability_as_the_table_says(ability: Ability, role: int, expected: bool) -> None:
    assert allowed(role, ability) is expected
    assert allowed(role, ability, crm_enabled=True) is expected


@pytest.mark.parametrize(("ability", "role", "expected"), CASES)
def test_crm_switched_off_denies_every_crm_ability_and_nothing_else(
    ability: Ability, role: int, expected: bool
) -> None:
    assert allowed(role, ability, crm_enabled=False) is (expected and ability not in CRM_ABILITIES)


def _user(user_id: int, *, admin: bool = False) -> User:
    return User(id=user_id, username=f"u{user_id}", name="U", email=None, admin=admin)


AUTHOR = Actor(user=_user(1), scopes=frozenset({Scope.API}))
OTHER = Actor(user=_user(2), scopes=frozenset({Scope.API}))
ADMIN = Actor(user=_user(3, admin=True), scopes=frozenset({Scope.API}))
ANONYMOUS = Actor.anonymous()
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _issue(*, confidential: bool) -> Issue:
    return Issue(
        id=7,
        project_id=1,
        iid=1,
        title="t",
        description=None,
        state=IssueState.OPENED,
        confidential=confidential,
        author_id=1,
        created_at=T0,
        updated_at=T0,
        closed_at=None,
    )


# fmt: off
ISSUE_RULES = [
    # rule     confidential actor         none guest planner reporter developer maintainer owner
    ("read",   False,       OTHER,     "  .    x      x       x        x          x        x"),
    ("read",   False,       AUTHOR,    "  .    x      x       x        x          x        x"),
    ("read",   False,       ANONYMOUS, "  .    x      x       x        x          x        x"),
    ("read",   True,        OTHER,     "  .    .      .       x        x          x        x"),
    ("read",   True,        AUTHOR,    "  .    x      x       x        x          x        x"),
    ("read",   True,        ANONYMOUS, "  .    .      .       x        x          x        x"),
    ("update", False,       OTHER,     "  .    .      x       x        x          x        x"),
    ("update", False,       AUTHOR,    "  .    x      x       x        x          x        x"),
    ("update", True,        OTHER,     "  .    .      .       x        x          x        x"),
    ("update", True,        AUTHOR,    "  .    x      x       x        x          x        x"),
]
# fmt: on
ISSUE_CASES = [
    pytest.param(
        rule,
        confidential,
        actor,
        role,
        mark == "x",
        id=f"{rule}-{'confidential' if confidential else 'public'}-{actor.user_id}-{role}",
    )
    for rule, confidential, actor, row in ISSUE_RULES
    for role, mark in zip(ROLES, row.split(), strict=True)
]


@pytest.mark.parametrize(("rule", "confidential", "actor", "role", "expected"), ISSUE_CASES)
def test_issue_rules_follow_level_confidentiality_and_authorship(
    rule: str, confidential: bool, actor: Actor, role: int, expected: bool
) -> None:
    check = can_read_issue if rule == "read" else can_update_issue
    assert check(actor, role, _issue(confidential=confidential)) is expected


# Rows: own level; columns: the level to give.
# fmt: off
ASSIGN = {
    #                        guest planner reporter developer maintainer owner
    NO_ACCESS:              "  .     .       .        .          .        .",
    AccessLevel.GUEST:      "  x     .       .        .          .        .",
    AccessLevel.PLANNER:    "  x     x       .        .          .        .",
    AccessLevel.REPORTER:   "  x     x       x        .          .        .",
    AccessLevel.DEVELOPER:  "  x     x       x        x          .        .",
    AccessLevel.MAINTAINER: "  x     x       x        x          x        .",
    AccessLevel.OWNER:      "  x     x       x        x          x        x",
}
# fmt: on


@pytest.mark.parametrize(
    ("own", "wanted", "expected"),
    [
        (own, wanted, mark == "x")
        for own, row in ASSIGN.items()
        for wanted, mark in zip(AccessLevel, row.split(), strict=True)
    ],
)
def test_members_are_managed_up_to_ones_own_level(
    own: int, wanted: AccessLevel, expected: bool
) -> None:
    assert can_assign_level(own, wanted) is expected


def test_only_owners_make_owners() -> None:
    assert not can_assign_level(AccessLevel.MAINTAINER, AccessLevel.OWNER)
    assert can_assign_level(AccessLevel.OWNER, AccessLevel.OWNER)


@pytest.mark.parametrize("level", ROLES)
def test_admin_acts_as_owner_whatever_the_membership(level: int) -> None:
    assert admin_aware(ADMIN, level) == AccessLevel.OWNER
    assert admin_aware(OTHER, level) == level
    assert admin_aware(ANONYMOUS, level) == level


@pytest.mark.parametrize("ability", list(Ability))
def test_admin_without_membership_has_every_ability_unless_crm_is_off(ability: Ability) -> None:
    level = admin_aware(ADMIN, NO_ACCESS)
    assert allowed(level, ability)
    assert allowed(level, ability, crm_enabled=False) is (ability not in CRM_ABILITIES)


def test_admin_reads_and_updates_confidential_issues_of_others() -> None:
    issue = _issue(confidential=True)
    level = admin_aware(ADMIN, NO_ACCESS)
    assert can_read_issue(ADMIN, level, issue)
    assert can_update_issue(ADMIN, level, issue)
