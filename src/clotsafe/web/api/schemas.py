"""Request and response bodies of the API, as ninja (pydantic) schemas: they make the OpenAPI
document, and ninja checks every response against them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from clotsafe.web.texts import LEVELS

Level = Literal[LEVELS]  # type: ignore[valid-type]
LevelFilter = Literal[(*LEVELS, "incomplete")]  # type: ignore[valid-type]
LinkState = Literal["open", "submitted", "revoked", "expired"]
ScreeningKind = Literal["intake", "recheck", "clearance", "demo"]


class FieldErrorOut(Schema):
    field: str = Field(description="dotted path of the field, '' for the request as a whole")
    code: str = Field(description="a code of docs/errors.md or docs/api.md")
    message: str
    got: Any = Field(None, description="the value that arrived, when short")


class ErrorsOut(Schema):
    errors: list[FieldErrorOut]


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- clients --------------------------------------------------------------------------------


class ClientIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    reference: str = Field("", max_length=100)
    date_of_birth: dt.date | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)


class ClientPatch(_Strict):
    """Only the fields given change; ``archived`` moves the client off (or back on) the list."""

    name: str | None = Field(None, min_length=1, max_length=200)
    reference: str | None = Field(None, max_length=100)
    date_of_birth: dt.date | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    archived: bool | None = None


class ScreeningSummary(Schema):
    id: int
    client_id: int
    kind: ScreeningKind
    screened_on: dt.date
    created_at: dt.datetime
    level: Level
    complete: bool
    policy_version: str


class ClientOut(Schema):
    id: int
    name: str
    reference: str
    date_of_birth: dt.date | None
    email: str
    phone: str
    archived: bool
    created_at: dt.datetime
    level: Level | None = Field(description="of the newest screening; null before the first")
    latest_screening: ScreeningSummary | None


class ClientPage(Schema):
    count: int
    items: list[ClientOut]


# --- intake links ---------------------------------------------------------------------------


class LinkIn(_Strict):
    email: str | None = Field(
        None, max_length=254, description="e-mail the new link to this address"
    )


class SendIn(_Strict):
    email: str = Field(max_length=254)


class LinkOut(Schema):
    id: int
    client_id: int
    state: LinkState
    created_at: dt.datetime
    expires_at: dt.datetime
    started_at: dt.datetime | None
    submitted_at: dt.datetime | None
    emailed_to: str
    emailed_at: dt.datetime | None
    reminded_at: dt.datetime | None


class LinkWithUrl(Schema):
    link: LinkOut
    url: str = Field(description="the client's personal intake URL: shown once, never stored")
    emailed_to: str | None = None


# --- screenings and clearances --------------------------------------------------------------


class DecisionOut(Schema):
    """The decision JSON of POLICY §7, as the engine writes it (fields may be added)."""

    model_config = ConfigDict(extra="allow")
    policy_version: str
    level: Level
    complete: bool
    pending_questions: list[str]
    reasons: list[dict[str, Any]]
    plan: dict[str, Any]
    referral: dict[str, Any]
    scores: dict[str, Any]
    screened_on: dt.date
    settings: str


class ScreeningOut(ScreeningSummary):
    intake: dict[str, Any]
    decision: DecisionOut


class ClearanceOut(Schema):
    id: int
    client_id: int
    rules: list[str]
    clinician: str
    date: dt.date
    valid_until: dt.date | None
    restrictions: dict[str, Any]
    recorded_at: dt.datetime


class ClearanceRecorded(Schema):
    clearance: ClearanceOut
    screening: ScreeningSummary


Page = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=10_000_000)]
Search = Annotated[str, Field(max_length=100, pattern=r"^[^\x00]*$")]
