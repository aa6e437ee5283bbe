from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from crmgraph.domain.contacts import (
    CONTACT_GROUP_REFUSED,
    EMAIL_TAKEN,
    NAME_TAKEN,
    ORGANIZATION_GROUP_REFUSED,
    ORGANIZATION_NOT_FOUND,
    UNSET,
    ContactFields,
    OrganizationFields,
    clean_contact,
    clean_organization,
    decimal_from_float,
    is_valid_email,
)

VALID = ContactFields(first_name="Ann", last_name="Lee")
ACME = OrganizationFields(name="Acme")
# 64 + 1 + 3 * 63 + 2 dots = 256 characters, syntactically fine.
LONG_VALID_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63] * 3)


def contact_errors(**values: Any) -> list[str]:
    _, errors = clean_contact(replace(VALID, **values))
    return errors


def fields_of(field: str, value: object) -> dict[str, Any]:
    return {field: value}


def organization_errors(**values: Any) -> list[str]:
    _, errors = clean_organization(replace(ACME, **values))
    return errors


def test_valid_contact_has_no_errors() -> None:
    assert clean_contact(VALID) == (VALID, [])


@pytest.mark.parametrize(("field", "label"), [("first_name", "First"), ("last_name", "Last")])
@pytest.mark.parametrize("value", ["", "   ", "\t\n", None])
def test_blank_name_is_refused_with_gitlab_message(
    field: str, label: str, value: str | None
) -> None:
    assert contact_errors(**{field: value}) == [f"{label} name can't be blank"]


@pytest.mark.parametrize(("field", "label"), [("first_name", "First"), ("last_name", "Last")])
def test_name_over_255_characters_is_refused(field: str, label: str) -> None:
    assert contact_errors(**{field: "x" * 256}) == [
        f"{label} name is too long (maximum is 255 characters)"
    ]


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_name_of_255_characters_after_stripping_is_accepted(field: str) -> None:
    assert contact_errors(**{field: "  " + "x" * 255 + "  "}) == []


@pytest.mark.parametrize(
    ("field", "given", "stored"),
    [
        ("first_name", "  Ann ", "Ann"),
        ("last_name", "\tLee\n", "Lee"),
        ("email", "  ann@example.com ", "ann@example.com"),
        ("phone", " +1 555 0100  ", "+1 555 0100"),
    ],
)
def test_surrounding_whitespace_is_stripped(field: str, given: str, stored: str) -> None:
    cleaned, errors = clean_contact(replace(VALID, **fields_of(field, given)))
    assert errors == []
    assert getattr(cleaned, field) == stored


def test_description_keeps_its_whitespace() -> None:
    cleaned, _ = clean_contact(ContactFields(description="  Met at the fair.\n"))
    assert cleaned.description == "  Met at the fair.\n"


@pytest.mark.parametrize("field", ["email", "phone", "description"])
@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_blank_optional_field_becomes_none(field: str, value: str) -> None:
    cleaned, errors = clean_contact(replace(ContactFields(), **fields_of(field, value)))
    assert errors == []
    assert getattr(cleaned, field) is None
    assert cleaned.provided() == {field: None}


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.com",
        "Ann.Lee+crm@mail.example.co.uk",
        "o'brien@example.org",
        "x@localhost",
        "a-b_c@sub-domain.example",
        LONG_VALID_EMAIL[:255],
    ],
)
def test_valid_email_is_accepted(email: str) -> None:
    assert is_valid_email(email)
    assert contact_errors(email=email) == []


@pytest.mark.parametrize(
    "email",
    [
        "ann",
        "ann@",
        "@example.com",
        "ann lee@example.com",
        "ann@exa mple.com",
        "ann@@example.com",
        "ann@-example.com",
        "ann@example-.com",
        "ann@example..com",
        "ann@example.com.",
        "ann@exam_ple.com",
        "ann@" + "b" * 64 + ".com",
        "änn@example.com",
    ],
)
def test_invalid_email_is_refused(email: str) -> None:
    assert not is_valid_email(email)
    assert contact_errors(email=email) == ["Email is invalid"]


def test_email_check_matches_the_whole_text() -> None:
    # The contact input is stripped first; the check itself must not accept a newline.
    assert not is_valid_email("ann@example.com\n")


def test_email_over_255_characters_is_refused_as_too_long() -> None:
    assert contact_errors(email=LONG_VALID_EMAIL) == [
        "Email is too long (maximum is 255 characters)"
    ]


def test_long_invalid_email_gets_both_messages_length_first() -> None:
    assert contact_errors(email="a" * 256) == [
        "Email is too long (maximum is 255 characters)",
        "Email is invalid",
    ]


@pytest.mark.parametrize(
    ("phone", "errors"),
    [
        ("1" * 32, []),
        ("  " + "1" * 32 + "  ", []),
        ("1" * 33, ["Phone is too long (maximum is 32 characters)"]),
    ],
)
def test_phone_is_limited_to_32_characters_after_stripping(phone: str, errors: list[str]) -> None:
    assert contact_errors(phone=phone) == errors


@pytest.mark.parametrize(
    ("description", "errors"),
    [
        ("d" * 1024, []),
        ("d" * 1025, ["Description is too long (maximum is 1024 characters)"]),
    ],
)
def test_contact_description_is_limited_to_1024_characters(
    description: str, errors: list[str]
) -> None:
    assert contact_errors(description=description) == errors


def test_several_contact_errors_come_in_gitlab_validation_order() -> None:
    _, errors = clean_contact(
        ContactFields(
            first_name=" ",
            last_name="x" * 256,
            email="not an email",
            phone="1" * 33,
            description="d" * 1025,
        )
    )
    assert errors == [
        "Phone is too long (maximum is 32 characters)",
        "First name can't be blank",
        "Last name is too long (maximum is 255 characters)",
        "Description is too long (maximum is 1024 characters)",
        "Email is invalid",
    ]


def test_update_without_keys_changes_nothing_and_is_valid() -> None:
    cleaned, errors = clean_contact(ContactFields())
    assert errors == []
    assert cleaned.provided() == {}
    assert cleaned.first_name is UNSET


def test_update_reports_only_the_keys_sent_with_explicit_null_kept() -> None:
    cleaned, errors = clean_contact(
        ContactFields(email=None, phone=" 42 ", organization_id=None, active=False)
    )
    assert errors == []
    assert cleaned.provided() == {
        "email": None,
        "phone": "42",
        "organization_id": None,
        "active": False,
    }


@pytest.mark.parametrize(("field", "label"), [("first_name", "First"), ("last_name", "Last")])
def test_explicit_null_for_a_required_name_is_refused_on_update(field: str, label: str) -> None:
    _, errors = clean_contact(replace(ContactFields(), **fields_of(field, None)))
    assert errors == [f"{label} name can't be blank"]


def test_missing_names_are_refused_on_create() -> None:
    _, errors = clean_contact(ContactFields(email="ann@example.com"), creating=True)
    assert errors == ["First name can't be blank", "Last name can't be blank"]


def test_valid_organization_has_no_errors() -> None:
    given = OrganizationFields(name="Acme", default_rate=Decimal("120.5"), description="Tools")
    cleaned, errors = clean_organization(given)
    assert errors == []
    assert cleaned == OrganizationFields(
        name="Acme", default_rate=Decimal("120.50"), description="Tools"
    )


@pytest.mark.parametrize("name", ["", "  ", None])
def test_blank_organization_name_is_refused(name: str | None) -> None:
    assert organization_errors(name=name) == ["Name can't be blank"]


def test_organization_name_is_stripped_before_the_length_check() -> None:
    cleaned, errors = clean_organization(OrganizationFields(name=" " + "n" * 255 + " "))
    assert errors == []
    assert cleaned.name == "n" * 255


def test_organization_name_over_255_characters_is_refused() -> None:
    assert organization_errors(name="n" * 256) == ["Name is too long (maximum is 255 characters)"]


def test_organization_description_over_1024_characters_is_refused() -> None:
    assert organization_errors(description="d" * 1025) == [
        "Description is too long (maximum is 1024 characters)"
    ]


@pytest.mark.parametrize(
    ("rate", "stored"),
    [
        (Decimal(0), Decimal("0.00")),
        (Decimal("-0"), Decimal("0.00")),
        (Decimal("99.9"), Decimal("99.90")),
        (Decimal("12.34"), Decimal("12.34")),
        (Decimal("1.500"), Decimal("1.50")),
        (Decimal("9999999999999999.99"), Decimal("9999999999999999.99")),
        (None, None),
    ],
)
def test_acceptable_default_rate_is_stored_with_two_places(
    rate: Decimal | None, stored: Decimal | None
) -> None:
    cleaned, errors = clean_organization(OrganizationFields(name="Acme", default_rate=rate))
    assert errors == []
    assert cleaned.default_rate == stored
    assert str(cleaned.default_rate) == str(stored)


@pytest.mark.parametrize(
    ("rate", "errors"),
    [
        (Decimal("-0.01"), ["Default rate must be greater than or equal to 0"]),
        (Decimal("1.234"), ["Default rate must have at most 2 decimal places"]),
        (
            Decimal("1.0000000000000000000000000001"),
            ["Default rate must have at most 2 decimal places"],
        ),
        (
            Decimal("-1.234"),
            [
                "Default rate must be greater than or equal to 0",
                "Default rate must have at most 2 decimal places",
            ],
        ),
        (Decimal("1E16"), ["Default rate must be less than 10000000000000000"]),
        (Decimal("NaN"), ["Default rate is not a number"]),
        (Decimal("Infinity"), ["Default rate is not a number"]),
    ],
)
def test_unacceptable_default_rate_is_refused(rate: Decimal, errors: list[str]) -> None:
    assert organization_errors(default_rate=rate) == errors


def test_several_organization_errors_come_in_field_order() -> None:
    _, errors = clean_organization(
        OrganizationFields(name=" ", description="d" * 1025, default_rate=Decimal(-1))
    )
    assert errors == [
        "Name can't be blank",
        "Description is too long (maximum is 1024 characters)",
        "Default rate must be greater than or equal to 0",
    ]


def test_organization_update_reports_only_the_keys_sent() -> None:
    cleaned, errors = clean_organization(OrganizationFields(default_rate=None, description=""))
    assert errors == []
    assert cleaned.provided() == {"default_rate": None, "description": None}


def test_missing_organization_name_is_refused_on_create() -> None:
    _, errors = clean_organization(OrganizationFields(), creating=True)
    assert errors == ["Name can't be blank"]


@pytest.mark.parametrize(
    ("value", "rate"),
    [(0.1, Decimal("0.1")), (120.5, Decimal("120.5")), (3.0, Decimal("3.0"))],
)
def test_float_rate_becomes_the_decimal_the_client_wrote(value: float, rate: Decimal) -> None:
    assert decimal_from_float(value) == rate
    assert organization_errors(default_rate=decimal_from_float(value)) == []


@pytest.mark.parametrize(
    ("constant", "message"),
    [
        (EMAIL_TAKEN, "Email has already been taken"),
        (NAME_TAKEN, "Name has already been taken"),
        (
            ORGANIZATION_NOT_FOUND,
            "The specified organization was not found or does not belong to this group",
        ),
        (
            CONTACT_GROUP_REFUSED,
            "contacts can only be added to root groups and groups configured as CRM targets",
        ),
        (
            ORGANIZATION_GROUP_REFUSED,
            "organizations can only be added to root groups and groups configured as CRM targets",
        ),
    ],
)
def test_messages_are_gitlabs_wording(constant: str, message: str) -> None:
    assert constant == message
