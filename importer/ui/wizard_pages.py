"""The wizard's steps on the page: 1 columns (and the tool the sheet comes from), 2 values, 3 fields and dates.

Each step is shown from the saved mapping and the sheet, and its form is read against the same view made again:
only what the person changed is written, through the step's pure module, then saved as the mapping's YAML. An
unchanged step leaves the file as it was, comments included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from importer.errors import ImporterError
from importer.mapping.document import read_document
from importer.suggest.suggester import PRESETS, preset_of, suggest_mapping
from importer.ui.mapping_text import mapping_yaml
from importer.ui.wizard import choices, fields, roles, sheet
from importer.ui.workspace import MAPPING_NAME, Upload

if TYPE_CHECKING:
    from importer.ui.shared import Ui

STEPS = {"columns": "1. Columns", "values": "2. Values", "fields": "3. Fields and dates"}
PRESET_WORDS = {"": "recognised from its headers", "leadsquared": "LeadSquared", "pollybot": "PollyBot",
                "hubspot": "HubSpot", "salesforce": "Salesforce", "zoho": "Zoho"}


def saved_data(upload: Upload) -> dict[str, Any]:
    """The saved mapping as plain data (as the loader reads it); empty when it is not YAML of a mapping."""
    if not upload.mapping_path.is_file():
        return {}
    try:
        data = read_document(upload.folder / MAPPING_NAME).data
    except ImporterError:
        return {}
    return data if isinstance(data, dict) else {}


def save(upload: Upload, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Write ``after`` as the mapping's YAML, unless it is what was saved."""
    if after != before:
        upload.save_mapping(mapping_yaml(after, upload.path.name))


class WizardPages:
    """The steps' views (for the import page) and what their forms post."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui

    def register(self, app: FastAPI) -> None:
        app.add_api_route("/imports/{upload_id}/wizard/preset", self.choose_preset, methods=["POST"])
        app.add_api_route("/imports/{upload_id}/wizard/columns", self.save_columns, methods=["POST"])
        app.add_api_route("/imports/{upload_id}/wizard/values", self.save_values, methods=["POST"])
        app.add_api_route("/imports/{upload_id}/wizard/fields", self.save_fields, methods=["POST"])

    def suggest(self, upload: Upload, preset: str | None = None) -> None:
        """The mapping suggested for the sheet (from ``preset`` when given), its stage and group values matched to
        the account's names when they can be read."""
        catalog, _ = self.ui.names.get()
        upload.save_mapping(suggest_mapping(upload.table(), preset=preset, catalog=catalog).yaml)

    def view(self, upload: Upload, step: str) -> dict[str, Any]:
        """What the import page shows of ``step`` (the sheet readable)."""
        data = saved_data(upload)
        shown: dict[str, Any] = {"step": step, "steps": STEPS}
        if step == "values":
            views, read, whole, problem = self._values(upload, data)
            shown.update(value_fields=views, rows_read=read, whole_sheet=whole, names_problem=problem,
                         max_values=choices.MAX_VALUES)
        elif step == "fields":
            shown.update(policies=fields.field_policies(data), dates=self._dates(upload, data),
                         policy_words=fields.POLICY_WORDS, order_words=fields.ORDER_WORDS,
                         defaults=data.get("defaults") if isinstance(data.get("defaults"), dict) else {})
        else:
            shown.update(self._columns(upload, data))
        return shown

    def _columns(self, upload: Upload, data: dict[str, Any]) -> dict[str, Any]:
        table = upload.table()
        found = roles.column_roles(data, table.columns)
        shown, separators = sheet.samples(table, [item.column for item in found])
        for item in found:
            item.samples = shown.get(item.column, [])
            if item.role not in roles.SPLIT_FIELDS:
                item.separator = separators.get(item.column, ";")
        constants = [(roles.WORDS.get(str(name), str(name)), spec["value"])
                     for name, spec in (data.get("fields") or {}).items() if isinstance(spec, dict) and "value" in spec]
        return {"column_roles": found, "role_keys": roles.role_keys(), "role_words": roles.role_words,
                "presets": PRESET_WORDS, "preset": preset_of(data) or "", "constants": constants}

    def _values(self, upload: Upload, data: dict[str, Any]) -> tuple[list[choices.ValueField], int, bool, str | None]:
        catalog, problem = self.ui.names.get()
        specs = {name: data["fields"][name] for name in choices.value_field_names(data)}
        counted, read, whole = sheet.count_values(upload.table(), specs)
        views = [choices.value_field(name, spec, counted[name], choices.names_for(name, catalog))
                 for name, spec in specs.items()]
        return views, read, whole, problem

    def _dates(self, upload: Upload, data: dict[str, Any]) -> list[fields.DateColumn]:
        found = fields.date_columns(data)
        fields.decide_orders(found, sheet.batches(upload.table()))
        return found

    async def choose_preset(self, upload_id: str, request: Request) -> Response:
        upload = self.ui.workspace.upload(upload_id)
        form = await self.ui.form(request)
        preset = str(form.get("preset") or "")
        if preset and preset not in PRESETS:
            raise LookupError(preset)
        self.suggest(upload, preset or None)
        return _step(upload_id, "columns")

    async def save_columns(self, upload_id: str, request: Request) -> Response:
        upload = self.ui.workspace.upload(upload_id)
        form = await self.ui.form(request)
        data = saved_data(upload)
        table = upload.table()
        before = roles.column_roles(data, table.columns)
        known = set(roles.role_keys())
        after = {item.column: str(form[f"role-{index}"]) for index, item in enumerate(before)
                 if str(form.get(f"role-{index}")) in known}
        _, separators = sheet.samples(table, [item.column for item in before])
        save(upload, data, roles.with_roles(data, before, after, separators))
        return _step(upload_id, "values")

    async def save_values(self, upload_id: str, request: Request) -> Response:
        upload = self.ui.workspace.upload(upload_id)
        form = await self.ui.form(request)
        data = saved_data(upload)
        changed = data
        for index, view in enumerate(self._values(upload, data)[0]):
            posted = {choice.value: str(form[f"value-{index}-{number}"])
                      for number, choice in enumerate(view.choices) if f"value-{index}-{number}" in form}
            changed = choices.with_choices(changed, view, posted)
        save(upload, data, changed)
        return _step(upload_id, "fields")

    async def save_fields(self, upload_id: str, request: Request) -> Response:
        upload = self.ui.workspace.upload(upload_id)
        form = await self.ui.form(request)
        data = saved_data(upload)
        posted = {str(key).removeprefix("policy-"): str(value) for key, value in form.items()
                  if str(key).startswith("policy-")}
        changed = fields.with_policies(data, fields.field_policies(data), posted)
        orders = {str(key).removeprefix("order-"): str(value) for key, value in form.items()
                  if str(key).startswith("order-")}
        changed = fields.with_orders(changed, fields.date_columns(changed), orders)
        save(upload, data, _with_defaults(changed, form))
        return RedirectResponse(f"/imports/{upload_id}?step=fields#check", status_code=303)


def _with_defaults(data: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """``defaults.region`` and ``create_if_missing`` as the form says, where they differ from the mapping's."""
    saved = data.get("defaults")
    defaults = dict(saved) if isinstance(saved, dict) else {}
    region = str(form.get("region") or "").strip().upper() or str(defaults.get("region") or "IN")
    create = bool(form.get("create_if_missing"))
    wanted = {**defaults, "region": region, "create_if_missing": create}
    was_create = str(defaults.get("create_if_missing", "true")).lower() != "false"
    if str(defaults.get("region", "IN")).upper() == region and was_create == create:
        return data
    return {**data, "defaults": wanted}


def _step(upload_id: str, step: str) -> RedirectResponse:
    return RedirectResponse(f"/imports/{upload_id}?step={step}#mapping", status_code=303)
