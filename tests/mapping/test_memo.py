"""A plan remembers what the texts of its column convert to: a repeated cell reads as the first one did, a bad
cell is reported on every row that holds it, and a copy of the mapping (date orders decided again, a checking
process) starts with nothing remembered."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

from importer.mapping import Mapping, load_mapping
from importer.models import Row


def mapping_of(tmp_path: Path, fields: str) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nfields:\n  customer_phone: Phone\n" + fields, encoding="utf-8")
    return load_mapping(path)


def drafts(mapping: Mapping, rows: list[dict[str, str]]) -> list[tuple[dict, list]]:
    return [mapping.apply(Row(number, {"Phone": "9876543210", **cells})) for number, cells in enumerate(rows, 2)]


def test_repeated_cells_read_as_the_first_did(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  deal_value: {column: Value, type: number}\n"
                                   "  add_labels: {column: Tags, split: ';'}\n"
                                   "  lead_stage_name: {column: Stage, map: {hot: Qualified}}\n")
    rows = [{"Value": "1.5L", "Tags": "a; b;a", "Stage": "HOT"}] * 3 + [{"Value": "2 Cr", "Tags": "b", "Stage": "x"}]
    fresh = [mapping_of(tmp_path, "  deal_value: {column: Value, type: number}\n"
                                  "  add_labels: {column: Tags, split: ';'}\n"
                                  "  lead_stage_name: {column: Stage, map: {hot: Qualified}}\n").apply(
        Row(number, {"Phone": "9876543210", **cells})) for number, cells in enumerate(rows, 2)]
    assert drafts(mapping, rows) == fresh  # the memo fills as it goes: same answers as a plan that never saw them
    first, *_, last = drafts(mapping, rows)  # and again, every value now remembered
    assert first[0]["deal_value"] == 150000 and first[0]["add_labels"] == ["a", "b"]
    assert first[0]["lead_stage_name"] == "Qualified"
    assert last[0]["deal_value"] == 20000000 and last[0]["add_labels"] == ["b"]
    first[0]["add_labels"].append("changed")  # a draft's list is its own, not the memo's
    assert drafts(mapping, rows)[0][0]["add_labels"] == ["a", "b"]


def test_a_bad_cell_is_reported_on_every_row_that_holds_it(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  deal_value: {column: Value, type: number}\n"
                                   "  add_labels: {column: Tags, map: {x: X}, strict: true, split: ';'}\n")
    results = drafts(mapping, [{"Value": "lots", "Tags": "y"}] * 3)
    for number, (draft, issues) in enumerate(results, 2):
        assert "deal_value" not in draft and "add_labels" not in draft
        assert [(issue.row, issue.code) for issue in issues] == [(number, "invalid-number"),
                                                                  (number, "unmapped-value")]


def test_copies_start_with_nothing_remembered(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  additional_info: {column: Since, type: date}\n")
    assert drafts(mapping, [{"Since": "2024-01-20"}])[0][0]["additional_info"] == "2024-01-20"
    plan = mapping._plans[0]
    assert plan.memo == {"2024-01-20": "2024-01-20"}
    for other in (copy.deepcopy(mapping), pickle.loads(pickle.dumps(mapping))):
        assert other._plans[0].memo == {}
        assert drafts(other, [{"Since": "2024-01-20"}])[0][0]["additional_info"] == "2024-01-20"


def test_a_copy_with_other_date_orders_reads_the_dates_again(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  additional_info: {column: Since, type: date}\n")
    day_first = mapping.with_date_orders({0: "dmy"})
    assert drafts(day_first, [{"Since": "03/04/2024"}])[0][0]["additional_info"] == "2024-04-03"
    month_first = day_first.with_date_orders({0: "mdy"})
    assert drafts(month_first, [{"Since": "03/04/2024"}])[0][0]["additional_info"] == "2024-03-04"
    assert drafts(day_first, [{"Since": "03/04/2024"}])[0][0]["additional_info"] == "2024-04-03"


def test_a_full_memo_starts_again(tmp_path: Path, monkeypatch) -> None:
    mapping = mapping_of(tmp_path, "  deal_value: {column: Value, type: number}\n")
    plan = mapping._plans[0]
    monkeypatch.setattr(type(plan), "MEMO_SIZE", 3)
    results = drafts(mapping, [{"Value": str(n)} for n in range(10)])
    assert [draft["deal_value"] for draft, _ in results] == list(range(10))
    assert len(plan.memo) <= 3


def test_e_mail_addresses_and_plain_text_are_not_remembered(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  email: {column: Email}\n  city: {column: City, default: Pune}\n")
    drafts(mapping, [{"Email": "a@example.com", "City": ""}])
    assert all(plan.memo is None for plan in mapping._plans)


def test_a_template_renders_each_combination_of_cells_once(monkeypatch) -> None:
    from importer.mapping.values import Template

    template = Template.parse("Imported from {Source}: {Notes}")
    calls: list[object] = []
    real = Template._render
    monkeypatch.setattr(Template, "_render", lambda self, cells: calls.append(cells) or real(self, cells))
    rows = [{"Source": "Expo", "Notes": "call back"}, {"Source": "Expo", "Notes": "call back"},
            {"Source": "", "Notes": "call back"}, {"Source": "Expo", "Notes": "call back", "City": "Pune"}]
    assert [template.render(cells) for cells in rows] == ["Imported from Expo: call back"] * 2 + [
        "Imported from : call back", "Imported from Expo: call back"]
    assert len(calls) == 2  # the repeated combinations were remembered
    assert template.render({"Source": "Expo"}) == "Imported from Expo"  # a row without Notes: read as blank
    copied = pickle.loads(pickle.dumps(template))
    assert copied._rendered == {} and copied.render(rows[0]) == "Imported from Expo: call back"
    monkeypatch.setattr(Template, "RENDERED_SIZE", 1)
    template.render({"Source": "a", "Notes": "b"})
    assert len(template._rendered) == 1
