"""Records shared by the importer and the sandbox: rows, issues and the API's JSON shapes.

The pydantic models describe the Superfone Enterprise API exactly as documented (field names, nullability).
The sandbox uses them as response models, so its OpenAPI document is the documented contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from importer.fields import CREATE_FLAG, CUSTOMER_PHONE, NOTE

SOURCE_TYPES: tuple[str, ...] = (
    "CSV_UPLOAD",
    "FACEBOOK_INTEGRATION",
    "PHONE_CONTACT",
    "WHATSAPP_MESSAGE",
    "WHATSAPP_INTEGRATION",
    "PABBLY",
    "OTHERS",
)

#: Upsert fields and the JSON type each one takes. The mapping validates its ``fields:`` keys against this.
UPSERT_FIELDS: dict[str, str] = {
    CUSTOMER_PHONE: "phone",
    CREATE_FLAG: "bool",
    "first_name": "string",
    "last_name": "string",
    "email": "string[]",
    "website": "string",
    "address": "address",
    "city": "string",
    "business_name": "string",
    "additional_info": "string",
    "deal_value": "number",
    "source": "string",
    "source_type": "string",
    "assignee_user_phone": "phone",
    "lead_stage_name": "string",
    "lead_group_name": "string",
    "add_labels": "string[]",
    "remove_labels": "string[]",
    "add_products": "string[]",
    "add_phones": "phone[]",
    NOTE: "string",
}

#: Sub-fields of ``address``; a mapping addresses them as ``address.text`` and so on.
ADDRESS_FIELDS: dict[str, str] = {
    "text": "string",
    "additional": "string",
    "initials": "string",
    "latitude": "number",
    "longitude": "number",
}

#: The list endpoints that make up an account's catalog (the last segment of their path), in the order shown.
LIST_KINDS: tuple[str, ...] = ("label", "lead-stage", "lead-group", "product", "source-type")

#: Task types (reference §4.1). Every type but REMINDER is a "non-reminder": creating one completes the lead's other
#: open non-reminder tasks.
TASK_TYPES: tuple[str, ...] = ("FOLLOW_UP_CALL", "FIRST_CALL", "CALLBACK_REQUEST", "SITE_VISIT", "REMINDER", "BOOKING")
REMINDER = "REMINDER"

Severity = Literal["error", "warning"]

#: What finally became of a row that was sent (the journal's and the report's words).
FinalStatus = Literal["succeeded", "failed", "in_doubt"]
FINAL_STATUSES: tuple[FinalStatus, ...] = ("succeeded", "failed", "in_doubt")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of a sheet. ``number`` is the row a person sees in the sheet (header = row 1).

    ``cells`` maps each header to the cell's text exactly as typed ("" for an empty cell).
    """

    number: int
    cells: dict[str, str]

    def __reduce__(self) -> tuple[type[Row], tuple[int, dict[str, str]]]:
        # Rows cross process boundaries by the million; the dataclass default pickling is several times slower.
        return (Row, (self.number, self.cells))


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem with one row (or, with ``row=None``, with the whole input). Codes are stable kebab-case."""

    row: int | None
    column: str
    severity: Severity
    code: str
    message: str
    value: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __reduce__(self) -> tuple[type[Issue], tuple[int | None, str, Severity, str, str, str]]:
        return (Issue, (self.row, self.column, self.severity, self.code, self.message, self.value))


# --- API shapes -------------------------------------------------------------------------------------------


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Address(ApiModel):
    text: str | None = None
    additional: str | None = None
    initials: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class UpsertLeadRequest(ApiModel):
    customer_phone: str
    create_customer_if_customer_phone_not_found: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: list[str] | None = None
    website: str | None = None
    address: Address | None = None
    city: str | None = None
    business_name: str | None = None
    additional_info: str | None = None
    deal_value: float | None = None
    source: str | None = None
    source_type: str | None = None
    assignee_user_phone: str | None = None
    lead_stage_name: str | None = None
    lead_group_name: str | None = None
    add_labels: list[str] | None = None
    remove_labels: list[str] | None = None
    add_products: list[str] | None = None
    add_phones: list[str] | None = None
    customer_note: str | None = None


class MessageOut(BaseModel):
    message: str


class SuccessOut(BaseModel):
    data: None = None
    message: str = "success"


class LeadPhone(BaseModel):
    phone: str
    customer_id: int


class LeadLabel(BaseModel):
    id: int
    title: str
    colour: str
    text_colour: str
    status: str


class LeadStageRef(BaseModel):
    id: int
    title: str
    org_id: int
    status: str
    type: str | None
    position: int | None


class LeadGroupRef(BaseModel):
    id: int
    title: str
    org_id: int
    status: str
    type: str | None


class AssigneeRef(BaseModel):
    id: int
    first_name: str | None
    last_name: str | None


class AddressOut(BaseModel):
    text: str | None
    additional: str | None
    initials: str | None
    latitude: float | None
    longitude: float | None


class Lead(BaseModel):
    id: int
    org_id: int
    first_name: str | None
    last_name: str | None
    email: list[str] | None
    website: str | None
    business_name: str | None
    additional_info: str | None
    city: str | None
    deal_value: float | None
    status: str | None
    source: str | None
    source_type: str | None
    address: AddressOut
    assignee_user_id: int | None
    lead_stage_id: int | None
    lead_group_id: int | None
    created_at: str
    updated_at: str | None
    phones: list[LeadPhone]
    labels: list[LeadLabel]
    lead_stage: LeadStageRef | None
    lead_group: LeadGroupRef | None
    assignee_user: AssigneeRef | None


class LeadOut(BaseModel):
    data: Lead
    message: str = "success"


class SourceTypeRow(BaseModel):
    id: int
    title: str


class LabelRow(BaseModel):
    id: int
    org_id: int
    title: str
    colour: str
    text_colour: str
    status: str
    created_by: int | None
    updated_by: int | None
    created_at: str
    updated_at: str


class LeadStageRow(BaseModel):
    id: int
    org_id: int
    title: str
    status: str
    type: str | None
    position: int | None
    is_editable: bool
    identifier: str | None
    created_by: int | None
    updated_by: int | None
    created_at: str
    updated_at: str


class LeadGroupRow(BaseModel):
    id: int
    org_id: int
    title: str
    status: str
    type: str | None
    created_by: int | None
    updated_by: int | None
    created_at: str
    updated_at: str


class ProductRow(BaseModel):
    id: int
    org_id: int
    title: str
    description: str | None
    status: str
    price: float
    currency: str
    link: str | None
    images: dict[str, Any]
    created_by: int | None
    updated_by: int | None
    created_at: str
    updated_at: str


class CreateTaskRequest(ApiModel):
    """Body of ``POST /enterprise/api/lead/:lead_id/task`` (reference §4.1)."""

    type: str
    due_date: str
    notify_at: str | None = None
    customer_note: str | None = None


class Task(BaseModel):
    """A task as list-tasks, create-task and complete-task return it (reference §4)."""

    id: int
    org_id: int
    customer_id: int
    title: str | None
    type: str
    due_date: str
    notify_at: str | None
    notify: bool
    task_status: str
    status: str
    assignee_user_id: int | None
    created_by: int | None
    updated_by: int | None
    created_at: str
    updated_at: str | None


class TaskOut(BaseModel):
    data: Task
    message: str = "success"


RowT = TypeVar("RowT")


class Page(BaseModel, Generic[RowT]):
    rows: list[RowT]
    total_pages: int
    current_page: int
    page_size: int
    total_items: int


class PageOut(BaseModel, Generic[RowT]):
    data: Page[RowT]
    message: str = "success"
