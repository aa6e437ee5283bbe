"""Reading single issues, their authors and notes."""

from __future__ import annotations

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
