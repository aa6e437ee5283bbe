"""Loading an issue page's contacts together with the page.

A page of issues asking for each issue's ``customerRelationsContacts`` would otherwise run
one awaited resolver per issue (authorization, a dataloader round trip, the guard): about
a third of a millisecond each. The issue list looks ahead in the query instead, loads the
contacts of every issue on the page at once for each argument shape the query uses, has
the contact guard filter them in one pass, and leaves the finished connections in the
request context. The per-issue field then answers from there, before strawberry's
resolver machinery (argument conversion, extensions, a coroutine) is involved at all:
the executor reads ``READY`` metadata itself (schema/execution.py), and
``install_ready_values`` puts the same lookup in front of the field's resolver for
graphql-core's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.types.nodes import SelectedField, Selection

from crmgraph.domain.errors import PublicError
from crmgraph.domain.issues import Issue
from crmgraph.domain.pagination import PageArgs
from crmgraph.resolvers import crm as crm_reads
from crmgraph.schema.completion import Answered
from crmgraph.schema.contact_json import JsonSelection, contacts_as_json, json_selection
from crmgraph.schema.crm import ContactConnection
from crmgraph.schema.directives import screened_connections
from crmgraph.schema.execution import ready_finder

CONTACTS_FIELD = "customerRelationsContacts"


def contacts_key(issue_id: int, page: PageArgs) -> tuple[str, int, PageArgs]:
    """Where a prefetched contact connection of an issue waits in the request context."""
    return (CONTACTS_FIELD, issue_id, page)


async def prefetch_issue_contacts(info: Any, issues: Sequence[Issue]) -> None:
    """Load ``customerRelationsContacts`` of ``issues`` if the query asks for it below the
    list field being resolved (``nodes`` or ``edges.node``, through fragments too)."""
    if not issues:
        return
    requested = list(_requested(info.selected_fields))
    shapes = {shape for _, shape in requested if shape is not None}
    if not shapes:
        return
    ctx = info.context
    plan = _json_plan(ctx, requested, shapes)
    if plan is not None:
        found = await crm_reads.issues_contacts_json(ctx, issues, plan.selection.fields, plan.limit)
        await keep_json_contacts(ctx, issues, plan, found)
        return
    lean = not any(asks_for_timestamps(field.selections) for field, _ in requested)
    pages = await crm_reads.issues_contacts_pages(ctx, issues, shapes, lean=lean)
    connections = await screened_connections(ctx, ContactConnection, pages)
    for (issue_id, shape), connection in connections.items():
        ctx.prefetched[contacts_key(issue_id, shape)] = connection


@dataclass(frozen=True)
class JsonPlan:
    """The one ``customerRelationsContacts`` selection below an issue list, to be answered
    with written JSON (schema/contact_json.py), and its page."""

    selection: JsonSelection
    page: PageArgs

    @property
    def limit(self) -> int:
        return self.page.limit


def json_contacts_plan(info: Any) -> JsonPlan | None:
    """The list's contacts as written JSON, when the query asks for them in one selection
    that allows it (PostgreSQL, answers written by orjson); else None."""
    requested = list(_requested(info.selected_fields))
    shapes = {shape for _, shape in requested if shape is not None}
    return _json_plan(info.context, requested, shapes)


def _json_plan(
    ctx: Any, requested: list[tuple[SelectedField, PageArgs | None]], shapes: set[PageArgs]
) -> JsonPlan | None:
    # (A selection with bad arguments has no JSON form.)
    if not ctx.json_answers or ctx.db.dialect != "postgresql" or len(shapes) != 1:
        return None
    selections = {json_selection(field) for field, _ in requested}
    if len(selections) != 1:
        return None
    [selection], [shape] = selections, shapes
    return None if selection is None else JsonPlan(selection, shape)


async def keep_json_contacts(
    ctx: Any, issues: Sequence[Issue], plan: JsonPlan, found: dict[int, tuple[str, list[int]]]
) -> None:
    """Leave the issues' contact answers written from ``found`` (JSON text and groups by
    issue id, as ``crm.issues_contacts_json`` reads them) for their fields."""
    answers = await contacts_as_json(ctx, issues, plan.selection, found)
    for issue_id, answer in answers.items():
        ctx.prefetched[contacts_key(issue_id, plan.page)] = answer


class _LastPage:
    """The page of the arguments ``ready_contacts`` saw last. The executor hands every
    issue of a list the same arguments dict, so one page is made per list, not per issue
    (0.15 ms of a 100-issue page). The dict is held, so its id cannot come back as
    another dict's; nothing changes coerced arguments once made."""

    arguments: dict[str, Any] | None = None
    page: PageArgs = PageArgs.of()


_last = _LastPage()


def ready_contacts(ctx: Any, issue: Issue, arguments: dict[str, Any]) -> Any:
    """The issue's contact connection for these arguments, if its list loaded it."""
    if arguments is _last.arguments:
        page = _last.page
    else:
        try:
            page = _page_args(arguments)
        except PublicError:
            return None
        _last.arguments, _last.page = arguments, page
    ready = ctx.prefetched.get(contacts_key(issue.id, page))
    if ready is None or ready.__class__ is Answered:
        return ready
    # Only what ``screened_connections`` built, i.e. filtered by the contact guard.
    return ready if ready.screened else None


def install_ready_values(schema: GraphQLSchema) -> int:
    """Put each ``READY`` lookup in front of its field's resolver; returns how many."""
    installed = 0
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType):
            continue
        for field in named.fields.values():
            find = ready_finder(field)
            if find is not None:
                field.resolve = _ready_first(find, field.resolve)
                installed += 1
    return installed


def _ready_first(find: Callable[..., Any], resolve: Callable[..., Any]) -> Callable[..., Any]:
    def resolve_ready(source: Any, info: Any, **arguments: Any) -> Any:
        value = find(info.context, source, arguments)
        # Written JSON is only for the executor's own completion (completion.Answered).
        if value is None or value.__class__ is Answered:
            return resolve(source, info, **arguments)
        return value

    return resolve_ready


def _page_args(arguments: dict[str, Any]) -> PageArgs:
    return PageArgs.of(
        first=arguments.get("first"),
        last=arguments.get("last"),
        after=arguments.get("after"),
        before=arguments.get("before"),
    )


def _requested(
    selections: Sequence[Selection],
) -> Iterator[tuple[SelectedField, PageArgs | None]]:
    """Each ``customerRelationsContacts`` below the list's items, with its page (None when
    its arguments are bad: the field reports them itself when it runs)."""
    for connection in _fields(selections):
        for child in _fields(connection.selections):
            if child.name == "nodes":
                yield from _contact_fields(child.selections)
            elif child.name == "edges":
                for node in _fields(child.selections):
                    if node.name == "node":
                        yield from _contact_fields(node.selections)


def _contact_fields(
    selections: Sequence[Selection],
) -> Iterator[tuple[SelectedField, PageArgs | None]]:
    for field in _fields(selections):
        if field.name != CONTACTS_FIELD:
            continue
        args = field.arguments
        try:
            shape: PageArgs | None = _page_args(
                {**args, "first": _int(args.get("first")), "last": _int(args.get("last"))}
            )
        except PublicError:
            shape = None
        yield field, shape


TIMESTAMP_FIELDS = frozenset({"createdAt", "updatedAt"})


def asks_for_timestamps(selections: Sequence[Selection]) -> bool:
    """Whether ``createdAt`` or ``updatedAt`` is asked for anywhere in ``selections``:
    lists that are not asked leave them out of their SQL (persistence/contact_rows.py)."""
    return any(
        field.name in TIMESTAMP_FIELDS or asks_for_timestamps(field.selections)
        for field in _fields(selections)
    )


def _int(value: Any) -> int | None:
    # Strawberry hands over literals as their source text ("10"); validation has checked
    # that they are integers. Values of variables arrive coerced.
    return None if value is None else int(value)


def _fields(selections: Sequence[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, looking through inline fragments and spreads."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)
