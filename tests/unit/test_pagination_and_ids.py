"""Page arguments, opaque cursors and GitLab global IDs."""

from __future__ import annotations

import base64

import pytest

from crmgraph.domain.errors import InvalidArgument, PublicError
from crmgraph.domain.ids import MAX_ID, GlobalIdError, parse_gid, parse_number, to_gid
from crmgraph.domain.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    PageArgs,
    decode_cursor,
    encode_cursor,
)

INVALID_CURSOR = "Please provide a valid cursor"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, PageArgs()),
        ({"after": ""}, PageArgs()),
        ({"before": ""}, PageArgs()),
        ({"after": "", "before": "", "first": 3}, PageArgs(first=3)),
        ({"after": "abc"}, PageArgs(after="abc")),
        ({"first": 0}, PageArgs(first=0)),
        ({"first": 100}, PageArgs(first=100)),
        ({"first": 101}, PageArgs(first=100)),
        ({"first": 500}, PageArgs(first=100)),
        ({"last": 10_000}, PageArgs(last=100)),
        ({"first": 5, "last": 500}, PageArgs(first=5, last=100)),
    ],
)
def test_page_args_treat_empty_cursors_as_absent_and_cap_sizes(
    given: dict[str, object], expected: PageArgs
) -> None:
    assert PageArgs.of(**given) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["first", "last"])
def test_negative_page_size_is_refused(name: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        PageArgs.of(**{name: -1})  # type: ignore[arg-type]
    assert raised.value.message == f"Argument '{name}' must be a non-negative integer"


@pytest.mark.parametrize(
    ("args", "backward", "limit"),
    [
        (PageArgs(), False, DEFAULT_PAGE_SIZE),
        (PageArgs(first=7), False, 7),
        (PageArgs(last=4), True, 4),
        (PageArgs(first=7, last=4), False, 7),
    ],
)
def test_page_direction_and_limit(args: PageArgs, backward: bool, limit: int) -> None:
    assert args.backward is backward
    assert args.limit == limit
    assert MAX_PAGE_SIZE == DEFAULT_PAGE_SIZE == 100


@pytest.mark.parametrize(
    "values",
    [
        [1],
        ["2026-11-22T10:00:00+00:00", 42],
        ["Lee", "Ann", None, 3],
        ["naïve ünïcode ✓", "12.50", 0],
    ],
)
def test_cursor_round_trip(values: list[object]) -> None:
    cursor = encode_cursor(values)
    assert decode_cursor(cursor, len(values)) == values
    assert "=" not in cursor
    assert cursor.isascii()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "nope",
        "@@@@",
        "é",
        _b64(b"not json"),
        _b64(b'{"id": 1}'),
        _b64(b"1"),
        _b64(b'"text"'),
        _b64(b"\xff\xfe\x00"),
        encode_cursor([1, 2]),  # right shape, wrong length
        encode_cursor([]),
    ],
)
def test_garbage_cursor_is_refused_with_the_gitlab_message(cursor: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_cursor(cursor, 1)
    assert raised.value.message == INVALID_CURSOR
    assert str(raised.value) == INVALID_CURSOR


def test_page_cursors_and_mapping() -> None:
    page = Page(
        items=[1, 2, 3], cursors=["a", "b", "c"], has_next_page=True, has_previous_page=False
    )
    assert (page.start_cursor, page.end_cursor) == ("a", "c")
    doubled = page.map(lambda n: n * 2)
    assert doubled.items == [2, 4, 6]
    assert doubled.cursors == page.cursors
    assert (doubled.has_next_page, doubled.has_previous_page) == (True, False)
    empty: Page[int] = Page.empty()
    assert (empty.items, empty.start_cursor, empty.end_cursor) == ([], None, None)
    assert not empty.has_next_page and not empty.has_previous_page


@pytest.mark.parametrize(
    ("model", "pk", "gid"),
    [
        ("Issue", 1, "gid://gitlab/Issue/1"),
        ("Group", 123456789, "gid://gitlab/Group/123456789"),
        ("Note", 2147483647, "gid://gitlab/Note/2147483647"),
        ("CustomerRelations::Contact", 5, "gid://gitlab/CustomerRelations::Contact/5"),
    ],
)
def test_global_id_round_trip(model: str, pk: int, gid: str) -> None:
    assert to_gid(model, pk) == gid
    assert parse_gid(gid, model) == pk


@pytest.mark.parametrize(
    ("value", "model", "message"),
    [
        ("abc", "Issue", '"abc" is not a valid Global ID'),
        ("", "Issue", '"" is not a valid Global ID'),
        ("gid://gitlab/Issue/", "Issue", '"gid://gitlab/Issue/" is not a valid Global ID'),
        ("gid://gitlab/Issue/0", "Issue", '"gid://gitlab/Issue/0" is not a valid Global ID'),
        ("gid://gitlab/Issue/-1", "Issue", '"gid://gitlab/Issue/-1" is not a valid Global ID'),
        ("gid://gitlab/Issue/1x", "Issue", '"gid://gitlab/Issue/1x" is not a valid Global ID'),
        (" gid://gitlab/Issue/1", "Issue", '" gid://gitlab/Issue/1" is not a valid Global ID'),
        ("gid://other/Issue/1", "Issue", '"gid://other/Issue/1" is not a valid Global ID'),
        (
            "gid://gitlab/Issue/1",
            "CustomerRelations::Contact",
            '"gid://gitlab/Issue/1" does not represent an instance of CustomerRelations::Contact',
        ),
        (
            "gid://gitlab/Note/1",
            "Issue",
            '"gid://gitlab/Note/1" does not represent an instance of Issue',
        ),
        (
            "gid://gitlab/issue/1",
            "Issue",
            '"gid://gitlab/issue/1" does not represent an instance of Issue',
        ),
        (
            "gid://gitlab/Issue/2147483648",
            "Issue",
            '"gid://gitlab/Issue/2147483648" is not a valid Global ID',
        ),
        (17, "Issue", '"17" is not a valid Global ID'),
        (None, "Issue", '"None" is not a valid Global ID'),
    ],
)
def test_parse_gid_messages(value: object, model: str, message: str) -> None:
    with pytest.raises(GlobalIdError) as raised:
        parse_gid(value, model)
    assert raised.value.message == message
    assert isinstance(raised.value, PublicError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (" 42 ", 42),
        ("007", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 18, None),
        ("9" * 40, None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("", None),
        ("abc", None),
        ("²", None),
        ("\u0661", None),  # ARABIC-INDIC DIGIT ONE
    ],
)
def test_numbers_that_no_row_can_have_find_nothing(text: str, expected: int | None) -> None:
    assert parse_number(text) == expected
