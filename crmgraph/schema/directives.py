"""``@requiresRole``: declared on the schema, enforced for every field by one guard.

A type marked with ``protected(...)`` carries the directive in the exported SDL, and
``install_guards`` gives every field that returns that type a guard: objects the caller
may not see become ``null`` and are left out of lists, with no hint that they exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import strawberry
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.schema_directive import Location
from strawberry.types import Info
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition

from crmgraph.domain.pagination import Page
from crmgraph.domain.roles import AccessLevel as DomainAccessLevel
from crmgraph.resolvers.visibility import Scope, can_see, visible

AccessLevel = strawberry.enum(
    DomainAccessLevel, name="AccessLevel", description="A member's role, lowest to highest."
)
RoleScope = strawberry.enum(
    Scope,
    name="RoleScope",
    description="CRM_GROUP: the group that owns the CRM records (root group or contact source).",
)


@strawberry.schema_directive(
    locations=[Location.OBJECT, Location.FIELD_DEFINITION],
    name="requiresRole",
    description="Only members with at least `role` in the group named by `scope` may see this.",
)
class RequiresRole:
    role: DomainAccessLevel = strawberry.field(description="The minimum role.")
    scope: Scope = strawberry.field(description="Where the role is measured.")


_PROTECTED: dict[type, RequiresRole] = {}
#: Field metadata for a relation that can only point inside its parent's scope, which the
#: parent's guard has checked already (a contact's organization).
GUARDED_BY_PARENT = "guarded_by_parent"
T = TypeVar("T", bound=type)
C = TypeVar("C")
K = TypeVar("K")


def protected(
    role: DomainAccessLevel, scope: Scope, *, name: str, description: str
) -> Callable[[T], T]:
    """``strawberry.type`` with the ``@requiresRole`` directive, registered for the guard."""
    rule = RequiresRole(role=role, scope=scope)

    def wrap(cls: T) -> T:
        wrapped = strawberry.type(cls, name=name, description=description, directives=[rule])
        _PROTECTED[wrapped] = rule
        return wrapped

    return wrap


class GuardExtension(FieldExtension):
    def __init__(self, rule: RequiresRole) -> None:
        self.role = int(rule.role)
        self.scope = rule.scope

    # The first parameter is not called ``self``: resolvers declared with a ``self`` parent
    # argument pass it through ``kwargs``.
    async def resolve_async(
        guard, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        result = await next_(source, info, **kwargs)
        if result is None:
            return None
        ctx = info.context
        if isinstance(result, list):
            present = [item for item in result if item is not None]
            seen = await visible(ctx, present, guard.role, guard.scope)
            return [item for item, ok in zip(present, seen, strict=True) if ok]
        return result if await can_see(ctx, result, guard.role, guard.scope) else None


class ConnectionGuardExtension(GuardExtension):
    """The guard for a field that returns a connection: the page is filtered once."""

    async def resolve_async(
        guard, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        result = await next_(source, info, **kwargs)
        if result is None or not result.page.items:
            return result
        seen = await visible(info.context, result.page.items, guard.role, guard.scope)
        result.replace_page(_kept(result.page, seen))
        return result


def _kept(page: Page[Any], seen: Sequence[bool]) -> Page[Any]:
    if all(seen):
        return page
    kept = [
        (item, cursor)
        for item, cursor, ok in zip(page.items, page.cursors, seen, strict=True)
        if ok
    ]
    return replace(page, items=[item for item, _ in kept], cursors=[cursor for _, cursor in kept])


def protection_of(node_type: type) -> tuple[int, Any]:
    """The role and scope the guard of ``node_type`` requires."""
    rule = _PROTECTED[node_type]
    return int(rule.role), rule.scope


async def screened_connections(
    ctx: Any, connection_type: Callable[..., C], pages: Mapping[K, Page[Any]]
) -> dict[K, C]:
    """Connections over ``pages``, filtered by the guard of their node type in one pass
    (one level lookup per distinct scope over all pages) and marked as screened: such a
    connection may be handed out without passing the guard again."""
    role, scope = protection_of(connection_type.node_type)  # type: ignore[attr-defined]
    items = [item for page in pages.values() for item in page.items]
    seen = iter(await visible(ctx, items, role, scope))
    connections = {}
    for key, page in pages.items():
        connections[key] = connection_type(
            page=_kept(page, [next(seen) for _ in page.items]), screened=True
        )
    return connections


def _unwrap(field_type: Any) -> Any:
    while isinstance(field_type, StrawberryOptional | StrawberryList):
        field_type = field_type.of_type
    return field_type


def reachable_types(roots: Iterable[type]) -> list[type]:
    """Every object type reachable from ``roots`` through field types."""
    seen: list[type] = []
    todo = list(roots)
    while todo:
        cls = todo.pop()
        definition = get_object_definition(cls)
        if definition is None or cls in seen:
            continue
        seen.append(cls)
        todo.extend(_unwrap(field.type) for field in definition.fields)
    return seen


def install_guards(types: Iterable[type]) -> int:
    """Give every field returning a protected type its guard; returns how many were guarded."""
    guarded = 0
    for cls in types:
        definition = get_object_definition(cls)
        if definition is None:
            continue
        if getattr(cls, "guarded_upstream", False):
            continue
        for field in definition.fields:
            target = _unwrap(field.type)
            node_type = getattr(target, "node_type", None)
            rule = _PROTECTED.get(target if node_type is None else node_type)
            if rule is None or any(isinstance(e, GuardExtension) for e in field.extensions):
                continue
            if field.metadata.get(GUARDED_BY_PARENT):
                continue
            guard_class = GuardExtension if node_type is None else ConnectionGuardExtension
            field.extensions.append(guard_class(rule))
            guarded += 1
    return guarded
