"""``superfone-import mapping suggest SHEET``: a commented mapping YAML guessed from a sheet's headers.

    suggestion = suggest_mapping(open_table("leads.csv"))
    suggestion.preset      # "leadsquared" when the headers are a known export, else None
    suggestion.yaml        # loads with load_mapping and passes check_columns against that sheet
    suggestion.unmapped    # columns left out (also listed at the end of the YAML)

A known export (at least 60% of a preset's columns present) starts from that preset, keeping the fields whose
columns exist. Otherwise each column is guessed from its header (synonyms, then words inside it, then difflib)
and checked against a sample of its values; the most phone-like column becomes customer_phone. Pure: it reads
the sheet and the preset files, nothing else.

The presets ship inside the package, in ``importer/suggest/presets/`` (:data:`PRESETS_DIR`), so an installed
wheel recognises them too; a checkout's ``mappings/<preset>.yaml`` are relative symlinks to those files, for users
to copy. A preset's ``lookup`` file (``../sample_data/owners.csv``) is relative to the path the mapping is loaded
from, symlinks not followed: ``-m mappings/leadsquared.yaml`` in a checkout reads ``sample_data/owners.csv``, as
before. Loaded from the package folder itself, a preset with a lookup stops with "lookup file … not found": a
preset is a template to copy and adjust (stage map, owners table), not a mapping to run from site-packages. A
suggestion never carries a preset's lookup file: it leaves a commented ``lookup`` on ``owners.csv`` next to the
suggested mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.errors import ConfigError
from importer.mapping.document import read_document
from importer.mapping.values import Template
from importer.sources import Table
from importer.suggest.guess import guess_draft
from importer.suggest.render import STAGE_HINT, Draft, Entry, flow, render, wrap

if TYPE_CHECKING:
    from importer.api.catalog import Catalog

#: The presets shipped in :data:`PRESETS_DIR`, by name.
PRESETS: tuple[str, ...] = ("leadsquared", "pollybot", "hubspot", "salesforce", "zoho")
PRESET_THRESHOLD = 0.6
SAMPLE_ROWS = 500
#: Package data (pyproject.toml: [tool.setuptools.package-data]); mappings/ in a checkout links here.
PRESETS_DIR = Path(__file__).with_name("presets")


@dataclass(frozen=True)
class Suggestion:
    """A suggested mapping: its YAML text, the preset it started from (with the share of its columns present)
    and the columns it left unmapped."""

    yaml: str
    preset: str | None
    score: float | None
    unmapped: list[str]


@dataclass(frozen=True)
class PresetMatch:
    name: str
    score: float
    path: Path
    data: dict[str, Any]


def preset_path(name: str, presets_dir: Path | None = None) -> Path:
    """The YAML file of preset ``name`` (one of :data:`PRESETS`)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; expected one of: {', '.join(PRESETS)}")
    return (presets_dir or PRESETS_DIR) / f"{name}.yaml"


def suggest_mapping(table: Table, presets_dir: Path | None = None, preset: str | None = None,
                    catalog: Catalog | None = None) -> Suggestion:
    """Suggest a mapping for ``table`` (see the module docstring); ``preset``: start from that preset, whatever
    share of its columns the sheet has; ``catalog``: the account's names, which a guessed stage or group column's
    values are matched to."""
    sample = next(table.batches(SAMPLE_ROWS), [])
    match = chosen(preset, table.columns, presets_dir) if preset else recognise(table.columns, presets_dir)
    names = {"lead_stage_name": catalog.stages, "lead_group_name": catalog.groups} if catalog else None
    draft = from_preset(match, table.columns) if match else guess_draft(table.columns, sample, names=names)
    draft.unmapped = [c for c in table.columns if c not in draft.mapped_columns() and not c.startswith("_")]
    _title(draft, table, match)
    return Suggestion(render(draft), match.name if match else None, match.score if match else None,
                      draft.unmapped)


def recognise(columns: Sequence[str], presets_dir: Path | None = None) -> PresetMatch | None:
    """The preset whose columns are best covered by ``columns``.

    A preset qualifies when at least 60% of its columns are present, including one of its phone columns and
    one of its stage columns (a preset is mostly its stage map: without that column it is some other sheet
    that merely shares generic headers such as Email or City).
    """
    present = set(columns)
    best: PresetMatch | None = None
    for name in PRESETS:
        path = preset_path(name, presets_dir)
        if not path.is_file():
            continue
        data = read_document(path).data
        wanted = preset_columns(data)
        fields = data.get("fields") or {}
        required = [_field_columns(fields.get(key)) for key in ("customer_phone", "lead_stage_name")]
        if not wanted or any(columns_ and not columns_ & present for columns_ in required):
            continue
        score = round(len(wanted & present) / len(wanted), 3)
        if score >= PRESET_THRESHOLD and (best is None or score > best.score):
            best = PresetMatch(name, score, path, data)
    return best


def chosen(name: str, columns: Sequence[str], presets_dir: Path | None = None) -> PresetMatch:
    """The preset ``name`` (ConfigError naming the presets for another name), scored against ``columns``."""
    path = preset_path(name, presets_dir)
    data = read_document(path).data
    wanted = preset_columns(data)
    return PresetMatch(name, round(len(wanted & set(columns)) / len(wanted), 3) if wanted else 0.0, path, data)


def preset_of(data: dict[str, Any], presets_dir: Path | None = None) -> str | None:
    """The preset a mapping started from, known by its ``description`` (None: guessed, or written by hand)."""
    for name in PRESETS:
        path = preset_path(name, presets_dir)
        if path.is_file() and data.get("description") == read_document(path).data.get("description"):
            return name
    return None


def preset_columns(data: dict[str, Any]) -> set[str]:
    """Every sheet column a preset's fields read."""
    columns: set[str] = set()
    for spec in (data.get("fields") or {}).values():
        columns |= _field_columns(spec)
    return columns


def _field_columns(spec: Any) -> set[str]:
    if isinstance(spec, str):
        return {spec}
    if isinstance(spec, list):
        return set(spec)
    if not isinstance(spec, dict):
        return set()
    if spec.get("column"):
        return {spec["column"]}
    if spec.get("columns"):
        return set(spec["columns"])
    if spec.get("template"):
        return set(Template.parse(spec["template"]).columns)
    return set()


def from_preset(match: PresetMatch, columns: Sequence[str]) -> Draft:
    """The preset's fields whose columns the sheet has; lookups become commented lines (tables are local)."""
    present = set(columns)
    data = match.data
    defaults = data.get("defaults") or {}
    draft = Draft(description=str(data.get("description") or match.name),
                  region=str(defaults.get("region") or "IN"),
                  create_if_missing=str(defaults.get("create_if_missing", "true")).lower() != "false",
                  timezone=defaults.get("timezone") or None)
    draft.tasks = _tasks(data, present)
    draft.task_columns = {column for task in draft.tasks for key in ("due", "notify_at", "note")
                          for column in _field_columns(task.get(key))}
    if defaults.get("region_column") in present:
        draft.region_column = defaults["region_column"]
    dropped: list[str] = []
    for name, spec in (data.get("fields") or {}).items():
        kept = _keep(spec, present)
        if kept is None:
            dropped.append(f"{name} ({', '.join(sorted(_field_columns(spec)))})")
        elif isinstance(kept, dict) and "lookup" in kept:
            lookup = kept["lookup"]
            key = lookup.get("key")
            draft.extras += wrap(f"to assign leads, list each owner's {key} and Superfone user phone in "
                                 f"owners.csv (columns: {key},phone) next to this file and enable:")
            draft.extras.append(f"{name}: {flow({**kept, 'lookup': {**lookup, 'file': 'owners.csv'}})}")
        else:
            columns_ = tuple(sorted(_field_columns(kept)))
            draft.entries.append(Entry(name, kept, _preset_comment(name), columns_))
    if dropped:
        draft.extras += wrap(f"left out of the preset (columns missing): {', '.join(dropped)}")
    return draft


def _tasks(data: dict[str, Any], present: set[str]) -> list[dict[str, Any]]:
    """The preset's tasks whose due column the sheet has, each without the parts it cannot fill (a note whose
    columns are missing is left out; the task stays)."""
    tasks = []
    for task in data.get("tasks") or []:
        if not isinstance(task, dict) or _keep(task.get("due"), present) is None:
            continue
        tasks.append({key: value for key, value in task.items()
                      if key in ("type", "due", "due_time", "past_due") or _keep(value, present) is not None})
    return tasks


def _keep(spec: Any, present: set[str]) -> Any:
    """``spec`` limited to the columns present, or None when it cannot be filled from this sheet."""
    if isinstance(spec, str):
        return spec if spec in present else None
    if isinstance(spec, list):
        kept = [column for column in spec if column in present]
        return kept or None
    if not isinstance(spec, dict):
        return None
    if "columns" in spec:
        kept = [column for column in spec["columns"] or [] if column in present]
        return {**spec, "columns": kept} if kept else None
    needed = _field_columns(spec)
    return spec if needed <= present else None


def _preset_comment(name: str) -> str:
    if name == "lead_stage_name":
        return STAGE_HINT
    return ""


def _title(draft: Draft, table: Table, match: PresetMatch | None) -> None:
    lines = [f"Mapping suggested by `superfone-import mapping suggest` for {table.path.name}."]
    if match:
        lines.append(f"Recognised preset {match.name!r} ({match.score:.0%} of its columns are present):")
        lines.append(f"it starts from mappings/{match.path.name} (installed: importer/suggest/presets/), whose "
                     "comments say what to adjust.")
    else:
        lines.append("Every field below is a guess from the headers and a sample of the values: check each.")
    lines += [
        "Before a real run:",
        f"  - lead_stage_name: {STAGE_HINT};",
        "  - try it offline: superfone-import validate SHEET -m THIS_FILE --offline",
        "",
    ]
    draft.title = lines

