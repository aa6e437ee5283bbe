"""Group.contacts / Group.organizations as GitLab's web client uses them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from crmgraph.domain.contacts import Contact
from crmgraph.domain.groups import Group
from crmgraph.domain.ids import to_gid
from crmgraph.domain.roles import AccessLevel
from crmgraph.persistence import contacts as contacts_repo
from tests.world import World

# The shape of GitLab's own contacts query (crm/contacts/components/queries).
CONTACTS = """
query contacts($groupFullPath: ID!, $searchTerm: String, $state: CustomerRelationsContactState,
  $sort: ContactSort, $firstPageSize: Int, $lastPageSize: Int, $prevPageCursor: String = "",
  $nextPageCursor: String = "", $ids: [CustomerRelationsContactID!]) {
  group(fullPath: $groupFullPath) {
    id
    contacts(search: $searchTerm, state: $state, sort: $sort, first: $firstPageSize,
      last: $lastPageSize, after: $nextPageCursor, before: $prevPageCursor, ids: $ids) {
      nodes { id firstName lastName email phone description active
        organization { id name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
COUNTS = """
query counts($groupFullPath: ID!, $searchTerm: String) {
  group(fullPath: $groupFullPath) {
    contactStateCounts(search: $searchTerm) { all active inactive }
    organizationStateCounts(search: $searchTerm) { all active inactive }
  }
}
"""
ORGANIZATIONS = """
query orgs($path: ID!, $sort: OrganizationSort, $first: Int, $after: String, $search: String) {
  group(fullPath: $path) {
    organizations(sort: $sort, first: $first, after: $after, search: $search) {
      nodes { name defaultRate description active }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
LONG_WORD = "supercalifragilisticexpialidocious-extra"
CONTACT_SORTS = [
    f"{field}_{direction}"
    for field in (
        "CREATED", "UPDATED", "FIRST_NAME", "LAST_NAME", "EMAIL", "PHONE", "DESCRIPTION",
        "ORGANIZATION",
    )
    for direction in ("ASC", "DESC")
]  # fmt: skip


@dataclass
class Crm:
    world: World
    root: Group
    sub: Group
    token: str
    contacts: dict[str, Contact]

    async def contacts_query(self, token: str | None = None, **variables: Any) -> Any:
        variables.setdefault("groupFullPath", "acme")
        response = await self.world.gql(CONTACTS, variables, token=token or self.token)
        assert response.error_messages == []
        return response.data["group"]["contacts"]

    async def names(self, **variables: Any) -> list[str]:
        found = await self.contacts_query(**variables)
        return [node["firstName"] for node in found["nodes"]]


@pytest.fixture
async def crm(world: World) -> Crm:
    root = await world.group("acme")
    sub = await world.group("support", root)
    planner = await world.user("pat")
    await world.member(root, planner, AccessLevel.PLANNER)
    initech = await world.organization(root, "Initech", default_rate="120.50")
    globex = await world.organization(root, "Globex", description="Big")
    await world.organization(root, "Hooli", active=False)
    people = [
        ("Ann", "Lee", "ann@example.com", {"organization": initech, "phone": "555-1"}),
        ("Bob", "Lee", None, {"organization": globex, "description": "VIP buyer"}),
        ("Cyd", "Abbot", "cyd@example.com", {"active": False}),
        ("Dan", "Zed", "dan@example.org", {"organization": initech, "phone": "555-0"}),
        ("Eve", "Lee", "eve@example.com", {"description": "Met at the fair"}),
    ]
    contacts = {}
    for first, last, email, extra in people:
        contacts[first] = await world.contact(root, first, last, email, **extra)
    other = await world.group("other")
    await world.contact(other, "Zoe", "Lee", "zoe@example.com")
    return Crm(world, root, sub, await world.token(planner), contacts)


async def test_gitlab_client_query_lists_by_last_name_then_first_name(crm: Crm) -> None:
    found = await crm.contacts_query(state="all", sort="LAST_NAME_ASC", firstPageSize=20)
    assert [n["firstName"] for n in found["nodes"]] == ["Cyd", "Ann", "Bob", "Eve", "Dan"]
    assert found["nodes"][0]["id"] == to_gid("CustomerRelations::Contact", crm.contacts["Cyd"].id)
    assert found["nodes"][1]["organization"]["name"] == "Initech"
    assert found["pageInfo"]["hasNextPage"] is False


async def test_default_sort_is_last_name_ascending(crm: Crm) -> None:
    assert await crm.names() == ["Cyd", "Ann", "Bob", "Eve", "Dan"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("lee", ["Ann", "Bob", "Eve"]),
        ("ann lee", ["Ann"]),
        ("LEE vip", ["Bob"]),
        ("example.org", ["Dan"]),
        ("fair", ["Eve"]),
        ("", ["Cyd", "Ann", "Bob", "Eve", "Dan"]),
        ("lee nobody", []),
        ("%", []),
    ],
)
async def test_search_needs_every_word_to_match_some_column(
    crm: Crm, search: str, expected: list[str]
) -> None:
    assert await crm.names(searchTerm=search) == expected


async def test_searches_of_one_shape_each_find_their_own_group_words_and_organizations(
    crm: Crm,
) -> None:
    # A search's statement is built once per shape and run with each request's values.
    admin = await crm.world.token(await crm.world.user("root", admin=True))
    searches = [
        ("acme", "fair", ["Eve"], [None]),
        ("acme", "buyer", ["Bob"], ["Globex"]),
        ("other", "zoe@", ["Zoe"], [None]),
        ("acme", "zoe@", [], []),
        ("acme", "ann", ["Ann"], ["Initech"]),
        ("acme", "ann example", ["Ann"], ["Initech"]),
        ("acme", "dan example", ["Dan"], ["Initech"]),
    ]
    for path, search, names, organizations in searches:
        found = await crm.contacts_query(admin, groupFullPath=path, searchTerm=search)
        assert [node["firstName"] for node in found["nodes"]] == names, search
        assert [
            node["organization"] and node["organization"]["name"] for node in found["nodes"]
        ] == organizations, search


async def test_a_search_finds_a_contact_by_its_new_name_not_its_old_one(crm: Crm) -> None:
    # PostgreSQL keeps the searched text in a generated column, written with the row.
    async with crm.world.db.transaction() as conn:
        await contacts_repo.update_contact(
            conn, crm.contacts["Dan"].id, {"last_name": "Quixote"}, crm.world.now()
        )
    assert await crm.names(searchTerm="quixote") == ["Dan"]
    assert await crm.names(searchTerm="zed") == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("nakamura-lee", ["Kim"]),
        ("NAKAMURA", ["Lou", "Kim"]),
        # Every four-character slice ("abcd", "bcde") is in Max's text, the word is not.
        ("abcde", []),
        ("abcd", ["Max"]),
        ("50%_off", ["Kim"]),
        ("50%xoff", []),
        ("deal\\x", ["Kim"]),
        ("deal_x", []),
        ("o'brien", ["Pat"]),
        ("'; drop table users; --", []),
        # Longer than the part of a word that is sliced into grams: LIKE tests the rest.
        (LONG_WORD, ["Max"]),
        (LONG_WORD[:-1] + "b", []),
    ],
)
async def test_search_matches_words_literally_whatever_their_length(
    crm: Crm, search: str, expected: list[str]
) -> None:
    # Words of four characters or more take the gram indexes on PostgreSQL; the results
    # must be LIKE's, wildcards and backslashes included.
    await crm.world.contact(crm.root, "Kim", "Nakamura-Lee", description="50%_off deal\\x")
    await crm.world.contact(crm.root, "Lou", "Lee-Nakamura")
    await crm.world.contact(crm.root, "Pat", "O'Brien")
    await crm.world.contact(crm.root, "Max", "Abcd", description=f"bcde {LONG_WORD}")
    assert await crm.names(searchTerm=search) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("all", ["Cyd", "Ann", "Bob", "Eve", "Dan"]),
        ("active", ["Ann", "Bob", "Eve", "Dan"]),
        ("inactive", ["Cyd"]),
    ],
)
async def test_state_filter(crm: Crm, state: str, expected: list[str]) -> None:
    assert await crm.names(state=state) == expected


async def test_ids_restrict_the_list(crm: Crm) -> None:
    ids = [to_gid("CustomerRelations::Contact", crm.contacts[n].id) for n in ("Eve", "Ann")]
    assert await crm.names(ids=ids) == ["Ann", "Eve"]


async def test_a_malformed_id_is_refused_with_gitlabs_message(crm: Crm) -> None:
    response = await crm.world.gql(
        CONTACTS, {"groupFullPath": "acme", "ids": ["gid://gitlab/Issue/1"]}, token=crm.token
    )
    assert (
        "does not represent an instance of CustomerRelations::Contact"
        in (response.error_messages[0])
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("EMAIL_ASC", ["Ann", "Cyd", "Dan", "Eve", "Bob"]),
        ("EMAIL_DESC", ["Eve", "Dan", "Cyd", "Ann", "Bob"]),
        ("PHONE_ASC", ["Dan", "Ann", "Bob", "Cyd", "Eve"]),
        ("ORGANIZATION_ASC", ["Bob", "Ann", "Dan", "Cyd", "Eve"]),
        ("ORGANIZATION_DESC", ["Dan", "Ann", "Bob", "Eve", "Cyd"]),
        ("DESCRIPTION_DESC", ["Bob", "Eve", "Dan", "Cyd", "Ann"]),
        ("FIRST_NAME_DESC", ["Eve", "Dan", "Cyd", "Bob", "Ann"]),
        ("CREATED_DESC", ["Eve", "Dan", "Cyd", "Bob", "Ann"]),
    ],
)
async def test_sorts_put_nulls_last_in_both_directions_and_break_ties_by_id(
    crm: Crm, sort: str, expected: list[str]
) -> None:
    assert await crm.names(sort=sort) == expected


@pytest.mark.parametrize("sort", CONTACT_SORTS)
async def test_paging_two_at_a_time_gives_the_same_order_forward_and_backward(
    crm: Crm, sort: str
) -> None:
    everything = await crm.names(sort=sort, firstPageSize=100)
    forward: list[str] = []
    cursor = ""
    while True:
        page = await crm.contacts_query(sort=sort, firstPageSize=2, nextPageCursor=cursor)
        forward += [n["firstName"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    backward: list[str] = []
    cursor = ""
    while True:
        page = await crm.contacts_query(sort=sort, lastPageSize=2, prevPageCursor=cursor)
        backward = [n["firstName"] for n in page["nodes"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        cursor = page["pageInfo"]["startCursor"]
    assert forward == everything
    assert backward == everything
    assert len(everything) == 5


async def test_state_counts_follow_the_search(crm: Crm) -> None:
    response = await crm.world.gql(COUNTS, {"groupFullPath": "acme"}, token=crm.token)
    assert response.data["group"] == {
        "contactStateCounts": {"all": 5, "active": 4, "inactive": 1},
        "organizationStateCounts": {"all": 3, "active": 2, "inactive": 1},
    }
    searched = await crm.world.gql(
        COUNTS, {"groupFullPath": "acme", "searchTerm": "zz"}, token=crm.token
    )
    assert searched.data["group"]["contactStateCounts"] == {"all": 0, "active": 0, "inactive": 0}


async def test_a_subgroup_lists_its_crm_groups_records(crm: Crm) -> None:
    assert await crm.names(groupFullPath="acme/support") == ["Cyd", "Ann", "Bob", "Eve", "Dan"]


async def test_a_contact_source_decides_for_the_group_and_its_subgroups(crm: Crm) -> None:
    world = crm.world
    source = await world.group("partners")
    await world.contact(source, "Pia", "Source", "pia@example.com")
    owner = await world.user("olga")
    await world.member(crm.root, owner, AccessLevel.OWNER)
    await world.member(source, owner, AccessLevel.PLANNER)
    await world.set_group(crm.sub, crm_source_group_id=source.id)
    deeper = await world.group("tier2", crm.sub)
    token = await world.token(owner)
    for path in ("acme/support", deeper.full_path):
        found = await crm.contacts_query(token=token, groupFullPath=path)
        assert [n["firstName"] for n in found["nodes"]] == ["Pia"]
    # The root keeps its own contacts.
    root_list = await crm.contacts_query(token=token, groupFullPath="acme")
    assert len(root_list["nodes"]) == 5


@pytest.mark.parametrize("level", [None, AccessLevel.GUEST])
async def test_without_crm_read_the_list_is_empty_and_counts_null(
    crm: Crm, level: AccessLevel | None
) -> None:
    user = await crm.world.user("someone")
    if level is not None:
        await crm.world.member(crm.root, user, level)
    token = await crm.world.token(user)
    response = await crm.world.gql(
        '{ group(fullPath: "acme") { contacts { nodes { id } } organizations { nodes { id } } '
        "contactStateCounts { all } } }",
        token=token,
    )
    assert response.error_messages == []
    if level is None:
        assert response.data["group"] is None
    else:
        assert response.data["group"] == {
            "contacts": {"nodes": []},
            "organizations": {"nodes": []},
            "contactStateCounts": None,
        }


async def test_subgroup_membership_gives_no_crm_read(crm: Crm) -> None:
    user = await crm.world.user("subby")
    await crm.world.member(crm.sub, user, AccessLevel.OWNER)
    token = await crm.world.token(user)
    found = await crm.contacts_query(token=token, groupFullPath="acme/support")
    assert found["nodes"] == []


async def test_crm_disabled_in_the_crm_group_hides_everything(crm: Crm) -> None:
    await crm.world.set_group(crm.root, crm_enabled=False)
    assert await crm.names() == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("NAME_ASC", ["Globex", "Hooli", "Initech"]),
        ("NAME_DESC", ["Initech", "Hooli", "Globex"]),
        ("DEFAULT_RATE_ASC", ["Initech", "Globex", "Hooli"]),
        ("DEFAULT_RATE_DESC", ["Initech", "Hooli", "Globex"]),
        ("DESCRIPTION_ASC", ["Globex", "Initech", "Hooli"]),
    ],
)
async def test_organization_sorts(crm: Crm, sort: str, expected: list[str]) -> None:
    response = await crm.world.gql(ORGANIZATIONS, {"path": "acme", "sort": sort}, token=crm.token)
    assert [n["name"] for n in response.data["group"]["organizations"]["nodes"]] == expected


async def test_organization_fields_and_paging(crm: Crm) -> None:
    first = await crm.world.gql(ORGANIZATIONS, {"path": "acme", "first": 2}, token=crm.token)
    page = first.data["group"]["organizations"]
    assert page["nodes"][0] == {
        "name": "Globex", "defaultRate": None, "description": "Big", "active": True,
    }  # fmt: skip
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await crm.world.gql(
        ORGANIZATIONS,
        {"path": "acme", "first": 2, "after": page["pageInfo"]["endCursor"]},
        token=crm.token,
    )
    nodes = rest.data["group"]["organizations"]["nodes"]
    assert [(n["name"], n["defaultRate"], n["active"]) for n in nodes] == [("Initech", 120.5, True)]


@pytest.mark.parametrize("sort", ["LAST_NAME_ASC", "EMAIL_DESC", "ORGANIZATION_ASC"])
async def test_searches_page_in_the_same_order_as_one_long_page(crm: Crm, sort: str) -> None:
    # Searches filter before sorting (persistence.queries.fetch_page); paging must agree.
    everything = await crm.names(sort=sort, searchTerm="e", firstPageSize=100)
    paged: list[str] = []
    cursor = ""
    while True:
        page = await crm.contacts_query(
            sort=sort, searchTerm="e", firstPageSize=2, nextPageCursor=cursor
        )
        paged += [n["firstName"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert paged == everything
    assert len(everything) == 5
