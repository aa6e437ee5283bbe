"""Quick actions: `/add_contacts` and `/remove_contacts` lines in issue and note text.

A pure function from text to commands plus the remaining text, shared by the mutations
and the `crmgraph quick-actions` command line.

Line endings: CRLF, LF and a lone CR each end a line (as in CommonMark); other Unicode
separators do not. The remaining text always uses `\\n`, and `Command.line` counts lines
that way, starting at 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

COMMAND_NAMES = frozenset({"add_contacts", "remove_contacts"})

# Up to 3 spaces like Markdown: 4 spaces or a tab make indented code, `>` a blockquote.
_COMMAND_LINE = re.compile(r" {0,3}/(\S+)(.*)")
# CommonMark: a backtick fence's info string may not contain a backtick.
_OPENING_CODE_FENCE = re.compile(r" {0,3}(`{3,}(?!.*`)|~{3,})")
_CLOSING_FENCE = re.compile(r" {0,3}(`{3,}|~{3,}|>{3})[ \t]*")
# GitLab's multi-line blockquote: a line `>>>`, the quoted lines, a line `>>>`.
_QUOTE_FENCE = re.compile(r">>>[ \t]*")

_EMAIL = r'([^@\s"\[\]]+@[^@\s"\[\]]+)'
# The four forms of spec §7; `contact:` in any case, for the caps-lock typist.
_CONTACT_FORMS = tuple(
    re.compile(form, re.IGNORECASE)
    for form in (
        rf"\[contact:{_EMAIL}\]",
        rf'\["contact:"{_EMAIL}"\]',
        rf'\[contact:"{_EMAIL}"\]',
        _EMAIL,
    )
)
_EXAMPLE = "[contact:ann@example.com]"


@dataclass(frozen=True, slots=True)
class Command:
    """One command line; `args` are the emails as written, `error` is for the user."""

    name: str
    args: list[str]
    line: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ParseResult:
    text: str
    commands: list[Command]


class CommandDict(TypedDict):
    name: str
    args: list[str]
    line: int
    error: str | None


class ParseResultDict(TypedDict):
    text: str
    commands: list[CommandDict]


@dataclass(frozen=True, slots=True)
class _Fence:
    char: str
    length: int

    def is_closed_by(self, line: str) -> bool:
        match = _CLOSING_FENCE.fullmatch(line)
        return match is not None and match[1][0] == self.char and len(match[1]) >= self.length


def parse_quick_actions(text: str) -> ParseResult:
    kept: list[str] = []
    commands: list[Command] = []
    fence: _Fence | None = None
    for number, line in enumerate(_split_lines(text), start=1):
        if fence is not None:
            # An unclosed fence runs to the end of the text, as in CommonMark.
            if fence.is_closed_by(line):
                fence = None
            kept.append(line)
            continue
        fence = _opening_fence(line)
        command = None if fence else _parse_command_line(line, number)
        if command is None:
            kept.append(line)
        else:
            commands.append(command)
    return ParseResult(text=_trim_blank_lines(kept), commands=commands)


def only_commands(result: ParseResult) -> bool:
    """True for text made of commands alone: such a note is not stored."""
    return bool(result.commands) and not result.text


def to_dict(result: ParseResult) -> ParseResultDict:
    return {
        "text": result.text,
        "commands": [
            {"name": c.name, "args": list(c.args), "line": c.line, "error": c.error}
            for c in result.commands
        ],
    }


def _split_lines(text: str) -> list[str]:
    # Not str.splitlines(): it also breaks on \v, \f, \x85, \u2028, ..., which Markdown
    # keeps inside a line.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _opening_fence(line: str) -> _Fence | None:
    if _QUOTE_FENCE.fullmatch(line):
        return _Fence(">", 3)
    match = _OPENING_CODE_FENCE.match(line)
    return _Fence(match[1][0], len(match[1])) if match else None


def _parse_command_line(line: str, number: int) -> Command | None:
    match = _COMMAND_LINE.fullmatch(line)
    # isascii: Unicode case folding must not turn another word into a command name.
    if match is None or not match[1].isascii() or match[1].lower() not in COMMAND_NAMES:
        return None
    name = match[1].lower()
    tokens = match[2].split()
    if not tokens:
        missing = f"/{name} needs at least one contact, e.g. /{name} {_EXAMPLE}"
        return Command(name=name, args=[], line=number, error=missing)
    emails: list[str] = []
    unreadable: list[str] = []
    for token in tokens:
        email = _email_of(token)
        if email is None:
            unreadable.append(token)
        else:
            emails.append(email)
    error = _unreadable_error(name, unreadable) if unreadable else None
    return Command(name=name, args=emails, line=number, error=error)


def _email_of(token: str) -> str | None:
    for form in _CONTACT_FORMS:
        match = form.fullmatch(token)
        if match:
            return match[1]
    return None


def _unreadable_error(name: str, tokens: list[str]) -> str:
    quoted = [f'"{token}"' for token in tokens]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    return (
        f"Could not parse {listed} in /{name}: write each contact as {_EXAMPLE} "
        "or as a plain email address."
    )


def _trim_blank_lines(lines: list[str]) -> str:
    # GitLab strip()s the whole text; keeping the first line's indentation instead keeps
    # leading indented code as code (strip would even turn `    /add_contacts` into a
    # command on the next edit).
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end]).rstrip()
