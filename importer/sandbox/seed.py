"""The sandbox's seed: one account's catalogue, team and leads, loaded from YAML and validated with pydantic.

The default seed ships as package data, ``importer/sandbox/default_seed.yaml`` (:data:`DEFAULT_SEED`);
a checkout's ``sample_data/catalog.yaml`` is a relative symlink to it, so there is one file to edit.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from importer.errors import ConfigError
from importer.models import SOURCE_TYPES, Address
from importer.phones.normalise import is_e164

SEED_TIME = "2026-01-15T09:00:00.000Z"
DEFAULT_SEED = Path(__file__).with_name("default_seed.yaml")

Status = Literal["ACTIVE", "DISABLED"]


class _SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Stamped(_SeedModel):
    id: int
    title: str = Field(min_length=1)
    status: Status = "ACTIVE"
    created_by: int | None = None
    updated_by: int | None = None
    created_at: str = SEED_TIME
    updated_at: str = SEED_TIME


class LabelSeed(_Stamped):
    colour: str = "#9e9e9e"
    text_colour: str = "#ffffff"


class StageSeed(_Stamped):
    type: Literal["INITIAL", "FINAL_POSITIVE", "FINAL_NEGATIVE", "NONE"] | None = "NONE"
    position: int | None = None
    is_editable: bool = True
    identifier: str | None = None


class GroupSeed(_Stamped):
    type: str | None = None


class ProductSeed(_Stamped):
    description: str | None = None
    price: float = 0
    currency: str = "INR"
    link: str | None = None
    images: dict[str, Any] = Field(default_factory=dict)


class SourceTypeSeed(_SeedModel):
    id: int
    title: str


class UserSeed(_SeedModel):
    id: int
    phone: str
    first_name: str | None = None
    last_name: str | None = None
    active: bool = True


class LeadSeed(_SeedModel):
    id: int
    phones: list[str] = Field(min_length=1)
    first_name: str | None = None
    last_name: str | None = None
    email: list[str] | None = None
    website: str | None = None
    business_name: str | None = None
    additional_info: str | None = None
    city: str | None = None
    deal_value: float | None = None
    status: str | None = "ACTIVE"
    source: str | None = None
    source_type: str | None = None
    address: Address = Field(default_factory=Address)  # the API's own model
    assignee_user_id: int | None = None
    lead_stage_id: int | None = None
    lead_group_id: int | None = None
    labels: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    created_at: str = SEED_TIME
    updated_at: str | None = None


class Seed(_SeedModel):
    """A whole account. Cross-references (ids, titles, phones) are checked after the fields."""

    org_id: int
    owner_user_id: int | None = None
    labels: list[LabelSeed] = Field(default_factory=list)
    lead_stages: list[StageSeed] = Field(default_factory=list)
    lead_groups: list[GroupSeed] = Field(default_factory=list)
    products: list[ProductSeed] = Field(default_factory=list)
    source_types: list[SourceTypeSeed] = Field(default_factory=list)
    users: list[UserSeed] = Field(default_factory=list)
    leads: list[LeadSeed] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_references(self) -> Seed:
        for name in ("labels", "lead_stages", "lead_groups", "products", "source_types", "users", "leads"):
            _require_unique(name, [item.id for item in getattr(self, name)])
        _require_unique("users phone", [user.phone for user in self.users])
        for user in self.users:
            _require_phone(f"users {user.id}", user.phone)
        for source_type in self.source_types:
            if source_type.title not in SOURCE_TYPES:
                raise ValueError(f"source_types: unknown title {source_type.title!r}")
        _check_leads(self)
        return self


def _require_unique(what: str, values: list[Any]) -> None:
    repeated = [value for value, count in Counter(values).items() if count > 1]
    if repeated:
        raise ValueError(f"{what}: duplicate {repeated[0]!r}")


def _require_phone(where: str, phone: str) -> None:
    if not is_e164(phone):
        raise ValueError(f"{where}: {phone!r} is not a valid E.164 phone number")


def _check_leads(seed: Seed) -> None:
    """Lead references must exist; a secondary phone belongs to one lead only (primaries may repeat)."""
    ids = {
        "assignee_user_id": {user.id for user in seed.users},
        "lead_stage_id": {stage.id for stage in seed.lead_stages},
        "lead_group_id": {group.id for group in seed.lead_groups},
    }
    titles = {
        "labels": {label.title for label in seed.labels},
        "products": {product.title for product in seed.products},
    }
    owners: dict[str, int] = {}
    primaries: set[str] = set()
    for lead in seed.leads:
        where = f"leads {lead.id}"
        for field, known in ids.items():
            value = getattr(lead, field)
            if value is not None and value not in known:
                raise ValueError(f"{where}: {field} {value} does not exist")
        for field, known_titles in titles.items():
            for title in getattr(lead, field):
                if title not in known_titles:
                    raise ValueError(f"{where}: {field} has unknown title {title!r}")
        _require_unique(f"{where} phones", lead.phones)
        for position, phone in enumerate(lead.phones):
            _require_phone(where, phone)
            owner = owners.get(phone)
            shared_primary = position == 0 and phone in primaries
            if owner is not None and owner != lead.id and not shared_primary:
                raise ValueError(f"{where}: phone {phone} already belongs to lead {owner}")
            owners[phone] = lead.id
        primaries.add(lead.phones[0])


def default_seed_path() -> Path:
    """The packaged seed (sample_data/catalog.yaml in a checkout links to it)."""
    return DEFAULT_SEED


def load_seed(path: str | Path | None = None) -> Seed:
    """Read and validate a seed file (None: the default seed). Raises ConfigError naming the file."""
    seed_path = Path(path) if path is not None else default_seed_path()
    try:
        text = seed_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"sandbox seed {seed_path}: cannot read it ({exc.strerror or exc})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "unreadable"
        raise ConfigError(f"sandbox seed {seed_path}{where}: invalid YAML ({problem})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"sandbox seed {seed_path}: expected a mapping at the top level")
    try:
        return Seed.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(f"sandbox seed {seed_path}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message
