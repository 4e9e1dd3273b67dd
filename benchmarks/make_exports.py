"""Write the sample exports of other CRMs into sample_data/ (deterministic: same bytes on every run).

    python benchmarks/make_exports.py [OUT_DIR]     # default: sample_data/

Files:
  leadsquared_leads.csv  LeadSquared lead export (60 leads, its real column names incl. mx_* fields)
  pollybot_leads.jsonl   PollyBot leads as JSON Lines (55 leads, nested metadata, interests lists)
  owners.csv             email,name,phone of the lead owners (the lookup table of the presets)

Most rows import cleanly; a few carry the mess of real exports on purpose (see ``LEADSQUARED_CASES``
and ``POLLYBOT_CASES``): local phone formats, Phone and Mobile both set (sometimes equal), empty or broken
e-mails, stages the account does not have, the same lead twice, an owner missing from owners.csv, an
inactive owner.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEED = 20260515
LEADSQUARED_ROWS = 60
POLLYBOT_ROWS = 55

#: The sandbox's team (sample_data/catalog.yaml); Neha is a user but not an active member.
OWNERS = [
    ("ravi.patel@acme-sales.in", "Ravi Patel", "+919876543210"),
    ("priya.sharma@acme-sales.in", "Priya Sharma", "+919876543211"),
    ("arjun.mehta@acme-sales.in", "Arjun Mehta", "+919876543212"),
    ("neha.gupta@acme-sales.in", "Neha Gupta", "+919876543213"),
]
ACTIVE_OWNERS = OWNERS[:3]
MISSING_OWNER = ("karan.shah@acme-sales.in", "Karan Shah")

FIRST_NAMES = [
    "Aarav", "Vivaan", "Aditya", "Ishaan", "Kabir", "Rohan", "Ananya", "Diya", "Saanvi", "Kavya", "Meera",
    "Nikhil", "Pooja", "Rahul", "Sneha", "Tanvi", "Varun", "Yash", "Zoya", "Farhan", "Gurpreet", "Lakshmi",
]  # fmt: skip
LAST_NAMES = [
    "Sharma", "Verma", "Iyer", "Reddy", "Nair", "Khan", "Singh", "Patel", "Das", "Menon", "Joshi", "Kulkarni",
    "Bose", "Chatterjee", "Pillai", "Gill", "Rao", "Mishra",
]  # fmt: skip
COMPANIES = [
    "Sunrise Textiles", "Blue Lotus Foods", "Kaveri Logistics", "Nimbus Software", "Ganga Motors",
    "Indus Pharma", "Sahyadri Builders", "Coastal Exports", "Deccan Agro", "Himalaya Traders", "", "",
]  # fmt: skip
PLACES = [
    ("Bengaluru", "Karnataka", "560001"), ("Mumbai", "Maharashtra", "400001"),
    ("Pune", "Maharashtra", "411001"), ("Chennai", "Tamil Nadu", "600001"),
    ("Hyderabad", "Telangana", "500001"), ("Delhi", "Delhi", "110001"),
    ("Kochi", "Kerala", "682001"), ("Ahmedabad", "Gujarat", "380001"), ("Jaipur", "Rajasthan", "302001"),
]  # fmt: skip
STREETS = ["MG Road", "Station Road", "Brigade Road", "Link Road", "Ring Road", "Park Street", "Main Bazaar"]


def _mobile(index: int, prefix: str) -> str:
    """A valid Indian mobile number (10 digits) unique per ``index`` and ``prefix``."""
    return f"{prefix}{(index * 7919) % 100000:05d}"


# --- LeadSquared -----------------------------------------------------------------------------------------

LEADSQUARED_COLUMNS = [
    "ProspectID", "ProspectAutoId", "FirstName", "LastName", "EmailAddress", "Phone", "Mobile", "Company",
    "JobTitle", "Website", "Source", "SourceMedium", "SourceCampaign", "ProspectStage", "Score",
    "EngagementScore", "Revenue", "Notes", "DoNotCall", "DoNotEmail", "mx_Street1", "mx_Street2", "mx_City",
    "mx_State", "mx_Country", "mx_Zip", "mx_Product", "OwnerIdName", "OwnerIdEmailAddress", "CreatedOn",
    "ModifiedOn",
]  # fmt: skip
LEADSQUARED_STAGES = [
    "Prospect",
    "Prospect",
    "Contacted",
    "Qualified",
    "Opportunity",
    "Customer",
    "Not Interested",
]
LEADSQUARED_SOURCES = [
    "Website",
    "Google Ads",
    "Facebook Ads",
    "Referral Sites",
    "Trade Fair",
    "Inbound Call",
]
PRODUCTS = ["Starter Plan", "Growth Plan", "Enterprise Plan", "", "", ""]


def leadsquared_row(index: int, rng: random.Random) -> dict[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, pincode = rng.choice(PLACES)
    company = rng.choice(COMPANIES)
    owner = rng.choice(ACTIVE_OWNERS)
    has_mobile = rng.random() < 0.4
    day = 1 + index % 28
    return {
        "ProspectID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "ProspectAutoId": str(1000 + index),
        "FirstName": first,
        "LastName": last,
        "EmailAddress": f"{first}.{last}{index}@example.in".lower() if rng.random() < 0.85 else "",
        "Phone": _mobile(index, "98450"),
        "Mobile": _mobile(index, "70221") if has_mobile else "",
        "Company": company,
        "JobTitle": rng.choice(["Owner", "Purchase Manager", "Director", "", ""]),
        "Website": f"https://www.{company.split()[0].lower()}.example" if company else "",
        "Source": rng.choice(LEADSQUARED_SOURCES),
        "SourceMedium": rng.choice(["cpc", "organic", "email", ""]),
        "SourceCampaign": rng.choice(["diwali_2025", "q1_push", ""]),
        "ProspectStage": rng.choice(LEADSQUARED_STAGES),
        "Score": str(rng.randint(0, 120)),
        "EngagementScore": str(rng.randint(0, 40)),
        "Revenue": rng.choice(["", "", "25000", "50000", "75000.50"]),
        "Notes": rng.choice(["", "", "Asked for a demo next week.", "Call after 6 PM.", "Price sensitive."]),
        "DoNotCall": "1" if rng.random() < 0.1 else "0",
        "DoNotEmail": "0",
        "mx_Street1": f"{rng.randint(1, 300)} {rng.choice(STREETS)}",
        "mx_Street2": rng.choice(["", "", "Floor 2", "Near City Mall"]),
        "mx_City": city,
        "mx_State": state,
        "mx_Country": "India",
        "mx_Zip": pincode,
        "mx_Product": rng.choice(PRODUCTS),
        "OwnerIdName": owner[1],
        "OwnerIdEmailAddress": owner[0],
        "CreatedOn": f"2025-11-{day:02d} 10:{index % 60:02d}:00.000",
        "ModifiedOn": f"2026-01-{day:02d} 16:{index % 60:02d}:00.000",
    }


def _owner(email: str, name: str) -> Callable[[dict[str, str]], None]:
    def apply(row: dict[str, str]) -> None:
        row["OwnerIdEmailAddress"], row["OwnerIdName"] = email, name

    return apply


def _set(**cells: str) -> Callable[[dict[str, str]], None]:
    def apply(row: dict[str, str]) -> None:
        row.update(cells)

    return apply


#: Sheet row (header = 1) → what is special about it. Rows not listed import cleanly.
LEADSQUARED_CASES: dict[int, tuple[str, Callable[[dict[str, str]], None]]] = {
    5: ("local format with trunk 0", _set(Phone="098450 40001", Mobile="")),
    6: ("+91 with dashes", _set(Phone="+91-98450-40002", Mobile="")),
    7: ("Phone and Mobile equal", _set(Phone="9845040003", Mobile="+91 98450 40003")),
    8: ("Phone empty, Mobile only", _set(Phone="", Mobile="70221 40004")),
    9: ("Phone and Mobile both set", _set(Phone="9845040005", Mobile="070221 40005", EmailAddress="")),
    11: ("unknown stage -> invalid", _set(ProspectStage="Nurturing")),
    12: (
        "first of a duplicate pair -> skipped",
        _set(Phone="98450 40012", Mobile="", ProspectStage="Prospect"),
    ),
    14: ("owner missing from owners.csv -> sent unassigned", _owner(*MISSING_OWNER)),
    17: ("inactive owner -> fails at the API", _owner(OWNERS[3][0], OWNERS[3][1])),
    20: ("invalid phone -> invalid", _set(Phone="12345", Mobile="")),
    23: ("no phone at all -> invalid", _set(Phone="", Mobile="")),
    26: (
        "second of the duplicate pair -> sent",
        _set(Phone="+919845040012", Mobile="", ProspectStage="Qualified"),
    ),
    29: ("phone shared by two sandbox leads -> fails", _set(Phone="9000000001", Mobile="")),
    32: (
        "existing sandbox lead (Asha Kumar) -> updated",
        _set(Phone="8000000001", Mobile="", FirstName="Asha", LastName="Kumar", ProspectStage="Customer"),
    ),
    35: ("broken e-mail -> warning, left out", _set(EmailAddress="n/a")),
    38: ("Indian digit grouping in Revenue", _set(Revenue="1,20,000")),
    41: ("no stage", _set(ProspectStage="")),
    46: ("office phone", _set(Phone="9845040046", Mobile="")),
    47: ("Mobile is row 46's phone -> invalid", _set(Phone="9845040047", Mobile="98450 40046")),
    50: ("unknown stage -> invalid", _set(ProspectStage="Re-engaged")),
    53: ("disabled product: the API ignores it", _set(mx_Product="Legacy Plan")),
    55: ("do not call", _set(DoNotCall="1")),
}


def leadsquared_rows() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    rows = [leadsquared_row(index, rng) for index in range(LEADSQUARED_ROWS)]
    for sheet_row, (_, apply) in LEADSQUARED_CASES.items():
        apply(rows[sheet_row - 2])
    return rows


# --- PollyBot --------------------------------------------------------------------------------------------

POLLYBOT_STATUSES = ["new", "new", "contacted", "qualified", "proposal", "converted", "lost"]
POLLYBOT_SOURCES = ["website", "whatsapp", "facebook", "instagram", "chatbot"]
INTERESTS = ["demo", "pricing", "premium_package", "referral", "product_a", "product_b"]


def pollybot_lead(index: int, rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    day = 1 + index % 28
    metadata: dict[str, Any] = {
        "utm_source": rng.choice(["google", "facebook", "instagram", "newsletter"]),
        "utm_medium": rng.choice(["cpc", "social", "email"]),
        "utm_campaign": rng.choice(["spring_2026", "diwali_2025", "webinar_jan"]),
        "interests": rng.sample(INTERESTS, rng.randint(0, 2)),
        "company": rng.choice(COMPANIES) or None,
        "job_title": rng.choice(["Founder", "Marketing Manager", "Procurement Lead", None]),
        "last_interaction": f"2026-02-{day:02d}T14:30:00.000Z",
        "notes": rng.choice(["Interested in premium package", "Wants pricing for 10 seats", None, None]),
        "follow_up_date": f"2026-03-{day:02d}",
    }
    if rng.random() < 0.2:
        del metadata["company"]  # keys vary from lead to lead in real exports
    return {
        "id": f"lead_{rng.getrandbits(64):016x}",
        "name": f"{first} {last}",
        "email": f"{first}.{last}{index}@example.com".lower() if rng.random() < 0.8 else None,
        "phone": f"+91{_mobile(index, '91234')}",
        "source": rng.choice(POLLYBOT_SOURCES),
        "status": rng.choice(POLLYBOT_STATUSES),
        "metadata": metadata,
        "createdAt": f"2026-02-{day:02d}T10:30:00.000Z",
        "updatedAt": f"2026-02-{day:02d}T14:30:00.000Z",
        "workspaceId": "ws_acme_sales",
    }


def _lead(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def apply(lead: dict[str, Any]) -> None:
        for key, value in fields.items():
            if key.startswith("metadata_"):
                lead["metadata"][key.removeprefix("metadata_")] = value
            else:
                lead[key] = value

    return apply


#: Line number → what is special about it. Lines not listed import cleanly.
POLLYBOT_CASES: dict[int, tuple[str, Callable[[dict[str, Any]], None]]] = {
    3: ("local format with trunk 0", _lead(phone="091234 50003")),
    4: ("ten digits, no country code", _lead(phone="9123450004")),
    5: ("+91 with dashes", _lead(phone="+91-91234-50005")),
    6: ("single-word name, no e-mail", _lead(name="Rahul", email="")),
    8: ("unknown status -> invalid", _lead(status="nurturing")),
    10: ("first of a duplicate pair -> skipped", _lead(phone="+91 91234 50010", status="new")),
    13: ("US number from the docs -> invalid", _lead(phone="+1-555-123-4567")),
    16: ("no phone -> invalid", _lead(phone=None)),
    19: (
        "second of the duplicate pair -> sent",
        _lead(phone="9123450010", status="qualified", metadata_interests=["demo", "pricing"]),
    ),
    22: (
        "interests the account has no label for -> warning",
        _lead(metadata_interests=["product_a", "demo"]),
    ),
    25: ("converted -> Won", _lead(status="converted", metadata_company="Kaveri Logistics")),
    28: ("status in capitals", _lead(status="Contacted")),
    31: ("broken e-mail -> warning", _lead(email="priya at example dot com")),
}


def pollybot_leads() -> list[dict[str, Any]]:
    rng = random.Random(SEED + 1)
    leads = [pollybot_lead(index, rng) for index in range(POLLYBOT_ROWS)]
    for line, (_, apply) in POLLYBOT_CASES.items():
        apply(leads[line - 1])
    return leads


# --- writing ---------------------------------------------------------------------------------------------


def write_all(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "leadsquared_leads.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, LEADSQUARED_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(leadsquared_rows())
    with (out / "pollybot_leads.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for lead in pollybot_leads():
            handle.write(json.dumps(lead, ensure_ascii=False) + "\n")
    with (out / "owners.csv").open("w", encoding="utf-8", newline="") as handle:
        writer_ = csv.writer(handle, lineterminator="\n")
        writer_.writerow(["email", "name", "phone"])
        writer_.writerows(OWNERS)


if __name__ == "__main__":
    write_all(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "sample_data"
    )
