"""Hostile sheets, end to end: each is run through ``python -m importer run`` in a subprocess boxed to 512 MB of
address space and 5 seconds, against the sandbox with a real key, and must end the way a user expects:
exit 2 with one line on stderr naming the file and the problem (nothing sent), or read fine.

The runner (:func:`run_boxed`) and the workbook forgers live here; test_hostile_mappings.py uses them too.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from importer.models import Issue, Row
from importer.report import TRIGGERS, ReportWriter, Summary, restore
from importer.sandbox import SandboxServer

MEMORY_LIMIT = 512 * 1024 * 1024
TIME_LIMIT = 5.0
MAPPING = "version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n"

# --- the boxed runner ----------------------------------------------------------------------------------


@dataclass
class Finished:
    """How a boxed CLI run ended: exit code, output, wall time and peak resident memory."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


#: Runs ``python -m importer`` under RLIMIT_AS and, at exit, writes its peak resident memory (VmHWM: this
#: process's own, not the forked parent's pages that getrusage would count) to the file named by argv[1].
_BOXED = """
import atexit, pathlib, resource, runpy, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
peak_file = pathlib.Path(sys.argv.pop(1))
def _peak():
    status = pathlib.Path("/proc/self/status").read_text()
    peak_file.write_text(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
atexit.register(_peak)
sys.argv[0] = "importer"
runpy.run_module("importer", run_name="__main__", alter_sys=True)
"""


def run_boxed(args: list[str], env: dict[str, str], folder: Path, timeout: float = TIME_LIMIT) -> Finished:
    """``python -m importer ARGS`` under RLIMIT_AS 512 MB; fails the test if it runs over ``timeout`` seconds."""
    out_path, err_path, peak_path = folder / "stdout.txt", folder / "stderr.txt", folder / "peak_kb.txt"
    started = time.monotonic()
    code = _BOXED.format(limit=MEMORY_LIMIT)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-c", code, str(peak_path), *args], cwd=folder, env=env,
                                   stdout=out, stderr=err)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"`importer {' '.join(args[:2])}` ran longer than {timeout} s") from None
    return Finished(
        code=process.returncode,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
        seconds=time.monotonic() - started,
        peak_mb=int(peak_path.read_text()) / 1024 if peak_path.exists() else float("inf"),
    )


def run_against(server: SandboxServer, sheet: Path, mapping: Path, folder: Path) -> Finished:
    """A real run of ``sheet`` into the sandbox, with the account's key set."""
    env = {**os.environ, "SF_API_KEY": server.api_key}
    env.pop("SF_BASE_URL", None)
    args = ["run", str(sheet), "-m", str(mapping), "--base-url", server.base_url, "--report-dir",
            str(folder / "reports"), "--rate", "500", "--quiet"]
    return run_boxed(args, env, folder)


def posts(server: SandboxServer) -> list[dict]:
    return [entry for entry in server.requests() if entry["method"] == "POST"]


def assert_refused(finished: Finished, name: str, *fragments: str) -> str:
    """Exit 2, one line on stderr naming the file and every fragment, nothing on stdout, no traceback."""
    lines = finished.stderr.strip().splitlines()
    assert finished.code == 2, finished.stderr[-2000:]
    assert len(lines) == 1, finished.stderr[-2000:]
    assert lines[0].startswith(f"superfone-import: error: {name}:"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    assert finished.stdout == ""
    return lines[0]


# --- workbooks built by hand ---------------------------------------------------------------------------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_PART = "xl/worksheets/sheet1.xml"


def package_parts(sheet_xml: bytes, shared_strings: bytes | None = None) -> dict[str, bytes]:
    """The parts of a one-sheet .xlsx ("Leads"): the worksheet (and shared strings) given as XML."""
    kinds = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    sst_override = (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kinds}.sharedStrings+xml"/>'
                    if shared_strings else "")
    sst_rel = (f'<Relationship Id="rId2" Type="{_DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
               if shared_strings else "")
    parts = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_CT_NS}">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{kinds}.sheet.main+xml"/>'
            f'<Override PartName="/{_SHEET_PART}" ContentType="{kinds}.worksheet+xml"/>{sst_override}</Types>'
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{_DOC_REL}">'
            f'<sheets><sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>{sst_rel}'
            f"</Relationships>"
        ).encode(),
        _SHEET_PART: sheet_xml,
    }
    if shared_strings:
        parts["xl/sharedStrings.xml"] = shared_strings
    return parts


def inline_row(number: int, cells: Iterable[str]) -> str:
    """A worksheet row of inline-string cells; the text goes in as is (so entity references stay)."""
    body = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
                   for i, text in enumerate(cells))
    return f'<row r="{number}">{body}</row>'


def worksheet(rows: Iterable[str], prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN_NS}"><sheetData>'
            f'{"".join(rows)}</sheetData></worksheet>').encode()


def zipped(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def deflate(chunks: Iterable[bytes]) -> tuple[bytes, int, int]:
    """Raw deflate of the chunks, streamed: (compressed bytes, CRC-32, uncompressed size)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    crc, size, out = 0, 0, []
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        out.append(compressor.compress(chunk))
    out.append(compressor.flush())
    return b"".join(out), crc, size


def forged_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand from ``(name, deflated, crc, declared size)``; the declared size may lie."""
    buffer, central = io.BytesIO(), []
    for name, data, crc, declared in entries:
        offset, raw = buffer.tell(), name.encode()
        buffer.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), declared,
                                 len(raw), 0) + raw + data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data),
                                   declared, len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = buffer.tell()
    for record in central:
        buffer.write(record)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), buffer.tell() - start, start, 0)
    return buffer.getvalue() + end


def big_sheet_chunks(megabytes: int) -> Iterator[bytes]:
    """A worksheet of about ``megabytes`` MB: a header, then rows of 900-character names (compresses ~450:1)."""
    yield worksheet([inline_row(1, ["Phone", "Name"])])[: -len(b"</sheetData></worksheet>")]
    row = inline_row(2, ["+919700000001", "A" * 900]).encode()
    block = row * (1024 * 1024 // len(row))
    for _ in range(megabytes):
        yield block
    yield b"</sheetData></worksheet>"


def workbook_with(sheet_chunks: Iterable[bytes], declared: int | None = None) -> bytes:
    """An .xlsx whose worksheet is streamed from ``sheet_chunks``; ``declared`` replaces its stated size."""
    entries = []
    for name, data in package_parts(b"").items():
        packed, crc, size = deflate(sheet_chunks if name == _SHEET_PART else [data])
        entries.append((name, packed, crc, declared if declared is not None and name == _SHEET_PART else size))
    return forged_zip(entries)


def encrypted_ole2() -> bytes:
    """The start of a password-protected OOXML workbook: an OLE2 header and a directory sector that names the
    ``EncryptionInfo`` and ``EncryptedPackage`` streams (what Excel writes when a password is set)."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    directory = bytearray()
    for name, kind in (("Root Entry", 5), ("EncryptionInfo", 2), ("EncryptedPackage", 2)):
        entry = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        entry[: len(encoded)] = encoded
        struct.pack_into("<HB", entry, 64, len(encoded), kind)
        directory += entry
    payload = random.Random(5).randbytes(4096)
    return bytes(header) + bytes(directory) + bytes(512 - len(directory)) + payload


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10))
    + "]>"
)


def xlsx_from_xlsxwriter(path: Path, rows: Iterable[list[str]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Leads")
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            sheet.write_string(r, c, value)
    workbook.close()
    return path


# --- the corpus ------------------------------------------------------------------------------------------

PHONE = "+919700000001"


def csv_bytes(*lines: str, ending: str = "\r\n") -> bytes:
    return "".join(line + ending for line in lines).encode("utf-8")


def _twenty_thousand_columns(path: Path) -> bytes:
    header = ["Phone", "Name", *(f"Extra {i}" for i in range(19_998))]
    return csv_bytes(",".join(header), ",".join([PHONE, "Asha", *([""] * 19_998)]))


def _truncated_xlsx(path: Path) -> bytes:
    rows = [["Phone", "Name"], *([f"+9197{i:08d}", f"Lead {i}"] for i in range(2000))]
    whole = xlsx_from_xlsxwriter(path.with_name("whole.xlsx"), rows).read_bytes()
    return whole[: len(whole) // 2]


def _laughs_in_shared_strings(path: Path) -> bytes:
    strings = (f'<?xml version="1.0" encoding="UTF-8"?>{BILLION_LAUGHS}<sst xmlns="{MAIN_NS}" count="2" '
               f'uniqueCount="2"><si><t>Name</t></si><si><t>&lol9;</t></si></sst>').encode()
    sheet = worksheet([
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Phone</t></is></c><c r="B1" t="s"><v>0</v></c></row>',
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{PHONE}</t></is></c><c r="B2" t="s"><v>1</v></c></row>',
    ])
    return zipped(package_parts(sheet, strings))


def _huge_xlsx_cell(path: Path) -> bytes:
    noise = random.Random(3).randbytes(5 * 1024 * 1024).hex()  # 10 MB that does not compress like a bomb
    return zipped(package_parts(worksheet([inline_row(1, ["Phone", "Name"]), inline_row(2, [PHONE, noise])])))


def _wide_xlsx(path: Path) -> bytes:
    return xlsx_from_xlsxwriter(path.with_name("wide-source.xlsx"), [[f"C{i}" for i in range(20_000)]]).read_bytes()


#: name → (file bytes, fragments the one error line must hold). Every one exits 2 with nothing sent.
REFUSED: dict[str, tuple[Callable[[Path], bytes], tuple[str, ...]]] = {
    "empty.csv": (lambda _: b"", ("the file is empty",)),
    "blank-lines.csv": (lambda _: b"\r\n  \r\n\t\r\n", ("only blank lines",)),
    "garbage.csv": (lambda _: random.Random(7).randbytes(64 * 1024), ()),
    "zip-named.csv": (lambda p: zipped(package_parts(worksheet([]))), ("zip archive",)),
    "not-a-zip.xlsx": (lambda _: csv_bytes("Phone,Name", f"{PHONE},Asha"), ("not a zip archive",)),
    "truncated.xlsx": (_truncated_xlsx, ("not a valid .xlsx file",)),
    "lying-sizes.xlsx": (lambda _: workbook_with(big_sheet_chunks(20), declared=4096), ("not a valid .xlsx",)),
    "laughs-sheet.xlsx": (lambda _: zipped(package_parts(worksheet(
        [inline_row(1, ["Phone", "Name"]), inline_row(2, [PHONE, "&lol9;"])], prolog=BILLION_LAUGHS))),
        ("not a valid .xlsx", "entity")),
    "laughs-strings.xlsx": (_laughs_in_shared_strings, ("not a valid .xlsx", "entity")),
    "huge-cell.csv": (lambda _: csv_bytes("Phone,Name", f'{PHONE},"{"x" * (10 * 1024 * 1024)}"'),
                      ("row 2", "larger than 1 MB")),
    "huge-cell.xlsx": (_huge_xlsx_cell, ("row 2", "cell B2 is larger than 1 MB")),
    "wide.csv": (_twenty_thousand_columns, ("row 1", "20000 columns; at most 10000")),
    "wide.xlsx": (_wide_xlsx, ("16384 columns; at most 10000",)),  # xlsx stops at 16,384 (XFD)
    "duplicate-header.csv": (lambda _: csv_bytes("Phone,Name,Phone", f"{PHONE},Asha,1"),
                             ("row 1", "columns 1 and 3 are both named 'Phone'")),
    "empty-header.csv": (lambda _: csv_bytes("Phone,,Name", f"{PHONE},x,Asha"), ("row 1", "column 2 (B) has no name")),
    "nul.csv": (lambda _: csv_bytes("Phone,Name", f"{PHONE},Asha", "+919700000002,Ra\0vi"),
                ("row 3", "NUL byte")),
    "open-quote.csv": (lambda _: csv_bytes("Phone,Name", f"{PHONE},Asha", '+919700000002,"Ravi', "+919700000003,Meera"),
                       ("row 3", "unterminated quote")),
    "locked.xlsx": (lambda _: encrypted_ole2(), ("password-protected",)),
    "locked-zip.xlsx": (lambda p: _zip_with_encrypted_flag(), ("password-protected",)),
}


def _zip_with_encrypted_flag() -> bytes:
    """A zip whose entries claim to be encrypted (general-purpose flag bit 0), as password tools write them."""
    data = bytearray(zipped(package_parts(worksheet([inline_row(1, ["Phone", "Name"])]))))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := data.find(signature, start)) >= 0:
            data[found + flag_offset] |= 0x01
            start = found + 4
    return bytes(data)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_file_is_refused_in_one_line_and_nothing_is_sent(name: str, fresh_sandbox, tmp_path: Path) -> None:
    build, fragments = REFUSED[name]
    sheet = tmp_path / name
    sheet.write_bytes(build(sheet))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    line = assert_refused(finished, name, *fragments)
    assert "Traceback" not in line and finished.peak_mb < MEMORY_LIMIT / 2**20
    assert posts(fresh_sandbox) == []
    assert not list((tmp_path / "reports").glob("*/summary.json"))


def test_a_zip_bomb_is_refused_before_inflating(fresh_sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / "bomb.xlsx"
    sheet.write_bytes(workbook_with(big_sheet_chunks(400)))
    assert sheet.stat().st_size < 2 * 1024 * 1024  # 400 MB of XML inside
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    assert_refused(finished, "bomb.xlsx", "looks like a zip bomb")
    assert finished.peak_mb < 150  # the interpreter and its imports; the 400 MB were never inflated


def test_entities_are_never_expanded_nor_external_files_read(fresh_sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY", encoding="utf-8")
    prolog = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    sheet = tmp_path / "xxe.xlsx"
    sheet.write_bytes(zipped(package_parts(worksheet([inline_row(1, ["Phone", "Name"]),
                                                      inline_row(2, [PHONE, "&xxe;"])], prolog=prolog))))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    assert_refused(finished, "xxe.xlsx", "entity")
    assert "TOP-SECRET-CANARY" not in finished.stderr + finished.stdout
    assert posts(fresh_sandbox) == []


# --- files that must read fine -------------------------------------------------------------------------


def _summary(finished: Finished) -> dict:
    last = finished.stdout.strip().splitlines()[-1]
    assert last.startswith("report: "), finished.stdout
    return json.loads((Path(last.removeprefix("report: ")) / "summary.json").read_text(encoding="utf-8"))


READABLE: dict[str, bytes] = {
    "mixed-endings.csv": b"Phone,Name\r\n+919700000001,Asha\n+919700000002,Ravi\r+919700000003,Meera\r\n",
    "utf16-no-bom.csv": "Phone,Name\r\n+919700000001,Åsa\r\n+919700000002,Ravi\r\n+919700000003,Zoë\r\n"
    .encode("utf-16-le"),
    "utf16be-no-bom.tsv": "Phone\tName\n+919700000001,Åsa\n+919700000002\tRavi\n+919700000003\tZoë\n"
    .replace(",", "\t").encode("utf-16-be"),
}


@pytest.mark.parametrize("name", sorted(READABLE))
def test_odd_but_honest_text_files_import(name: str, fresh_sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / name
    sheet.write_bytes(READABLE[name])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    assert finished.code == 0, finished.stderr
    summary = _summary(finished)
    assert (summary["rows_total"], summary["succeeded"]) == (3, 3)
    names = {fresh_sandbox.lead(f"+91970000000{i}")["first_name"] for i in (1, 2, 3)}
    assert names in ({"Asha", "Ravi", "Meera"}, {"Åsa", "Ravi", "Zoë"})


def test_header_only_is_refused_with_nothing_to_import(fresh_sandbox, tmp_path: Path) -> None:
    """A header with no rows below it (or only blank ones) cannot be imported: exit 2, one line, nothing sent.
    (Reading it is fine: ``open_table`` gives zero rows, and ``mapping suggest`` works from the header.)"""
    sheet = tmp_path / "header-only.csv"
    sheet.write_bytes(csv_bytes("Phone,Name\n,\n"))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    assert_refused(finished, "header-only.csv", "no data rows below the header")
    assert posts(fresh_sandbox) == []
    assert not list(tmp_path.rglob("summary.json"))


def test_bad_rows_are_reported_and_the_others_are_sent(fresh_sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / "mixed.csv"
    sheet.write_bytes(csv_bytes(
        "Phone,Name,Stage",
        "+919700000001,Asha,New Lead",
        "12,Short,New Lead",
        "+919700000003,Ravi,Nope",
        "+919700000004,Meera,Contacted",
    ))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING + "  lead_stage_name: {column: Stage, on_invalid: reject}\n", encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    assert finished.code == 1 and finished.stderr == ""
    summary = _summary(finished)
    assert (summary["rows_total"], summary["succeeded"], summary["invalid"]) == (4, 2, 2)
    assert set(summary["errors_by_code"]) == {"invalid-phone", "unknown-stage"}
    assert {entry["customer_phone"] for entry in posts(fresh_sandbox)} == {"+919700000001", "+919700000004"}
    folder = Path(finished.stdout.strip().splitlines()[-1].removeprefix("report: "))
    with (folder / "failures.csv").open(encoding="utf-8-sig", newline="") as handle:
        failed = {row["_row"]: row["_error"] for row in csv.DictReader(handle)}
    assert set(failed) == {"3", "4"}
    assert "invalid-phone" in failed["3"] and "unknown-stage" in failed["4"]


# --- hostile cells in the report files -------------------------------------------------------------------

#: Text rich in formula triggers, after separators too; no XML-forbidden controls (those become U+FFFD).
trigger_text = st.lists(st.sampled_from([*"=+-@\t\r\n'\",;|a1é ", "_x000D_", "_x005F_"]), min_size=1, max_size=12).map(
    "".join).filter(str.strip)


def _starts_with_trigger(cell: object) -> bool:
    return isinstance(cell, str) and cell[:1] != "" and cell[0] in TRIGGERS


def _write_report(folder: Path, rows: list[list[str]]) -> Path:
    writer = ReportWriter(folder, folder / "leads.xlsx", columns=["Phone", "Name"], workbook=True, dry_run=False,
                          started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    for number, (phone, name, error) in enumerate(rows, start=2):
        row = Row(number, {"Phone": phone, "Name": name})
        writer.add_issues([Issue(number, name, "error", "invalid-phone", error, phone)])
        writer.add_success(row)
        writer.add_failure(row, error)
    return writer.finish(Summary(str(folder / "leads.xlsx"), "m.yaml", dry_run=False))


def _csv_cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))[1:]


@given(st.lists(st.lists(trigger_text, min_size=3, max_size=3), min_size=1, max_size=4))
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_report_cells_never_start_a_formula_and_restore_exactly(tmp_path: Path, rows: list[list[str]]) -> None:
    folder = _write_report(tmp_path / f"r{len(list(tmp_path.iterdir()))}", rows)
    phones, names, errors = ([row[i] for row in rows] for i in range(3))
    csv_files = {name: _csv_cells(folder / name) for name in ("issues.csv", "successes.csv", "failures.csv")}
    calamine = CalamineWorkbook.from_path(str(folder / "failures.xlsx")).get_sheet_by_index(0).to_python()[1:]
    opened = openpyxl.load_workbook(folder / "failures.xlsx", read_only=True)
    with_openpyxl = [list(values) for values in opened.active.iter_rows(min_row=2, values_only=True)]
    opened.close()
    for table in [*csv_files.values(), calamine, with_openpyxl]:
        assert not any(_starts_with_trigger(cell) for cells in table for cell in cells)
    restored = {name: [[restore(cell) for cell in cells] for cells in table] for name, table in csv_files.items()}
    assert [cells[0] for cells in restored["successes.csv"]] == phones
    assert [cells[:2] for cells in restored["failures.csv"]] == [[p, n] for p, n in zip(phones, names, strict=True)]
    assert [cells[3] for cells in restored["failures.csv"]] == errors
    assert [(cells[1], cells[4], cells[5]) for cells in restored["issues.csv"]] == list(zip(names, errors, phones,
                                                                                          strict=True))
    from_workbook = [[restore(str(cell)) for cell in cells] for cells in calamine]
    assert from_workbook == [[p, n, str(i + 2), e] for i, (p, n, e) in enumerate(zip(phones, names, errors,
                                                                                   strict=True))]
