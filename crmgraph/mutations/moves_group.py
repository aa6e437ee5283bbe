"""``groupTransfer`` (spec §9): a group and its subtree get a new parent, or become a root.

Paths: the full path of every group and project in the subtree changes with the group;
ids, memberships and contact-source settings (which name groups by id) stay.

Checks, in GitLab's words (``Transfer failed: ...``): a root group cannot be made root
again, nor a group moved to its current parent, into itself or below itself, nor next to
a group or project with the same path. Rights: Owner of the group and Maintainer+ of the
new parent (to root: anyone may create root groups); missing either → the top-level
resource error (spec §3). Moved to root, a group without a direct Owner gets the actor as
Owner, as GitLab does, so that it is never left without one.

CRM, with O the moved group's CRM group before and N after:

- The group names a contact source itself, or O = N (same root, or a source above it that
  is the same): no CRM record or link changes.
- Otherwise the subtree's groups that took their CRM group from the moved group (those
  with no group naming a source between them and the moved group) follow it to N. Groups
  in the subtree that name a source keep it: their CRM group is that source wherever the
  tree sits.
- What moves: if O is the moved group itself (a root holding records), all its records
  are its own data and all are copied, inactive ones too. If O is a group above it (or a
  source named above it), **Better:** only the contacts that the subtree's issues link to
  (and their organizations) are copied. GitLab copies the whole address book of O, which
  hands every contact of the old root to the new one, even to a subgroup Owner who could
  not read them.
- How: organizations are matched in N by name ignoring case (the existing one is used),
  contacts by email ignoring case (the existing one is used; its organization stays); the
  rest are copied with state, fields and timestamps, contacts pointing at the mapped
  organization. Contacts without email are always copied (nothing identifies them), and
  **Better than GitLab**, whose re-pointing joins on email, their links follow too.
- Links: **Better:** only the links of issues of the following groups' projects are
  re-pointed to the mapped contacts; links of issues elsewhere that use O are untouched.
  A link whose new contact the issue already has is dropped, not duplicated.
- The old records are deleted only if O was the moved group and no group names it as a
  contact source any more. If one still does (inside or outside the subtree), its issues
  still use O's records, and deleting them would silently drop their links.
- Rights: moving or reusing records needs admin_crm_contact / admin_crm_organization in
  N, measured after the move (the actor's level there may come from the new parent). CRM
  switched off in N takes those rights away (GitLab's prevent-rule), so such a transfer is
  refused with the same message: records moved there could be used by no one. Nothing to
  move (no records, or a subgroup whose issues use no contacts) needs no CRM right.

The transfer is one transaction: every check that needs the new state (N, the rights
there) runs after the first writes and leaves by raising, which rolls everything back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from crmgraph.authz.abilities import Ability, allowed
from crmgraph.authz.policy import admin_aware
from crmgraph.context import RequestContext
from crmgraph.domain.errors import ResourceNotAvailable
from crmgraph.domain.groups import Group, join_path
from crmgraph.domain.roles import AccessLevel
from crmgraph.mutations.lookups import group_with
from crmgraph.mutations.moves import crm_group_ids, forget_moved
from crmgraph.mutations.outcome import Outcome
from crmgraph.persistence import groups as groups_repo
from crmgraph.persistence import issue_contacts as links_repo
from crmgraph.persistence import members as members_repo
from crmgraph.persistence import moves as moves_repo
from crmgraph.persistence import moves_crm as crm_moves_repo

CRM_REFUSED = (
    "Transfer failed: Group contains contacts/organizations and you don't have enough "
    "permissions to move them to the new root group."
)
ALREADY_ROOT = "Transfer failed: Group is already a root group."
SAME_PARENT = "Transfer failed: Group is already associated to the parent group."
INTO_ITSELF = "Transfer failed: Cannot transfer group to one of its subgroup."
PATH_CLASH = (
    "Transfer failed: The parent group already has a subgroup or a project with the same path."
)


class _Refused(Exception):
    """A rule failed inside the transaction; leaving it this way rolls every write back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def transfer_errors(group: Group, parent: Group | None) -> list[str]:
    """Why ``group`` cannot go under ``parent`` (None: become a root group)."""
    if parent is None:
        return [ALREADY_ROOT] if group.is_root else []
    if parent.id == group.parent_id:
        return [SAME_PARENT]
    own, target = group.full_path.lower(), parent.full_path.lower()
    if target == own or target.startswith(own + "/"):
        return [INTO_ITSELF]
    return []


def following_groups(members: Sequence[Group], moved_id: int) -> list[int]:
    """Ids of the groups of the moved subtree (``members``) whose CRM group is decided by
    the moved group's chain: no group from them up to the moved group names a source."""
    by_id = {group.id: group for group in members}
    following = []
    for group in members:
        current = group
        while current.crm_source_group_id is None:
            if current.id == moved_id:
                following.append(group.id)
                break
            assert current.parent_id is not None  # below the moved group: it has a parent
            current = by_id[current.parent_id]
    return sorted(following)


def link_changes(
    links: Sequence[moves_repo.Link], contact_map: Mapping[int, int]
) -> tuple[dict[int, int], list[int]]:
    """Links to re-point (link id → new contact id) and links to drop instead, because
    the issue already has (or is getting) the new contact."""
    kept: dict[int, set[int]] = {}
    for link in links:
        if link.contact_id not in contact_map:
            kept.setdefault(link.issue_id, set()).add(link.contact_id)
    changes: dict[int, int] = {}
    drops: list[int] = []
    for link in links:
        new_id = contact_map.get(link.contact_id)
        if new_id is None:
            continue
        has = kept.setdefault(link.issue_id, set())
        if new_id in has:
            drops.append(link.id)
        else:
            has.add(new_id)
            changes[link.id] = new_id
    return changes, drops


async def transfer_group(
    ctx: RequestContext, *, full_path: str, new_parent_path: str | None
) -> Outcome[Group]:
    ctx.require_writer()
    group, _ = await group_with(ctx, full_path, Ability.ADMIN_GROUP)
    parent = None
    if new_parent_path is not None:
        parent, _ = await group_with(ctx, new_parent_path, Ability.CREATE_SUBGROUP)
    errors = transfer_errors(group, parent)
    if errors:
        return Outcome.failed(errors)
    try:
        async with ctx.db.transaction() as conn:
            moved, changed = await _transfer(ctx, conn, group.id, parent)
    except _Refused as refused:
        return Outcome.failed([refused.message])
    forget_moved(ctx, changed)
    return Outcome(moved)


async def _transfer(
    ctx: RequestContext, conn: AsyncConnection, group_id: int, parent: Group | None
) -> tuple[Group, list[int]]:
    """The whole move on ``conn``; returns the moved group and the issues whose links changed."""
    now = ctx.now()
    ids = [group_id] if parent is None else [group_id, parent.id]
    fresh = await moves_repo.lock_groups(conn, ids)
    group = fresh.get(group_id)
    new_parent = None if parent is None else fresh.get(parent.id)
    if group is None or (parent is not None and new_parent is None):
        raise ResourceNotAvailable()
    # Checked again on the locked rows: a concurrent transfer may have changed the tree.
    errors = transfer_errors(group, new_parent)
    if errors:
        raise _Refused(errors[0])
    new_path = join_path(None if new_parent is None else new_parent.full_path, group.path)
    if await groups_repo.full_path_taken(conn, new_path):
        raise _Refused(PATH_CLASH)
    old_crm = (await crm_group_ids(conn, [group.id]))[group.id]
    members = await moves_repo.subtree(conn, group.full_path)
    try:
        await moves_repo.rewrite_paths(conn, group.full_path, new_path, now)
    except groups_repo.PathTaken as exc:
        raise _Refused(PATH_CLASH) from exc
    moved = await moves_repo.set_parent(
        conn, group.id, None if new_parent is None else new_parent.id, now
    )
    if new_parent is None:
        await _ensure_owner(ctx, conn, moved.id, now)
    new_crm = (await crm_group_ids(conn, [moved.id]))[moved.id]
    if new_crm == old_crm:
        return moved, []
    changed = await _move_crm(ctx, conn, moved, old_crm, new_crm, members)
    return moved, changed


async def _ensure_owner(
    ctx: RequestContext, conn: AsyncConnection, group_id: int, now: datetime
) -> None:
    if await members_repo.count_owners(conn, group_id) == 0:
        assert ctx.actor.user_id is not None
        await members_repo.set_group_member(
            conn, group_id=group_id, user_id=ctx.actor.user_id, level=AccessLevel.OWNER, now=now
        )


async def _move_crm(
    ctx: RequestContext,
    conn: AsyncConnection,
    moved: Group,
    old_crm: int,
    new_crm: int,
    members: Sequence[Group],
) -> list[int]:
    following = following_groups(members, moved.id)
    whole = old_crm == moved.id
    scope = None if whole else following
    people = await crm_moves_repo.contacts_to_move(conn, old_crm, new_crm, scope)
    orgs = await crm_moves_repo.organizations_to_move(conn, old_crm, new_crm, scope)
    if not whole:
        # Only organizations that a copied contact will point at are worth copying.
        needed = {c.organization_id for c, same in people if same is None and c.organization_id}
        orgs = [(org, namesake) for org, namesake in orgs if org.id in needed]
    if not people and not orgs:
        return []
    await _require_crm_admin(ctx, conn, new_crm, contacts=bool(people), organizations=bool(orgs))

    org_copies = [org for org, namesake in orgs if namesake is None]
    org_map = {org.id: namesake for org, namesake in orgs if namesake is not None}
    new_org_ids = await crm_moves_repo.copy_organizations(conn, new_crm, org_copies)
    org_map.update(zip((org.id for org in org_copies), new_org_ids, strict=True))

    contact_copies = [c for c, same in people if same is None]
    contact_map = {c.id: same for c, same in people if same is not None}
    new_contact_ids = await crm_moves_repo.copy_contacts(conn, new_crm, contact_copies, org_map)
    contact_map.update(zip((c.id for c in contact_copies), new_contact_ids, strict=True))

    links = await moves_repo.links_in_groups(conn, following)
    changes, drops = link_changes(links, contact_map)
    await moves_repo.drop_links(conn, drops)
    await moves_repo.repoint_links(conn, changes)
    if whole and not await links_repo.is_named_as_source(conn, moved.id):
        await crm_moves_repo.delete_crm_records(conn, moved.id)
    touched = set(changes) | set(drops)
    return sorted({link.issue_id for link in links if link.id in touched})


async def _require_crm_admin(
    ctx: RequestContext, conn: AsyncConnection, crm_id: int, *, contacts: bool, organizations: bool
) -> None:
    """admin_crm rights in the new CRM group, from memberships as they stand after the move."""
    assert ctx.actor.user_id is not None
    levels = await members_repo.group_levels(conn, ctx.actor.user_id, [crm_id])
    level = admin_aware(ctx.actor, levels[crm_id])
    crm = (await groups_repo.groups_by_ids(conn, [crm_id]))[crm_id]
    needed = [Ability.ADMIN_CRM_CONTACT] if contacts else []
    needed += [Ability.ADMIN_CRM_ORGANIZATION] if organizations else []
    if not all(allowed(level, ability, crm_enabled=crm.crm_enabled) for ability in needed):
        raise _Refused(CRM_REFUSED)
