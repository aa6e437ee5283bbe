import json

import pytest

from crmgraph.domain.quick_actions import (
    Command,
    ParseResult,
    only_commands,
    parse_quick_actions,
    to_dict,
)

ANN = "ann@example.com"
BOB = "bob@example.org"
HINT = "write each contact as [contact:ann@example.com] or as a plain email address."


def add(*emails: str, line: int = 1, error: str | None = None) -> Command:
    return Command("add_contacts", list(emails), line, error)


def remove(*emails: str, line: int = 1, error: str | None = None) -> Command:
    return Command("remove_contacts", list(emails), line, error)


def needs_contact(name: str) -> str:
    return f"/{name} needs at least one contact, e.g. /{name} [contact:ann@example.com]"


CASES = [
    # Token forms
    ("bracket-form", f"/add_contacts [contact:{ANN}]", "", [add(ANN)]),
    ("quoted-prefix-form", f'/add_contacts ["contact:"{ANN}"]', "", [add(ANN)]),
    ("quoted-email-form", f'/add_contacts [contact:"{ANN}"]', "", [add(ANN)]),
    ("bare-email-form", f"/add_contacts {ANN}", "", [add(ANN)]),
    (
        "all-forms-in-one-line",
        f'/add_contacts [contact:{ANN}] ["contact:"{BOB}"] [contact:"c@x.io"] d@x.io',
        "",
        [add(ANN, BOB, "c@x.io", "d@x.io")],
    ),
    (
        "email-case-preserved",
        "/add_contacts [contact:Ann@Example.COM]",
        "",
        [add("Ann@Example.COM")],
    ),
    ("contact-prefix-any-case", f"/add_contacts [Contact:{ANN}]", "", [add(ANN)]),
    ("tabs-between-tokens", f"/add_contacts\t{ANN}\t\t{BOB}", "", [add(ANN, BOB)]),
    ("many-spaces-between-tokens", f"/add_contacts   {ANN}    {BOB}", "", [add(ANN, BOB)]),
    ("remove-command", f"/remove_contacts [contact:{ANN}]", "", [remove(ANN)]),
    # Command names
    ("name-upper-case", f"/ADD_CONTACTS {ANN}", "", [add(ANN)]),
    ("name-mixed-case", f"/Remove_Contacts {ANN}", "", [remove(ANN)]),
    ("unknown-shrug", "/shrug", "/shrug", []),
    ("unknown-label", "/label ~bug", "/label ~bug", []),
    ("unknown-name-with-suffix", f"/add_contactsx {ANN}", f"/add_contactsx {ANN}", []),
    ("no-space-after-name", f"/add_contacts[contact:{ANN}]", f"/add_contacts[contact:{ANN}]", []),
    ("slash-not-at-line-start", f"please /add_contacts {ANN}", f"please /add_contacts {ANN}", []),
    ("double-slash", f"//add_contacts {ANN}", f"//add_contacts {ANN}", []),
    # Indentation
    ("one-leading-space", f" /add_contacts {ANN}", "", [add(ANN)]),
    ("three-leading-spaces", f"   /add_contacts {ANN}", "", [add(ANN)]),
    ("four-spaces-are-code", f"    /add_contacts {ANN}", f"    /add_contacts {ANN}", []),
    ("tab-is-code", f"\t/add_contacts {ANN}", f"\t/add_contacts {ANN}", []),
    (
        "indented-code-after-prose",
        f"Run:\n\n    /add_contacts {ANN}",
        f"Run:\n\n    /add_contacts {ANN}",
        [],
    ),
    # Fenced code
    (
        "backtick-fence",
        f"```\n/add_contacts {ANN}\n```",
        f"```\n/add_contacts {ANN}\n```",
        [],
    ),
    (
        "tilde-fence",
        f"~~~\n/add_contacts {ANN}\n~~~",
        f"~~~\n/add_contacts {ANN}\n~~~",
        [],
    ),
    (
        "fence-with-info-string",
        f"```python\n/add_contacts {ANN}\n```\n/add_contacts {BOB}",
        f"```python\n/add_contacts {ANN}\n```",
        [add(BOB, line=4)],
    ),
    (
        "indented-fence",
        f"   ~~~ text\n/add_contacts {ANN}\n   ~~~",
        f"   ~~~ text\n/add_contacts {ANN}\n   ~~~",
        [],
    ),
    (
        "unclosed-fence-runs-to-end",
        f"```\n/add_contacts {ANN}\n\n/remove_contacts {BOB}",
        f"```\n/add_contacts {ANN}\n\n/remove_contacts {BOB}",
        [],
    ),
    (
        "tilde-does-not-close-backtick",
        f"```\n~~~\n/add_contacts {ANN}\n```\n/add_contacts {BOB}",
        f"```\n~~~\n/add_contacts {ANN}\n```",
        [add(BOB, line=5)],
    ),
    (
        "shorter-fence-does-not-close",
        f"````\n```\n/add_contacts {ANN}\n````\n/add_contacts {BOB}",
        f"````\n```\n/add_contacts {ANN}\n````",
        [add(BOB, line=5)],
    ),
    (
        "fence-with-info-does-not-close",
        f"```\n``` ruby\n/add_contacts {ANN}\n```\n/add_contacts {BOB}",
        f"```\n``` ruby\n/add_contacts {ANN}\n```",
        [add(BOB, line=5)],
    ),
    (
        "fence-indented-4-spaces-does-not-close",
        f"```\n    ```\n/add_contacts {ANN}",
        f"```\n    ```\n/add_contacts {ANN}",
        [],
    ),
    (
        "closing-fence-with-trailing-spaces-closes",
        f"~~~~\n/add_contacts {ANN}\n~~~~~  \n/add_contacts {BOB}",
        f"~~~~\n/add_contacts {ANN}\n~~~~~",
        [add(BOB, line=4)],
    ),
    (
        "inline-triple-backticks-are-not-a-fence",
        f"```x``` is code\n/add_contacts {ANN}",
        "```x``` is code",
        [add(ANN, line=2)],
    ),
    (
        "two-backticks-are-not-a-fence",
        f"``\n/add_contacts {ANN}",
        "``",
        [add(ANN, line=2)],
    ),
    # Blockquotes
    ("blockquote", f"> /add_contacts {ANN}", f"> /add_contacts {ANN}", []),
    (
        "gitlab-multiline-blockquote",
        f">>>\n/add_contacts {ANN}\n>>>\n/remove_contacts {BOB}",
        f">>>\n/add_contacts {ANN}\n>>>",
        [remove(BOB, line=4)],
    ),
    # Several commands, position in the text
    (
        "two-commands-accumulate",
        f"/add_contacts {ANN}\n/add_contacts {BOB}",
        "",
        [add(ANN), add(BOB, line=2)],
    ),
    (
        "add-and-remove",
        f"/remove_contacts {BOB}\n/add_contacts {ANN}",
        "",
        [remove(BOB), add(ANN, line=2)],
    ),
    (
        "command-in-the-middle-of-prose",
        f"Hello team,\n/add_contacts {ANN}\nthanks!",
        "Hello team,\nthanks!",
        [add(ANN, line=2)],
    ),
    (
        "blank-lines-inside-kept",
        f"First\n\n/add_contacts {ANN}\n\nSecond",
        "First\n\n\nSecond",
        [add(ANN, line=3)],
    ),
    (
        "surrounding-blank-lines-trimmed",
        f"\n\n/add_contacts {ANN}\nBody\n\n/remove_contacts {BOB}\n\n",
        "Body",
        [add(ANN, line=3), remove(BOB, line=6)],
    ),
    (
        "leading-indentation-of-first-line-kept",
        f"/add_contacts {ANN}\n    code()",
        "    code()",
        [add(ANN)],
    ),
    ("empty-text", "", "", []),
    ("only-blank-lines", "\n  \n\t\n", "", []),
    ("prose-without-commands", "Just a note.\nTwo lines.", "Just a note.\nTwo lines.", []),
    # Line endings and whitespace
    (
        "crlf",
        f"Hi\r\n/add_contacts {ANN}\r\nBye\r\n",
        "Hi\nBye",
        [add(ANN, line=2)],
    ),
    (
        "lone-cr",
        f"Hi\r/add_contacts {ANN}\rBye",
        "Hi\nBye",
        [add(ANN, line=2)],
    ),
    ("trailing-whitespace", f"/add_contacts {ANN}  \t ", "", [add(ANN)]),
    ("unicode-line-separator-is-not-a-break", "a\u2028/shrug", "a\u2028/shrug", []),
    # Errors
    ("no-arguments", "/add_contacts", "", [add(error=needs_contact("add_contacts"))]),
    (
        "no-arguments-only-spaces",
        "Body\n/remove_contacts   ",
        "Body",
        [remove(line=2, error=needs_contact("remove_contacts"))],
    ),
    (
        "bad-token",
        "/add_contacts xyz",
        "",
        [add(error=f'Could not parse "xyz" in /add_contacts: {HINT}')],
    ),
    (
        "mixed-valid-and-invalid-tokens",
        f"/add_contacts [contact:{ANN}] xyz {BOB} [contact:]",
        "",
        [add(ANN, BOB, error=f'Could not parse "xyz" and "[contact:]" in /add_contacts: {HINT}')],
    ),
    (
        "three-bad-tokens",
        "/remove_contacts a b c",
        "",
        [remove(error=f'Could not parse "a", "b" and "c" in /remove_contacts: {HINT}')],
    ),
    (
        "unbalanced-quotes",
        f'/add_contacts [contact:"{ANN}]',
        "",
        [add(error=f'Could not parse "[contact:"{ANN}]" in /add_contacts: {HINT}')],
    ),
    (
        "two-at-signs",
        "/add_contacts a@b@c",
        "",
        [add(error=f'Could not parse "a@b@c" in /add_contacts: {HINT}')],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected_text", "expected_commands"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_parse_quick_actions(
    text: str, expected_text: str, expected_commands: list[Command]
) -> None:
    assert parse_quick_actions(text) == ParseResult(expected_text, expected_commands)


def test_case_table_is_large_and_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) >= 45
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"/add_contacts {ANN}", True, id="one-command"),
        pytest.param(f"\n/add_contacts {ANN}\n\n/remove_contacts {BOB}\n", True, id="commands"),
        pytest.param("/add_contacts", True, id="command-with-error"),
        pytest.param(f"Hi\n/add_contacts {ANN}", False, id="command-and-prose"),
        pytest.param("", False, id="empty"),
        pytest.param("/shrug", False, id="unknown-command"),
    ],
)
def test_only_commands(text: str, expected: bool) -> None:
    assert only_commands(parse_quick_actions(text)) is expected


def test_to_dict_is_json_ready() -> None:
    result = parse_quick_actions(f"Hi\n/add_contacts {ANN} nope")

    assert json.loads(json.dumps(to_dict(result))) == {
        "text": "Hi",
        "commands": [
            {
                "name": "add_contacts",
                "args": [ANN],
                "line": 2,
                "error": f'Could not parse "nope" in /add_contacts: {HINT}',
            }
        ],
    }
