"""Read models built slot by slot equal the ones their dataclass builds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crmgraph.domain.contacts import ContactWithOrganization, Organization
from crmgraph.domain.issues import Issue, IssueState
from crmgraph.persistence.builders import slot_builder

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ORGANIZATION = (7, 1, "Acme", Decimal("120.50"), None, True, NOW, NOW)


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (Organization, ORGANIZATION),
        (
            ContactWithOrganization,
            (3, 1, 7, "Ada", "Lovelace", "ada@example.com", None, "x", False, NOW, None,
             Organization(*ORGANIZATION)),
        ),
        (Issue, (5, 2, 1, "Title", None, IssueState.CLOSED, True, 9, NOW, NOW, NOW)),
    ],
)  # fmt: skip
def test_a_built_object_equals_the_one_its_dataclass_builds(
    cls: type, values: tuple[object, ...]
) -> None:
    built = slot_builder(cls)(*values)
    assert type(built) is cls
    assert built == cls(*values)
    assert dataclasses.astuple(built) == dataclasses.astuple(cls(*values))


def test_a_built_object_stays_frozen() -> None:
    built = slot_builder(Organization)(*ORGANIZATION)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "Other"  # type: ignore[misc]


def test_classes_whose_init_does_more_are_refused() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            assert self.value > 0

    @dataclasses.dataclass(frozen=True)
    class Unslotted:
        value: int

    with pytest.raises(TypeError, match="does more than store"):
        slot_builder(Checked)
    with pytest.raises(TypeError, match="not a slotted dataclass"):
        slot_builder(Unslotted)
