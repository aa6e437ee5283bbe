"""Levels read with a group's or project's path equal the level queries' answers.

A lookup by path reads the actor's direct memberships along the chain, and the levels
computed from them stand in for the level queries for the rest of the request. Every
combination of memberships on a three-deep chain and its project must give the same
levels both ways."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from crmgraph.authz.actor import Actor
from crmgraph.context import RequestContext
from crmgraph.domain.groups import Group, Project
from crmgraph.domain.roles import AccessLevel
from crmgraph.domain.users import Scope, User
from crmgraph.persistence import members as members_repo
from crmgraph.resolvers.groups import group_by_full_path
from crmgraph.resolvers.projects import project_by_full_path
from tests.world import World

NONE = None
CHOICES = [NONE, AccessLevel.GUEST, AccessLevel.REPORTER, AccessLevel.MAINTAINER]


async def _chain(world: World) -> tuple[Group, Group, Group, Project]:
    root = await world.group("acme")
    mid = await world.group("sales", root)
    leaf = await world.group("emea", mid)
    return root, mid, leaf, await world.project(leaf, "web")


def _ctx(world: World, user: User) -> RequestContext:
    return RequestContext.build(world.db, Actor(user=user, scopes=frozenset({Scope.API})))


async def _queried(world: World, user: User, groups: list[Group], project: Project) -> list[int]:
    async with world.db.connect() as conn:
        by_group = await members_repo.group_levels(conn, user.id, [g.id for g in groups])
        by_project = await members_repo.project_levels(conn, user.id, [project.id])
    return [by_group[g.id] for g in groups] + [by_project[project.id]]


async def _by_project_path(ctx: RequestContext, project: Project) -> None:
    assert await project_by_full_path(ctx, "acme/sales/emea/web") == project


async def _by_group_id(ctx: RequestContext, project: Project) -> None:
    # As the CRM checks read a group's chain: through the chain loader, by id.
    assert len(await ctx.loaders.group_chain(project.group_id)) == 3
    await ctx.project_level(project.id)  # not primed by a chain read by id: one query


@pytest.mark.parametrize("read", [_by_project_path, _by_group_id])
async def test_levels_read_with_a_chain_equal_the_level_queries(world: World, read: Any) -> None:
    root, mid, leaf, project = await _chain(world)
    places = [root, mid, leaf, project]
    # Every combination, also a lower membership below a higher one and none at all.
    for n, levels in enumerate(itertools.product(CHOICES, repeat=4)):
        user = await world.user(f"u{n}")
        for place, level in zip(places, levels, strict=True):
            if level is not None:
                await world.member(place, user, level)
        ctx = _ctx(world, user)
        await read(ctx, project)
        counted = world.db.counter.count
        primed = [await ctx.group_level(g.id) for g in (root, mid, leaf)]
        primed.append(await ctx.project_level(project.id))
        assert world.db.counter.count == counted, "a level was queried after all"
        assert primed == await _queried(world, user, [root, mid, leaf], project), levels


@pytest.mark.parametrize("path", ["acme", "acme/sales", "acme/sales/emea"])
async def test_levels_from_a_group_path_equal_the_level_queries(world: World, path: str) -> None:
    root, mid, leaf, project = await _chain(world)
    user = await world.user("reader")
    await world.member(root, user, AccessLevel.GUEST)
    await world.member(leaf, user, AccessLevel.DEVELOPER)
    ctx = _ctx(world, user)
    found = await group_by_full_path(ctx, path)
    assert found is not None and found.full_path == path
    chain = [g for g in (leaf, mid, root) if path.startswith(g.full_path)]
    counted = world.db.counter.count
    primed = [await ctx.group_level(g.id) for g in chain]
    assert world.db.counter.count == counted
    assert primed == (await _queried(world, user, chain, project))[:-1]


async def test_an_anonymous_lookup_assumes_no_level(world: World) -> None:
    root, _, _, project = await _chain(world)
    ctx = RequestContext.build(world.db, Actor(user=None, scopes=frozenset()))
    assert await project_by_full_path(ctx, "acme/sales/emea/web") == project
    assert (await ctx.group_level(root.id), await ctx.project_level(project.id)) == (0, 0)
