"""CRM contacts and organizations: the records, input cleaning and GitLab's messages."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Final, Literal, TypeAlias, TypeVar

from crmgraph.domain.ids import to_gid

MAX_NAME = 255
MAX_EMAIL = 255
MAX_PHONE = 32
MAX_DESCRIPTION = 1024
RATE_PLACES = 2
# numeric(18, 2) holds 16 digits before the point; larger values would fail in the database.
RATE_LIMIT = Decimal(10) ** (18 - RATE_PLACES)

EMAIL_TAKEN = "Email has already been taken"
NAME_TAKEN = "Name has already been taken"
ORGANIZATION_NOT_FOUND = "The specified organization was not found or does not belong to this group"
CONTACT_GROUP_REFUSED = (
    "contacts can only be added to root groups and groups configured as CRM targets"
)
ORGANIZATION_GROUP_REFUSED = (
    "organizations can only be added to root groups and groups configured as CRM targets"
)

# Ruby's URI::MailTo::EMAIL_REGEXP, the pragmatic check GitLab's users know.
EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
"""An input key the client did not send (as opposed to an explicit null)."""

_T = TypeVar("_T")
Maybe: TypeAlias = _T | Literal[_Unset.UNSET]


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    group_id: int
    organization_id: int | None
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    description: str | None
    active: bool
    #: None when a list left the timestamps out because the query did not ask for them.
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def gid(self) -> str:
        """Global ID, as GitLab writes it."""
        return to_gid("CustomerRelations::Contact", self.id)


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    group_id: int
    name: str
    default_rate: Decimal | None
    description: str | None
    active: bool
    #: None when a list left the timestamps out because the query did not ask for them.
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def gid(self) -> str:
        """Global ID, as GitLab writes it."""
        return to_gid("CustomerRelations::Organization", self.id)


@dataclass(frozen=True, slots=True)
class ContactWithOrganization(Contact):
    """A contact with its organization already loaded (lists load them once per page)."""

    organization: Organization | None = None


@dataclass(frozen=True, slots=True)
class ContactFields:
    """A contact's input: UNSET leaves a field as it is, None clears a nullable one."""

    first_name: Maybe[str | None] = UNSET
    last_name: Maybe[str | None] = UNSET
    email: Maybe[str | None] = UNSET
    phone: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    organization_id: Maybe[int | None] = UNSET
    active: Maybe[bool] = UNSET

    def provided(self) -> dict[str, object]:
        """The fields the client sent, by attribute name."""
        return _provided(self)


@dataclass(frozen=True, slots=True)
class OrganizationFields:
    """An organization's input: UNSET leaves a field as it is, None clears a nullable one."""

    name: Maybe[str | None] = UNSET
    default_rate: Maybe[Decimal | None] = UNSET
    description: Maybe[str | None] = UNSET
    active: Maybe[bool] = UNSET

    def provided(self) -> dict[str, object]:
        """The fields the client sent, by attribute name."""
        return _provided(self)


def clean_contact(
    given: ContactFields, *, creating: bool = False
) -> tuple[ContactFields, list[str]]:
    """Stripped and normalized fields, and GitLab's messages for what is wrong with them.

    When ``creating``, an UNSET name counts as blank; on update it is left alone.
    """
    first_name = _strip(given.first_name)
    last_name = _strip(given.last_name)
    email = _none_if_blank(_strip(given.email))
    phone = _none_if_blank(_strip(given.phone))
    # GitLab keeps a description as written; only an all-blank one is dropped.
    description = _none_if_blank(given.description)
    cleaned = replace(
        given,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        description=description,
    )
    # GitLab's validation order, so that clients see the same list.
    errors = [
        *_too_long("Phone", phone, MAX_PHONE),
        *_required("First name", first_name, creating=creating),
        *_required("Last name", last_name, creating=creating),
        *_too_long("Email", email, MAX_EMAIL),
        *_too_long("Description", description, MAX_DESCRIPTION),
        *_email_format(email),
    ]
    return cleaned, errors


def clean_organization(
    given: OrganizationFields, *, creating: bool = False
) -> tuple[OrganizationFields, list[str]]:
    """Stripped and normalized fields (rate with 2 places), and the messages for them.

    When ``creating``, an UNSET name counts as blank; on update it is left alone.
    """
    name = _strip(given.name)
    description = _none_if_blank(given.description)
    rate = given.default_rate
    rate_errors = _rate_errors(rate)
    if isinstance(rate, Decimal) and not rate_errors:
        rate = _two_places(rate)
    cleaned = replace(given, name=name, description=description, default_rate=rate)
    errors = [
        *_required("Name", name, creating=creating),
        *_too_long("Description", description, MAX_DESCRIPTION),
        *rate_errors,
    ]
    return cleaned, errors


def decimal_from_float(value: float) -> Decimal:
    """The decimal a client meant by a GraphQL Float: 0.1 is 0.1, not its binary expansion."""
    return Decimal(repr(value))


def is_valid_email(value: str) -> bool:
    return EMAIL.fullmatch(value) is not None


def _provided(record: ContactFields | OrganizationFields) -> dict[str, object]:
    values = {field.name: getattr(record, field.name) for field in fields(record)}
    return {name: value for name, value in values.items() if value is not UNSET}


def _strip(value: Maybe[str | None]) -> Maybe[str | None]:
    return value.strip() if isinstance(value, str) else value


def _none_if_blank(value: Maybe[str | None]) -> Maybe[str | None]:
    return None if isinstance(value, str) and not value.strip() else value


def _required(label: str, value: Maybe[str | None], *, creating: bool) -> list[str]:
    if value is UNSET and not creating:
        return []
    if not isinstance(value, str) or not value:
        return [f"{label} can't be blank"]
    return _too_long(label, value, MAX_NAME)


def _too_long(label: str, value: Maybe[str | None], maximum: int) -> list[str]:
    if isinstance(value, str) and len(value) > maximum:
        return [f"{label} is too long (maximum is {maximum} characters)"]
    return []


def _email_format(value: Maybe[str | None]) -> list[str]:
    if isinstance(value, str) and not is_valid_email(value):
        return ["Email is invalid"]
    return []


def _rate_errors(rate: Maybe[Decimal | None]) -> list[str]:
    if not isinstance(rate, Decimal):
        return []
    if not rate.is_finite():
        return ["Default rate is not a number"]
    errors = []
    if rate < 0:
        errors.append("Default rate must be greater than or equal to 0")
    if rate >= RATE_LIMIT:
        errors.append(f"Default rate must be less than {RATE_LIMIT}")
    if _decimal_places(rate) > RATE_PLACES:
        errors.append(f"Default rate must have at most {RATE_PLACES} decimal places")
    return errors


def _decimal_places(value: Decimal) -> int:
    # Exact digit arithmetic: normalize() would round to the context precision first,
    # and 1.0000000000000000000000000001 must not pass as 1.
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # only finite values get here
    places = -exponent
    for digit in reversed(digits):
        if places <= 0 or digit != 0:
            break
        places -= 1
    return max(places, 0)


def _two_places(rate: Decimal) -> Decimal:
    # copy_abs keeps -0 from being stored and shown as "-0.00".
    quantized = rate.quantize(Decimal(1).scaleb(-RATE_PLACES))
    return quantized.copy_abs() if quantized.is_zero() else quantized


class StateFilter(enum.StrEnum):
    """Which records a list shows, by state (GitLab's lower-case values)."""

    ALL = "all"
    ACTIVE = "active"
    INACTIVE = "inactive"
