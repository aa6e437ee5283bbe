"""The CRM group of a group, the contact source, and setting an issue's contacts."""

from __future__ import annotations

import enum
from collections.abc import Sequence, Set
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

from crmgraph.domain.errors import RESOURCE_NOT_AVAILABLE

SOURCE_HAS_CONTACTS = (
    "Contact source cannot be changed when issues already have contacts assigned "
    "from a different source."
)
SOURCE_IS_SELF = "Contact source cannot be the group itself"
SOURCE_NOT_FOUND = "Contact source group not found or you do not have Developer access to it"

MAX_CONTACTS_PER_CALL = 6
TOO_MANY = f"You can only add up to {MAX_CONTACTS_PER_CALL} contacts at one time"
INSUFFICIENT = "You have insufficient permissions to set customer relations contacts for this issue"


class GroupLike(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def parent_id(self) -> int | None: ...

    @property
    def crm_source_group_id(self) -> int | None: ...


def crm_group_id(chain: Sequence[GroupLike]) -> int:
    """The CRM group of ``chain[0]``; ``chain`` runs from that group up to its root."""
    _check_chain(chain)
    for group in chain:
        if group.crm_source_group_id is not None:
            return group.crm_source_group_id
    return chain[-1].id


def may_hold_crm_records(group: GroupLike, *, is_named_as_source: bool) -> bool:
    """Whether contacts and organizations may be created in ``group``.

    ``is_named_as_source``: some group names ``group`` as its contact source.
    """
    is_plain_root = group.parent_id is None and group.crm_source_group_id is None
    return is_plain_root or is_named_as_source


def source_change_errors(
    group_id: int,
    new_source_id: int | None,
    *,
    current_source_id: int | None,
    issues_have_contacts: bool,
    source_accessible: bool,
) -> list[str]:
    """Why ``group_id`` may not take ``new_source_id`` as its contact source.

    ``issues_have_contacts``: an issue of the group or a descendant has contacts.
    ``source_accessible``: the new source exists and the actor has Developer+ in it.
    """
    # As GitLab: only an actual change of the group's own setting is checked.
    if new_source_id == current_source_id:
        return []
    errors = []
    if new_source_id == group_id:
        errors.append(SOURCE_IS_SELF)
    elif new_source_id is not None and not source_accessible:
        errors.append(SOURCE_NOT_FOUND)
    if issues_have_contacts:
        errors.append(SOURCE_HAS_CONTACTS)
    return errors


class OperationMode(enum.StrEnum):
    REPLACE = "replace"
    APPEND = "append"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class ContactChange:
    to_add: list[int]
    to_remove: list[int]

    @property
    def changed(self) -> bool:
        return bool(self.to_add or self.to_remove)


def plan_contact_change(
    current: Set[int], requested: Sequence[int], mode: OperationMode
) -> ContactChange:
    """The links to create and delete; already linked, repeated or unlinked ids are no-ops.

    ``to_add`` keeps the input order (messages about them follow it); a REPLACE removes
    in ascending id order.
    """
    wanted = list(dict.fromkeys(requested))
    if mode is OperationMode.REMOVE:
        return ContactChange(to_add=[], to_remove=[cid for cid in wanted if cid in current])
    to_add = [cid for cid in wanted if cid not in current]
    if mode is OperationMode.APPEND:
        return ContactChange(to_add=to_add, to_remove=[])
    return ContactChange(to_add=to_add, to_remove=sorted(current - set(wanted)))


def too_many_to_add(requested: Sequence[int], current: Set[int], mode: OperationMode) -> bool:
    """GitLab's limit on additions per call; removals are unlimited.

    APPEND counts every id given; REPLACE counts the ids not linked yet. Both count
    repeated ids, as GitLab does (its REPLACE computes ``replace_ids - existing_ids``,
    which keeps duplicates).
    """
    if mode is OperationMode.APPEND:
        return len(requested) > MAX_CONTACTS_PER_CALL
    if mode is OperationMode.REPLACE:
        return sum(cid not in current for cid in requested) > MAX_CONTACTS_PER_CALL
    return False


def contact_not_found(contact_id: int) -> str:
    return f"Issue customer relations contacts {contact_id}: {RESOURCE_NOT_AVAILABLE}"


def contact_inactive(contact_id: int) -> str:
    return (
        f"Issue customer relations contacts {contact_id}: "
        "inactive contacts cannot be added to issues"
    )


def system_note(added: int, removed: int) -> str | None:
    """The note written on the issue; it counts contacts and never names them."""
    parts = []
    if added:
        parts.append(f"added {_contacts(added)}")
    if removed:
        parts.append(f"removed {_contacts(removed)}")
    return " and ".join(parts) or None


def _contacts(count: int) -> str:
    return f"{count} contact" if count == 1 else f"{count} contacts"


def _check_chain(chain: Sequence[GroupLike]) -> None:
    # Paths elsewhere run root first (Group.ancestor_paths); a chain in that order
    # would silently pick the wrong CRM group, so refuse anything but group-to-root.
    if not chain:
        raise ValueError("a group chain needs at least the group itself")
    for child, parent in pairwise(chain):
        if child.parent_id != parent.id:
            raise ValueError(f"group {parent.id} is not the parent of group {child.id}")
    if chain[-1].parent_id is not None:
        raise ValueError(f"group chain ends at group {chain[-1].id}, which is not a root")
