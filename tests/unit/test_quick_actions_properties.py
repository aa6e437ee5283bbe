"""Properties of the quick-action parser, checked against independent, simpler oracles."""

import re
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from crmgraph.domain.quick_actions import ParseResult, parse_quick_actions

NAMES = ("add_contacts", "remove_contacts")

# The spec's definition of a command line, written independently of the parser.
COMMAND_LINE = re.compile(r" {0,3}/([A-Za-z_]+)(?=\s|$)")
FENCE_LIKE = re.compile(r" {0,3}(```|~~~)|>>>[ \t]*$")

SETTINGS = settings(max_examples=300, deadline=None)

one_line = st.text(st.characters(exclude_characters="\r\n"), max_size=40)


def command_name(line: str) -> str | None:
    match = COMMAND_LINE.match(line)
    name = match[1].lower() if match else None
    return name if name in NAMES else None


def looks_like_command(line: str) -> bool:
    return command_name(line) is not None


def normalized_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def expected_text(kept: list[str]) -> str:
    """The kept lines without blank lines at either end and trailing whitespace."""
    return re.sub(r"\A(?:[^\S\n]*\n)+", "", "\n".join(kept).rstrip())


def is_subsequence(output: list[str], lines: list[str]) -> bool:
    # The last output line may have lost its trailing whitespace.
    remaining = iter(lines)
    for position, wanted in enumerate(output):
        last = position == len(output) - 1
        if not any(line == wanted or (last and line.rstrip() == wanted) for line in remaining):
            return False
    return True


def assert_consistent(text: str, result: ParseResult) -> None:
    lines = normalized_lines(text)
    assert "\r" not in result.text
    for command in result.commands:
        assert command.name in NAMES
        assert command_name(lines[command.line - 1]) == command.name
        assert all(email.count("@") == 1 and email == email.strip() for email in command.args)
        assert command.args or command.error
    kept = result.text.split("\n") if result.text else []
    assert len(kept) + len(result.commands) <= len(lines)
    assert is_subsequence(kept, lines)


def assert_idempotent(result: ParseResult) -> None:
    again = parse_quick_actions(result.text)
    assert again == ParseResult(result.text, [])


@SETTINGS
@given(st.text())
def test_arbitrary_text_never_raises_and_stays_consistent(text: str) -> None:
    result = parse_quick_actions(text)

    assert_consistent(text, result)
    assert_idempotent(result)


@SETTINGS
@given(
    st.lists(one_line.filter(lambda line: not FENCE_LIKE.match(line)), max_size=12),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_without_fences_every_other_line_survives_in_order(lines: list[str], newline: str) -> None:
    result = parse_quick_actions(newline.join(lines))

    assert result.text == expected_text([line for line in lines if not looks_like_command(line)])
    assert [c.line for c in result.commands] == [
        number for number, line in enumerate(lines, start=1) if looks_like_command(line)
    ]


# Documents built from blocks whose effect is known: (line, kept, command name or None).


@dataclass
class Document:
    lines: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    commands: list[tuple[str, int]] = field(default_factory=list)

    def add(self, line: str, *, command: str | None = None) -> None:
        self.lines.append(line)
        if command is None:
            self.kept.append(line)
        else:
            self.commands.append((command, len(self.lines)))


prose = one_line.filter(lambda line: not FENCE_LIKE.match(line) and not looks_like_command(line))
token = st.sampled_from(
    [
        "[contact:ann@example.com]",
        '["contact:"Bob@Example.org"]',
        '[contact:"c@x.io"]',
        "d@x.io",
        "xyz",
        "[contact:]",
        "@",
    ]
)


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(NAMES))
    spelled = "".join(c.upper() if draw(st.booleans()) else c for c in name)
    tokens = draw(st.lists(token, max_size=4))
    indent = " " * draw(st.integers(0, 3))
    trailing = draw(st.sampled_from(["", " ", "\t", "  \t"]))
    return f"{indent}/{spelled} {' '.join(tokens)}{trailing}", name


unknown_command = st.sampled_from(["/shrug", "/label ~bug", "/add_contactsx a@b.c", "/remove"])
fence = st.tuples(st.sampled_from("`~"), st.integers(3, 5), st.sampled_from(["", "python", " x"]))


@st.composite
def documents(draw: st.DrawFn) -> Document:
    doc = Document()
    for kind in draw(st.lists(st.sampled_from(["prose", "cmd", "code", "fence"]), max_size=10)):
        if kind == "prose":
            doc.add(draw(prose | unknown_command))
        elif kind == "cmd":
            line, name = draw(command_lines())
            doc.add(line, command=name)
        elif kind == "code":
            # Blockquoted, indented and GitLab-quoted commands are text.
            line, _ = draw(command_lines())
            template = draw(st.sampled_from(["> L", ">L", "    L", "\tL", ">>>\nL\n>>>"]))
            for part in template.replace("L", line.lstrip(" ")).split("\n"):
                doc.add(part)
        else:
            add_fenced_block(draw, doc, closed=True)
    if draw(st.booleans()):
        add_fenced_block(draw, doc, closed=False)
    return doc


def add_fenced_block(draw: st.DrawFn, doc: Document, *, closed: bool) -> None:
    char, length, info = draw(fence)
    doc.add(char * length + info)
    other = "~" if char == "`" else "`"
    not_closing = st.sampled_from(
        [other * length, char * (length - 1), char * length + " x", "    " + char * length]
    )
    for _ in range(draw(st.integers(0, 4))):
        doc.add(draw(prose | not_closing | command_lines().map(lambda pair: pair[0])))
    if closed:
        doc.add(" " * draw(st.integers(0, 3)) + char * (length + draw(st.integers(0, 2))))


@SETTINGS
@given(documents(), st.sampled_from(["\n", "\r\n", "\r"]))
def test_mixed_documents_give_exactly_the_commands_outside_code(
    doc: Document, newline: str
) -> None:
    text = newline.join(doc.lines)
    result = parse_quick_actions(text)

    assert [(c.name, c.line) for c in result.commands] == doc.commands
    assert result.text == expected_text(doc.kept)
    assert_consistent(text, result)
    assert_idempotent(result)
