"""The contact CSV parser: encodings, line ends, quoting, headers, numbers, row numbers, limits."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

import pytest

from callwright.domain.contact_csv import (
    ContactCsv,
    ContactRow,
    CsvError,
    RowError,
    parse_variables_map,
    region_for_country_code,
)
from callwright.domain.errors import InvalidRequest
from tests.contacts.conftest import csv_bytes

HEADER = ["Mobile Number", "Name", "Policy ID"]
MAP = {"callee_name": "Name", "policy_id": "Policy ID", "mobile_number": "Mobile Number"}


def parse(data: bytes | io.RawIOBase, **kw: Any) -> tuple[ContactCsv, list[ContactRow | RowError]]:
    options: dict[str, Any] = {
        "variables_map": MAP,
        "country_code": "+91",
        "max_rows": 1000,
        "max_bytes": 10_000_000,
    }
    options.update(kw)
    file = io.BytesIO(data) if isinstance(data, bytes) else io.BufferedReader(data)
    parsed = ContactCsv(file, **options)
    return parsed, list(parsed)


def error(data: bytes | io.RawIOBase, **kw: Any) -> str:
    options: dict[str, Any] = {
        "variables_map": MAP,
        "country_code": "+91",
        "max_rows": 1000,
        "max_bytes": 10_000_000,
    }
    options.update(kw)
    file = io.BytesIO(data) if isinstance(data, bytes) else io.BufferedReader(data)
    with pytest.raises(CsvError) as info:
        for _ in ContactCsv(file, **options):  # rows are not kept: memory stays the parser's
            pass
    assert isinstance(info.value, InvalidRequest)  # the API maps it to 400
    return info.value.message


GOOD = [HEADER, ["+91 98765 43210", "Asha", "P-1"], ["9876543211", "Ravi", "P-2"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_encodings_and_line_ends(encoding: str, newline: str) -> None:
    data = csv_bytes(GOOD, encoding="utf-8", newline=newline).decode()
    if encoding in ("utf-16-le", "utf-16-be"):  # with a BOM of that byte order
        raw = ("\ufeff" + data).encode(encoding)
    else:
        raw = data.encode(encoding)
    parsed, rows = parse(raw)
    assert parsed.headers == tuple(HEADER)
    assert rows == [
        ContactRow(
            2,
            "+919876543210",
            "Asha",
            {"callee_name": "Asha", "policy_id": "P-1", "mobile_number": "+919876543210"},
        ),
        ContactRow(
            3,
            "+919876543211",
            "Ravi",
            {"callee_name": "Ravi", "policy_id": "P-2", "mobile_number": "+919876543211"},
        ),
    ]


def test_quoted_newlines_commas_and_quotes_stay_in_one_row_and_keep_row_numbers() -> None:
    data = (
        b"Mobile Number,Name,Policy ID\r\n"
        b'+919876543210,"Doe, ""JD""\r\nJohn",P-1\r\n'  # row 2 spans two lines
        b"\r\n"  # row 3: blank, skipped but counted as a spreadsheet row
        b'not-a-number,"multi\nline\nname",P-3\r\n'  # row 4
        b"+919876543211,Ravi,P-5\r\n"  # row 5
    )
    parsed, rows = parse(data)
    assert [r.row_number for r in rows] == [2, 4, 5]
    first = rows[0]
    assert isinstance(first, ContactRow) and first.callee_name == 'Doe, "JD"\r\nJohn'
    bad = rows[1]
    assert isinstance(bad, RowError)
    assert bad.reason == "invalid phone number 'not-a-number'"
    assert bad.raw == {
        "Mobile Number": "not-a-number",
        "Name": "multi\nline\nname",
        "Policy ID": "P-3",
    }
    assert parsed.summary.blank_rows == 1 and parsed.summary.total_rows == 3


def test_invalid_and_duplicate_numbers_report_exact_rows() -> None:
    rows_in = [
        HEADER,
        ["+919876543210", "A", "1"],  # 2
        ["12", "B", "2"],  # 3: too short
        ["98765 43210", "C", "3"],  # 4: same number as row 2, national format
        ["", "D", "4"],  # 5: missing
        ["+1 415 555 0123", "E", "5"],  # 6: another country is fine
        ['=HYPERLINK("http://x")', "F", "6"],  # 7: formula cell
        ["+919876543210", "G", "7"],  # 8: duplicate again
        ["'+14155550124", "H", "8"],  # 9: our own neutralised export, re-imported
    ]
    parsed, rows = parse(csv_bytes(rows_in))
    errors = {r.row_number: r.reason for r in rows if isinstance(r, RowError)}
    assert errors == {
        3: "invalid phone number '12'",
        4: "duplicate of row 2 (+919876543210)",
        5: "missing mobile number",
        7: "invalid phone number '=HYPERLINK(\"http://x\")'",
        8: "duplicate of row 2 (+919876543210)",
    }
    good = [(r.row_number, r.mobile_number) for r in rows if isinstance(r, ContactRow)]
    assert good == [(2, "+919876543210"), (6, "+14155550123"), (9, "+14155550124")]
    s = parsed.summary
    assert (s.total_rows, s.valid_rows, s.invalid_rows, s.duplicate_rows) == (8, 3, 5, 2)


@pytest.mark.parametrize(
    ("country_code", "cell", "e164"),
    [
        ("+91", "09876543210", "+919876543210"),  # national prefix 0
        ("IN", "919876543210", "+919876543210"),  # country code without +
        ("+1", "(415) 555-0123", "+14155550123"),
        ("US", "1-415-555-0123", "+14155550123"),
        ("us", "011 44 20 7946 0958", "+442079460958"),  # US international prefix
        ("+44", "020 7946 0958", "+442079460958"),
    ],
)
def test_country_code_is_the_default_region(country_code: str, cell: str, e164: str) -> None:
    _, rows = parse(
        csv_bytes([["Mobile Number"], [cell]]), variables_map={}, country_code=country_code
    )
    assert rows == [ContactRow(2, e164, "", {})]


@pytest.mark.parametrize("bad", ["", "+", "999", "XX", "+9999", "India"])
def test_unknown_country_code(bad: str) -> None:
    with pytest.raises(InvalidRequest, match="country_code"):
        region_for_country_code(bad)


def test_header_is_matched_exactly_after_trimming() -> None:
    parsed, rows = parse(
        csv_bytes([[" Mobile Number ", "\ufeffName", "Policy ID"], ["+919876543210", "A", "1"]])
    )
    assert parsed.headers == ("Mobile Number", "Name", "Policy ID")
    assert len(rows) == 1
    message = error(
        csv_bytes([["mobile_number", "Name"], ["+919876543210", "A"]]), variables_map={}
    )
    assert message == (
        "The CSV has no 'Mobile Number' column ('mobile_number' differs only in case or "
        "underscores). Headers found: 'mobile_number', 'Name'."
    )


def test_semicolon_and_tab_separated_files_are_read() -> None:
    for sep in (";", "\t"):
        data = f"Mobile Number{sep}Name\r\n+919876543210{sep}Asha\r\n".encode()
        _, rows = parse(data, variables_map={"callee_name": "Name"})
        assert rows == [ContactRow(2, "+919876543210", "Asha", {"callee_name": "Asha"})]


def test_variables_map_naming_missing_columns_is_an_error() -> None:
    message = error(
        csv_bytes(GOOD), variables_map={"callee_name": "Name", "city": "City", "x": "Zip"}
    )
    assert message.startswith("variables_map names columns the CSV does not have: 'City', 'Zip'.")
    assert "Headers found: 'Mobile Number', 'Name', 'Policy ID'" in message


def test_duplicate_mapped_header_is_an_error() -> None:
    data = csv_bytes([["Mobile Number", "Name", "Name"], ["+919876543210", "a", "b"]])
    message = error(data, variables_map={"callee_name": "Name"})
    assert "'Name'" in message and "more than once" in message


def test_parse_variables_map() -> None:
    assert parse_variables_map('{"callee_name": " Name "}') == {"callee_name": "Name"}
    assert parse_variables_map("") == {}
    for bad in ("{", "[]", '{"a": 1}', "null"):
        with pytest.raises(InvalidRequest, match="variables_map"):
            parse_variables_map(bad)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty"),
        (b"\r\n\r\n  \r\n", "The file is empty"),
        (b"\xef\xbb\xbf", "The file is empty"),
        (b"Mobile Number,Name\r\n", "header row but no data rows"),
        (b"Mobile Number,Name\r\n,\r\n\r\n", "header row but no data rows"),
        (b"Phone,Name\r\n1,2\r\n", "no 'Mobile Number' column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"Mobile Number\r\n+919876543210\x00\r\n", "binary data"),
        (b"PK\x03\x04\x14\x00\x06\x00", "binary data"),  # an .xlsx
        (b"Mobile Number\r\n\xff\xfe\xfa\r\n", "not UTF-8 text"),
        ("Mobile Number,Name\r\n+919876543210,Jos\u00e9\r\n".encode("cp1252"), "not UTF-8 text"),
        (b"\xff\xfe\x00\x00M\x00\x00\x00", "UTF-32"),
        (b'Mobile Number,Name\r\n+919876543210,"unclosed\r\n', "malformed CSV"),
        (b'Mobile Number,Name\r\n+919876543210,"a"b\r\n', "Row 2: malformed CSV"),
    ],
)
def test_bad_files(data: bytes, expected: str) -> None:
    assert expected in error(data, variables_map={})


def test_row_cap_and_byte_cap() -> None:
    data = csv_bytes([HEADER] + [[f"+9198765{i:05d}", "n", "p"] for i in range(50)])
    assert len(parse(data, max_rows=50)[1]) == 50
    assert (
        error(data, max_rows=49)
        == "The file has more than 49 data rows; split it into smaller lists."
    )
    assert len(parse(data, max_bytes=len(data))[1]) == 50
    assert (
        error(data, max_bytes=len(data) - 1) == f"The file is larger than {len(data) - 1:,} bytes."
    )


def test_cells_longer_than_the_cap_reject_the_row() -> None:
    data = csv_bytes([HEADER, ["+919876543210", "x" * 101, "p"], ["+919876543211", "y" * 100, "p"]])
    _, rows = parse(data, max_cell_chars=100)
    assert isinstance(rows[0], RowError)
    assert rows[0].reason == "cell in column 'Name' is longer than 100 characters"
    assert rows[0].raw["Name"] == "x" * 100  # raw is cut to the cap: memory stays bounded
    assert isinstance(rows[1], ContactRow)


def test_extra_and_missing_cells() -> None:
    data = (
        b"Mobile Number,Name,Policy ID\r\n"
        b"+919876543210,A\r\n"
        b"+919876543211,B,P,,\r\n"
        b"+919876543212,Doe, J,P\r\n"
    )
    _, rows = parse(data)
    assert isinstance(rows[0], ContactRow) and rows[0].variables["policy_id"] == ""
    assert isinstance(rows[1], ContactRow)  # trailing empty cells are harmless
    assert isinstance(rows[2], RowError)
    assert rows[2].reason == "row has 4 cells but the header has 3 (a stray comma?)"


class Junk(io.RawIOBase):
    """``size`` bytes made on the fly by repeating ``pattern``; counts what was read."""

    def __init__(self, size: int, pattern: bytes, *, head: bytes = b"") -> None:
        self.left, self.pattern, self.head, self.consumed = size, pattern, head, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        if self.head:
            chunk, self.head = self.head[:n], self.head[n:]
        else:
            reps = n // len(self.pattern) + 1
            chunk = (self.pattern * reps)[:n]
        buffer[: len(chunk)] = chunk
        self.left -= len(chunk)
        self.consumed += len(chunk)
        return len(chunk)


FIFTY_MB = 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("pattern", "head", "expected"),
    [
        (bytes(range(256)), b"", "binary data"),
        (b"\xfe\xfd\xfc", b"", "not UTF-8 text"),
        (b"abcdefgh", b"", "longer than 65,536 characters"),
        (b"a,", b"Mobile Number,a\r\n", "longer than 65,536 characters"),
        (b"abc\r\n", b'Mobile Number,N\r\n+1,"', "longer than 65,536 characters"),  # open quote
        (b"junk;junk\r\n", b"", "no 'Mobile Number' column"),
        (b'\r\nx,"', b"Mobile Number,N\r\n", "Too many invalid rows: 1,001 of the first 1,001"),
        (b"12,x\r\n", b"Mobile Number,N\r\n", "Too many invalid rows"),
        (b"+919876543210,x\r\n", b"Mobile Number,N\r\n", "(row 1003: duplicate of row 2"),
    ],
)
def test_fifty_megabytes_of_junk_are_rejected_early_in_bounded_memory(
    pattern: bytes, head: bytes, expected: str
) -> None:
    junk = Junk(FIFTY_MB, pattern, head=head)
    tracemalloc.start()
    try:
        message = error(junk, max_bytes=FIFTY_MB * 2, max_rows=10**7, variables_map={})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert expected in message
    assert junk.consumed <= 1 << 20  # stopped early, not after reading 50 MB
    assert peak < 4 << 20


class Numbers(io.RawIOBase):
    """A valid CSV of distinct numbers, ``size`` bytes long, made on the fly."""

    def __init__(self, size: int) -> None:
        self.left, self.consumed, self.i = size, 0, 0
        self.pending = b"Mobile Number,Name\r\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self.pending) < len(buffer):
            self.pending += b"".join(b"+9198%08d,n\r\n" % (self.i + k) for k in range(1000))
            self.i += 1000
        n = min(len(buffer), self.left)
        buffer[:n], self.pending = self.pending[:n], self.pending[n:]
        self.left -= n
        self.consumed += n
        return n


def test_fifty_megabytes_of_good_rows_stop_at_the_byte_cap() -> None:
    stream = Numbers(FIFTY_MB)
    tracemalloc.start()
    try:
        message = error(stream, max_bytes=128 << 10, max_rows=10**7, variables_map={})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message == "The file is larger than 131,072 bytes."
    assert stream.consumed <= (128 << 10) + (64 << 10)
    assert peak < 4 << 20  # the parser keeps each number it saw (to find duplicates), no more
