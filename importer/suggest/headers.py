"""Guess which API field a sheet header means: normalised synonyms first, then words inside it, then difflib.

    guess_header("Mobile No.")        → HeaderGuess("phone", 1.0, "synonym")
    guess_header("customerEmailId")   → HeaderGuess("email", 0.95, "synonym")
    guess_header("Compnay")           → HeaderGuess("business_name", 0.6, "fuzzy")

Besides API fields a guess can name a *role* the suggester resolves with the sheet's values: ``phone`` (the
primary phone or an extra one), ``full_name``, ``owner`` (needs a lookup table) and ``country``. The role
``ignore`` marks headers known to have no API field (State, Pincode, …) so the fuzzy match leaves them alone.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

#: Role or API field → the headers that mean it (normalised: lower case, words split by single spaces).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone", "phone number", "phone no", "mobile", "mobile number", "mobile no", "mobile phone",
        "mobile phone number", "cell", "cell phone", "cell number", "cellphone", "contact number",
        "contact no", "whatsapp", "whatsapp number", "whatsapp no", "telephone", "tel", "landline",
        "office phone", "work phone", "home phone", "business phone", "alternate number", "alternate phone",
        "alternate mobile", "alt phone", "secondary phone", "other phone", "phone 1", "phone 2", "mobile 1",
        "mobile 2", "msisdn", "ph", "ph no", "mob", "mob no", "number",
    ),
    "first_name": ("first name", "firstname", "given name", "fname", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "lname", "last"),
    "full_name": ("name", "full name", "lead name", "contact name", "customer name", "client name", "person"),
    "email": (
        "email", "e mail", "email address", "mail", "email id", "mail id", "e mail id", "email 2",
        "secondary email", "work email", "personal email", "business email",
    ),
    "business_name": (
        "company", "company name", "organisation", "organization", "organisation name", "organization name",
        "org", "firm", "firm name", "business", "business name", "account", "account name", "shop name",
        "store name", "employer", "brand",
    ),
    "website": ("website", "web site", "website url", "url", "web", "site", "homepage", "domain"),
    "city": ("city", "town", "city name", "location", "district"),
    "address.text": (
        "address", "street", "street address", "address line 1", "address 1", "street 1", "addr",
        "full address", "billing address", "shipping address",
    ),
    "address.additional": ("address line 2", "address 2", "street 2", "landmark", "area", "locality"),
    "source": ("source", "lead source", "origin", "channel", "source name", "utm source", "referred by"),
    "lead_stage_name": (
        "stage", "lead stage", "status", "lead status", "pipeline stage", "deal stage", "prospect stage",
        "lifecycle stage", "funnel stage",
    ),
    "lead_group_name": ("group", "lead group", "segment", "list", "pipeline", "category"),
    "add_labels": ("tags", "tag", "labels", "label", "lead tags", "keywords", "rating"),
    "add_products": (
        "product", "products", "interested in", "product interest", "interest", "plan", "service", "services",
    ),
    "deal_value": (
        "amount", "value", "deal value", "deal size", "deal amount", "revenue", "budget", "expected revenue",
        "opportunity amount", "price", "order value", "ticket size",
    ),
    "assignee_user_phone": (
        "owner phone", "owner mobile", "assignee phone", "agent phone", "sales rep phone",
        "assigned to phone", "owner number",
    ),
    "owner": (
        "owner", "lead owner", "contact owner", "account owner", "record owner", "assigned to", "assignee",
        "sales rep", "salesperson", "sales person", "agent", "owner email", "owner name",
        "owner id email address", "owner id name", "executive", "counsellor", "counselor", "rm",
    ),
    "customer_note": (
        "notes", "note", "remarks", "remark", "comments", "comment", "feedback", "follow up notes",
    ),
    "additional_info": ("description", "additional info", "additional information", "details", "requirement",
                        "requirements", "about", "summary", "message", "enquiry", "inquiry", "query"),
    "source_type": ("source type",),
    "country": ("country", "country code", "region", "country region", "nation"),
    "ignore": (
        "state", "province", "zip", "zip code", "pincode", "pin code", "postal code", "postcode", "id",
        "created", "created on", "created at", "created date", "modified on", "updated at", "date", "time",
        "score", "job title", "title", "designation", "gender", "age", "dob", "date of birth",
    ),
}  # fmt: skip

#: Synonyms that are weaker evidence than the rest ("Status" may be Active/Inactive; "Value" may be anything).
WEAK: dict[str, float] = {
    "status": 0.9, "value": 0.85, "number": 0.85, "list": 0.8, "category": 0.8, "web": 0.85, "site": 0.85,
    "location": 0.9, "rating": 0.85, "interest": 0.85, "first": 0.85, "last": 0.85, "mail": 0.9,
    "account": 0.85, "person": 0.85, "message": 0.85, "about": 0.8, "area": 0.85, "agent": 0.9, "rm": 0.8,
    "pipeline": 0.85, "channel": 0.9, "origin": 0.9, "domain": 0.85, "district": 0.85,
}  # fmt: skip

#: Leading words that qualify a header without changing what it holds ("Lead Status", "Customer Mobile").
QUALIFIERS = frozenset({"mx", "cf", "custom", "lead", "contact", "customer", "client", "prospect", "primary",
                        "main", "your", "the", "person", "user"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True)
class HeaderGuess:
    """What a header probably holds: an API field or a role, how sure (0..1), and how it was found."""

    field: str
    score: float
    how: str  # synonym, words, fuzzy


def header_words(header: str) -> list[str]:
    """``"customerMobile_No."`` → ``["customer", "mobile", "no"]``: camelCase, punctuation and case undone."""
    spaced = _CAMEL.sub(" ", header.replace("E-mail", "Email").replace("e-mail", "email"))
    return [word for word in _NON_WORD.split(spaced.lower()) if word]


def squash(header: str) -> str:
    """Letters and digits only, lower case: the key for exact synonym matching."""
    return "".join(header_words(header))


_BY_SQUASHED: dict[str, str] = {}
for _field, _phrases in SYNONYMS.items():
    for _phrase in _phrases:
        _BY_SQUASHED.setdefault(_phrase.replace(" ", ""), _field)
_PHRASES: list[tuple[tuple[str, ...], str]] = sorted(
    ((tuple(phrase.split()), field) for field, phrases in SYNONYMS.items() for phrase in phrases),
    key=lambda item: -len(" ".join(item[0])),
)


def guess_header(header: str) -> HeaderGuess | None:
    """The most likely field or role of ``header``, or None when nothing fits."""
    words = header_words(header)
    if not words:
        return None
    for variant, score in _variants(header, words):
        field = _BY_SQUASHED.get("".join(variant))
        if field is not None:
            if field == "ignore":
                return None
            return HeaderGuess(field, round(score * WEAK.get(" ".join(variant), 1.0), 3), "synonym")
    inside = _phrase_inside(words)
    if inside is not None:
        return HeaderGuess(inside, 0.8, "words")
    return _fuzzy("".join(words))


def _variants(header: str, words: list[str]) -> list[tuple[list[str], float]]:
    """The header, then without qualifier words, then its last dotted part (``metadata.company``)."""
    variants = [(words, 1.0)]
    stripped = list(words)
    while len(stripped) > 1 and stripped[0] in QUALIFIERS:
        stripped = stripped[1:]
    if stripped != words:
        variants.append((stripped, 0.95))
    if "." in header:
        last = header_words(header.rsplit(".", 1)[1])
        if last:
            variants.append((last, 0.9))
    return variants


def _phrase_inside(words: list[str]) -> str | None:
    """A synonym found as consecutive words of the header: the longest wins, then the one ending last."""
    best: tuple[int, int, str] | None = None
    for phrase, field in _PHRASES:
        size = len(phrase)
        for start in range(len(words) - size + 1):
            if tuple(words[start : start + size]) == phrase:
                key = (len(" ".join(phrase)), start + size, field)
                if best is None or key[:2] > best[:2]:
                    best = key
    return best[2] if best is not None and best[2] != "ignore" else None


def _fuzzy(squashed: str) -> HeaderGuess | None:
    """A close spelling of a synonym (typos such as "Compnay", "Moblie No"); short headers are not guessed."""
    if len(squashed) < 5:
        return None
    close = difflib.get_close_matches(squashed, list(_BY_SQUASHED), n=1, cutoff=0.8)
    if not close:
        return None
    field = _BY_SQUASHED[close[0]]
    return None if field == "ignore" else HeaderGuess(field, 0.6, "fuzzy")
