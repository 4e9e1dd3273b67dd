"""Sandbox contract: the five catalogue lists (label, lead-stage, lead-group, product, source-type).

Row shapes as in the reference's examples, the paging envelope of seed 004, the text filter, paging edges
(last page, page_size 1, past the end, no match) and bad paging parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from importer.models import LabelRow, LeadGroupRow, LeadStageRow, PageOut, ProductRow, SourceTypeRow

if TYPE_CHECKING:
    from conftest import SandboxApi

ENDPOINTS = {
    "label": LabelRow,
    "lead-stage": LeadStageRow,
    "lead-group": LeadGroupRow,
    "product": ProductRow,
    "source-type": SourceTypeRow,
}
STAMPS = {"created_by": 678, "updated_by": None}
SEED_TIME = {"created_at": "2026-01-15T09:00:00.000Z", "updated_at": "2026-01-15T09:00:00.000Z"}


def test_seed_004_example_is_answered_exactly(api: SandboxApi) -> None:
    response = api.get("lead-group", text="inbound")
    assert response.json() == {
        "data": {
            "rows": [
                {
                    "id": 3,
                    "org_id": 42,
                    "title": "Inbound",
                    "status": "ACTIVE",
                    "type": None,
                    **STAMPS,
                    **SEED_TIME,
                }
            ],
            "total_pages": 1,
            "current_page": 1,
            "page_size": 50,
            "total_items": 1,
        },
        "message": "success",
    }


@pytest.mark.parametrize(
    ("endpoint", "text", "row"),
    [
        (
            "label",
            "hot",
            {
                "id": 17,
                "org_id": 42,
                "title": "Hot",
                "colour": "#ff5722",
                "text_colour": "#ffffff",
                "status": "ACTIVE",
                **STAMPS,
                **SEED_TIME,
            },
        ),
        (
            "lead-stage",
            "new lead",
            {
                "id": 9,
                "org_id": 42,
                "title": "New Lead",
                "status": "ACTIVE",
                "type": "INITIAL",
                "position": 1,
                "is_editable": False,
                "identifier": None,
                **STAMPS,
                **SEED_TIME,
            },
        ),
        (
            "product",
            "starter",
            {
                "id": 5,
                "org_id": 42,
                "title": "Starter Plan",
                "description": "Entry-level subscription, billed monthly.",
                "status": "ACTIVE",
                "price": 999,
                "currency": "INR",
                "link": "https://example.com/plans/starter",
                "images": {},
                **STAMPS,
                "created_at": "2026-02-01T09:00:00.000Z",
                "updated_at": "2026-02-01T09:00:00.000Z",
            },
        ),
        ("source-type", "csv", {"id": 1, "title": "CSV_UPLOAD"}),
    ],
)
def test_rows_are_shaped_like_the_reference(api: SandboxApi, endpoint: str, text: str, row: dict) -> None:
    rows = api.get(endpoint, text=text).json()["data"]["rows"]
    assert rows == [row]
    assert list(rows[0]) == list(row)


@pytest.mark.parametrize(("endpoint", "model"), ENDPOINTS.items())
def test_every_endpoint_validates_against_its_model(api: SandboxApi, endpoint: str, model: type) -> None:
    page = PageOut[model].model_validate(api.get(endpoint).json())  # type: ignore[valid-type]
    assert page.data.total_items == len(page.data.rows) > 0
    assert [row.id for row in page.data.rows] == sorted(row.id for row in page.data.rows)


def test_source_types_are_the_seven(api: SandboxApi) -> None:
    rows = api.get("source-type").json()["data"]["rows"]
    assert [(row["id"], row["title"]) for row in rows] == list(
        enumerate(
            [
                "CSV_UPLOAD",
                "FACEBOOK_INTEGRATION",
                "PHONE_CONTACT",
                "WHATSAPP_MESSAGE",
                "WHATSAPP_INTEGRATION",
                "PABBLY",
                "OTHERS",
            ],
            start=1,
        )
    )


def test_text_filter_is_case_insensitive_substring(api: SandboxApi) -> None:
    titles = [row["title"] for row in api.get("label", text="O").json()["data"]["rows"]]
    assert titles == ["Hot", "Demo Requested", "Cold", "Follow Up", "Do Not Call"]
    assert [row["title"] for row in api.get("product", text="PLAN").json()["data"]["rows"]] == [
        "Starter Plan",
        "Growth Plan",
        "Enterprise Plan",
        "Legacy Plan",
    ]


def test_disabled_rows_are_listed(api: SandboxApi) -> None:
    rows = api.get("label", text="archived").json()["data"]["rows"]
    assert [(row["title"], row["status"]) for row in rows] == [("Archived", "DISABLED")]


def test_duplicate_titles_are_both_listed(api: SandboxApi) -> None:
    rows = api.get("lead-stage", text="follow-up").json()["data"]["rows"]
    assert [row["id"] for row in rows] == [13, 14]


class TestPaging:
    def test_page_size_one_walks_every_row(self, api: SandboxApi) -> None:
        seen = []
        for page in range(1, 10):
            data = api.get("label", page=page, page_size=1).json()["data"]
            assert (data["total_pages"], data["total_items"], data["current_page"], data["page_size"]) == (
                9,
                9,
                page,
                1,
            )
            seen.extend(row["id"] for row in data["rows"])
        assert seen == list(range(17, 26))

    def test_last_page_is_partial(self, api: SandboxApi) -> None:
        data = api.get("label", page=3, page_size=4).json()["data"]
        assert [row["id"] for row in data["rows"]] == [25]
        assert (data["total_pages"], data["current_page"]) == (3, 3)

    def test_past_the_end_is_empty(self, api: SandboxApi) -> None:
        data = api.get("label", page=4, page_size=4).json()["data"]
        assert data == {"rows": [], "total_pages": 3, "current_page": 4, "page_size": 4, "total_items": 9}

    def test_page_size_echoes_and_defaults_to_50(self, api: SandboxApi) -> None:
        assert api.get("product").json()["data"]["page_size"] == 50
        assert api.get("product", page_size=20).json()["data"]["page_size"] == 20

    def test_no_match_has_zero_pages(self, api: SandboxApi) -> None:
        data = api.get("lead-group", text="zzz").json()["data"]
        assert data == {"rows": [], "total_pages": 0, "current_page": 1, "page_size": 50, "total_items": 0}

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"page": 0}, "page must be a positive integer"),
            ({"page": -1}, "page must be a positive integer"),
            ({"page": "two"}, "page must be a positive integer"),
            ({"page": "1.5"}, "page must be a positive integer"),
            ({"page_size": 0}, "page_size must be a positive integer"),
            ({"page_size": "-5"}, "page_size must be a positive integer"),
            ({"page_size": "ten"}, "page_size must be a positive integer"),
        ],
    )
    def test_bad_paging_is_400(self, api: SandboxApi, params: dict, message: str) -> None:
        response = api.get("label", **params)
        assert (response.status_code, response.json()) == (400, {"message": message})
