"""Rules that combine the ability table with facts about the object."""

from __future__ import annotations

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.authz.actor import Actor
from crmgraph.domain.issues import Issue
from crmgraph.domain.roles import NO_ACCESS, AccessLevel


def admin_aware(actor: Actor, level: int) -> int:
    """An instance admin acts as Owner everywhere."""
    return int(AccessLevel.OWNER) if actor.is_admin else level


def can_read_issue(actor: Actor, project_level: int, issue: Issue) -> bool:
    if not allowed(project_level, Ability.READ_ISSUE):
        return False
    if not issue.confidential:
        return True
    return (
        allowed(project_level, Ability.READ_CONFIDENTIAL_ISSUES) or issue.author_id == actor.user_id
    )


def can_update_issue(actor: Actor, project_level: int, issue: Issue) -> bool:
    if not can_read_issue(actor, project_level, issue):
        return False
    return allowed(project_level, Ability.UPDATE_ISSUE) or issue.author_id == actor.user_id


def can_assign_level(own_level: int, wanted: AccessLevel) -> bool:
    """Members are managed up to one's own level; only Owners make Owners."""
    return own_level > NO_ACCESS and int(wanted) <= own_level
