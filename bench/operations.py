"""The standard operations Q1 to Q7: each a list of GraphQL request bodies (cycled)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

CONTACT_FIELDS = "id firstName lastName email phone active organization { id name defaultRate }"


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    bodies: list[dict[str, Any]]

    def payloads(self) -> list[str]:
        return [json.dumps(body) for body in self.bodies]


def build(facts: dict[str, Any]) -> list[Operation]:
    """Operations over the bench data; ``facts`` holds ids and cursors found beforehand."""
    gid = facts["contact_gids"]
    issues = facts["issues"]
    return [
        Operation(
            "Q1",
            "100 contacts with their organizations",
            [_q("{ group(fullPath: \"bench\") { contacts(first: 100) { nodes { "
                + CONTACT_FIELDS + " } pageInfo { hasNextPage endCursor } } } }")],
        ),
        Operation(
            "Q2",
            "a project's 100 newest issues with contacts and their organizations",
            [_q("{ project(fullPath: \"bench/p1\") { issues(first: 100) { nodes { iid title "
                "createdAt customerRelationsContacts { nodes { " + CONTACT_FIELDS
                + " } } } } } }")],
        ),
        Operation(
            "Q3",
            "contact search by a word over the CRM group",
            [_q("query($s: String) { group(fullPath: \"bench\") { contacts(search: $s, first: 20) "
                "{ nodes { id firstName lastName email } } } }", {"s": word})
             for word in facts["search_words"]],
        ),
        Operation(
            "Q4",
            "the page 50 pages deep (cursor)",
            [_q("query($a: String) { group(fullPath: \"bench\") { "
                "contacts(first: 100, after: $a) { nodes { id lastName } pageInfo { endCursor } } "
                "} }", {"a": facts["deep_cursor"]})],
        ),
        Operation(
            "Q5",
            "issueSetCrmContacts APPEND then REMOVE",
            # Spread over many issues, so clients do not all queue on one issue's lock.
            [
                _set_contacts(issue, [gid[n % len(gid)]], mode)
                for n, issue in enumerate(issues)
                for mode in ("APPEND", "REMOVE")
            ],
        ),
        Operation(
            "Q6",
            "createNote with an /add_contacts quick action",
            [_q("mutation($id: NoteableID!, $b: String!) { createNote(input: {noteableId: $id, "
                "body: $b}) { note { id } errors quickActionsStatus { messages errorMessages } } }",
                {"id": issue["gid"],
                 "b": f"Called them.\n/add_contacts [contact:{facts['email']}]"})
             for issue in issues],
        ),
        Operation("Q7", "{ currentUser { username } }", [_q("{ currentUser { username } }")]),
    ]  # fmt: skip


def _q(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"query": query, "variables": variables or {}}


def _set_contacts(issue: dict[str, Any], ids: list[str], mode: str) -> dict[str, Any]:
    return _q(
        "mutation($p: ID!, $i: String!, $c: [CustomerRelationsContactID!]!, "
        "$m: MutationOperationMode) { issueSetCrmContacts(input: {projectPath: $p, iid: $i, "
        "contactIds: $c, operationMode: $m}) { errors } }",
        {"p": issue["project"], "i": issue["iid"], "c": ids, "m": mode},
    )
