"""Reading single issues, their authors and notes."""

from __future__ import annotations

from crmgraph.authz.policy import can_read_issue
from crmgraph.context import RequestContext
from crmgraph.domain.issues import Issue, Note
from crmgraph.domain.pagination import Page, PageArgs
from crmgraph.domain.users import User


async def issue_by_id(ctx: RequestContext, issue_id: int) -> Issue | None:
    return await ctx.loaders.issue(issue_id)


async def author(ctx: RequestContext, author_id: int) -> User | None:
    return await ctx.loaders.user(author_id)


async def notes(ctx: RequestContext, issue: Issue, page: PageArgs) -> Page[Note]:
    """Notes of an issue the schema guard already let through."""
    return await ctx.loaders.notes_page(issue.id, page)


async def visible_issue(ctx: RequestContext, issue_id: int) -> Issue | None:
    """The issue if the actor may read it; for paths the schema guard does not cover."""
    issue = await ctx.loaders.issue(issue_id)
    if issue is None:
        return None
    level = await ctx.project_level(issue.project_id)
    return issue if can_read_issue(ctx.actor, level, issue) else None
