"""The ability table: the one place that says which role may do what.

Each ability names the minimum effective access level, measured where the ability is
checked (the group, the project, or the CRM group). Prevent-rules beat any grant.
"""

from __future__ import annotations

import enum

from crmgraph.domain.roles import AccessLevel


class Ability(enum.StrEnum):
    READ_GROUP = "read_group"
    CREATE_SUBGROUP = "create_subgroup"
    CREATE_PROJECT = "create_projects"
    ADMIN_GROUP_MEMBER = "admin_group_member"
    ADMIN_GROUP = "admin_group"
    READ_PROJECT = "read_project"
    ADMIN_PROJECT_MEMBER = "admin_project_member"
    READ_ISSUE = "read_issue"
    READ_CONFIDENTIAL_ISSUES = "read_confidential_issues"
    CREATE_ISSUE = "create_issue"
    UPDATE_ISSUE = "update_issue"
    CREATE_NOTE = "create_note"
    READ_CRM_CONTACT = "read_crm_contact"
    READ_CRM_ORGANIZATION = "read_crm_organization"
    ADMIN_CRM_CONTACT = "admin_crm_contact"
    ADMIN_CRM_ORGANIZATION = "admin_crm_organization"
    SET_ISSUE_CRM_CONTACTS = "set_issue_crm_contacts"


MINIMUM_ROLE: dict[Ability, AccessLevel] = {
    Ability.READ_GROUP: AccessLevel.GUEST,
    Ability.CREATE_SUBGROUP: AccessLevel.MAINTAINER,
    Ability.CREATE_PROJECT: AccessLevel.MAINTAINER,
    Ability.ADMIN_GROUP_MEMBER: AccessLevel.MAINTAINER,
    Ability.ADMIN_GROUP: AccessLevel.OWNER,
    Ability.READ_PROJECT: AccessLevel.GUEST,
    Ability.ADMIN_PROJECT_MEMBER: AccessLevel.MAINTAINER,
    Ability.READ_ISSUE: AccessLevel.GUEST,
    Ability.READ_CONFIDENTIAL_ISSUES: AccessLevel.REPORTER,
    Ability.CREATE_ISSUE: AccessLevel.GUEST,
    Ability.UPDATE_ISSUE: AccessLevel.PLANNER,
    Ability.CREATE_NOTE: AccessLevel.GUEST,
    Ability.READ_CRM_CONTACT: AccessLevel.PLANNER,
    Ability.READ_CRM_ORGANIZATION: AccessLevel.PLANNER,
    Ability.ADMIN_CRM_CONTACT: AccessLevel.DEVELOPER,
    Ability.ADMIN_CRM_ORGANIZATION: AccessLevel.DEVELOPER,
    # The project half of the rule; the CRM half (read_crm_contact) is checked beside it.
    Ability.SET_ISSUE_CRM_CONTACTS: AccessLevel.PLANNER,
}

CRM_ABILITIES = frozenset(
    {
        Ability.READ_CRM_CONTACT,
        Ability.READ_CRM_ORGANIZATION,
        Ability.ADMIN_CRM_CONTACT,
        Ability.ADMIN_CRM_ORGANIZATION,
        Ability.SET_ISSUE_CRM_CONTACTS,
    }
)


def allowed(level: int, ability: Ability, *, crm_enabled: bool = True) -> bool:
    """Whether an effective ``level`` grants ``ability``; prevent-rules come first."""
    if ability in CRM_ABILITIES and not crm_enabled:
        return False
    return level >= MINIMUM_ROLE[ability]
