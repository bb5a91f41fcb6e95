"""Contact-list CSV: a streaming parser that turns an uploaded file into contact rows.

The file is read in chunks and never held whole. Accepted: UTF-8 (with or without BOM) and
UTF-16 LE/BE with a BOM; CRLF, LF or CR line ends; quoted cells with commas, quotes and
newlines; a header row that must hold a ``Mobile Number`` column. Anything else (binary data,
another encoding, a missing column, a file over the limits) raises :class:`CsvError`, an
:class:`InvalidRequest`, so the API answers 400 with the reason.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first data row is row 2,
a cell with line breaks inside quotes stays one row, and blank rows count (but are skipped).

Numbers become E.164 (``+919876543210``) with ``phonenumbers``, the ``country_code`` of the upload
serving as the region for numbers written without ``+``. A number only has to be *possible*
(right length for its country), as in :mod:`callwright.domain.phone`. Of two rows with the same
number the first wins; the second is reported as a duplicate. A leading ``'`` (how our own
exports neutralise ``+…`` cells) is ignored, so a fixed rejected-rows file can be re-uploaded.

Leniencies: a header line with no comma but ``;`` or tabs is read with that separator (European
Excel); missing trailing cells are empty; extra cells are fine while empty. Guards: a record
over ``MAX_RECORD_CHARS``, a cell over ``max_cell_chars`` (that row only), more than
``max_rows`` rows or ``max_bytes`` bytes, and more than ``JUNK_AFTER_INVALID`` bad rows
outnumbering the good ones (the file is junk: stop instead of reading all of it).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, Final

from callwright.domain.errors import InvalidRequest
from callwright.domain.phone import PhoneNormaliser, region_for_country_code

MOBILE_HEADER: Final = "Mobile Number"
# A record (one spreadsheet row, all its cells) may not exceed this many characters.
MAX_RECORD_CHARS: Final = 64 * 1024
MAX_COLUMNS: Final = 500
DEFAULT_MAX_CELL_CHARS: Final = 1024
_CHUNK_BYTES: Final = 64 * 1024
_SNIFF_BYTES: Final = 8 * 1024
_BINARY: Final = "The file contains binary data (NUL bytes): upload a CSV text file."
# Past this many bad rows, a file with more bad rows than good ones is junk: stop reading it.
JUNK_AFTER_INVALID: Final = 1000
_EMPTY: Final = "The file is empty: expected a header row with a 'Mobile Number' column."


class CsvError(InvalidRequest):
    """The file as a whole cannot be imported; ``message`` says why (HTTP 400)."""

    code = "invalid_csv"


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One accepted row. ``variables`` maps agent variable → cell text (the mobile-number
    column's variable, if mapped, holds the normalised E.164 number)."""

    row_number: int
    mobile_number: str
    callee_name: str
    variables: dict[str, str]


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row: why, and its cells keyed by header (as uploaded, before any clean-up)."""

    row_number: int
    reason: str
    raw: dict[str, str]


@dataclass(frozen=True, slots=True)
class ParseSummary:
    """Totals over the data rows read so far (blank rows are neither valid nor invalid)."""

    total_rows: int
    valid_rows: int
    invalid_rows: int
    duplicate_rows: int
    blank_rows: int


def parse_variables_map(text: str | Mapping[str, object]) -> dict[str, str]:
    """The ``variables_map`` form field (a JSON object of variable → CSV header), checked."""
    if isinstance(text, str):
        try:
            value: object = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise InvalidRequest(f"variables_map is not valid JSON: {exc}") from exc
    else:
        value = dict(text)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidRequest(
            'variables_map must be a JSON object of strings, e.g. {"callee_name": "Name"}'
        )
    return {k.strip(): v.strip() for k, v in value.items()}


class ContactCsv:
    """An opened upload: the header is read and checked on construction; iterate for rows.

    Iteration yields :class:`ContactRow` and :class:`RowError` in file order and may raise
    :class:`CsvError` midway (file too large, too many rows, broken quoting, bad bytes further
    in). ``summary`` holds the totals read so far. Not thread-safe; iterate once.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        variables_map: Mapping[str, str],
        country_code: str,
        max_rows: int,
        max_bytes: int,
        max_cell_chars: int = DEFAULT_MAX_CELL_CHARS,
    ) -> None:
        self._normalise = PhoneNormaliser(region_for_country_code(country_code))
        self._max_rows = max_rows
        self._max_cell_chars = max_cell_chars
        self._stream = _TextStream(file, max_bytes=max_bytes)
        self._row_number = 0
        self._total = self._valid = self._invalid = self._duplicates = self._blank = 0
        self._seen: dict[int, int] = {}  # E.164 digits → first row; ints keep 1M rows small

        first = self._stream.first_line()
        delimiter = ";" if "," not in first and ";" in first else ","
        delimiter = "\t" if "," not in first and "\t" in first else delimiter
        self._reader = csv.reader(self._stream.lines(), delimiter=delimiter, strict=True)
        header = self._next_record()
        while header is not None and not any(cell.strip() for cell in header):
            header = self._next_record()
        if header is None:
            raise CsvError(_EMPTY)
        self.header_row = self._row_number
        self.headers: tuple[str, ...] = tuple(h.strip().lstrip("\ufeff").strip() for h in header)
        if len(self.headers) > MAX_COLUMNS:
            raise CsvError(f"The header has {len(self.headers)} columns; at most {MAX_COLUMNS}.")
        self._check_header(variables_map)

    @property
    def summary(self) -> ParseSummary:
        return ParseSummary(
            total_rows=self._total,
            valid_rows=self._valid,
            invalid_rows=self._invalid,
            duplicate_rows=self._duplicates,
            blank_rows=self._blank,
        )

    def _check_header(self, variables_map: Mapping[str, str]) -> None:
        found = ", ".join(repr(h) for h in self.headers if h) or "none"
        if MOBILE_HEADER not in self.headers:
            hint = ""
            near = [h for h in self.headers if h.lower().replace("_", " ") == MOBILE_HEADER.lower()]
            if near:
                hint = f" ({near[0]!r} differs only in case or underscores)"
            raise CsvError(
                f"The CSV has no '{MOBILE_HEADER}' column{hint}. Headers found: {found}."
            )
        unknown = [h for h in variables_map.values() if h.strip() not in self.headers]
        if unknown:
            raise CsvError(
                "variables_map names columns the CSV does not have: "
                + ", ".join(repr(h) for h in unknown)
                + f". Headers found: {found}."
            )
        wanted = {MOBILE_HEADER, *(h.strip() for h in variables_map.values())}
        repeated = sorted(h for h in wanted if self.headers.count(h) > 1)
        if repeated:
            raise CsvError("These columns appear more than once: " + ", ".join(map(repr, repeated)))
        self._variables = {var: self.headers.index(h.strip()) for var, h in variables_map.items()}
        self._mobile_col = self.headers.index(MOBILE_HEADER)
        self._name_col = self._variables.get("callee_name")

    def __iter__(self) -> Iterator[ContactRow | RowError]:
        width = len(self.headers)
        while (record := self._next_record()) is not None:
            if not "".join(record).strip():
                self._blank += 1
                continue
            self._total += 1
            if self._total > self._max_rows:
                raise CsvError(
                    f"The file has more than {self._max_rows:,} data rows;"
                    " split it into smaller lists."
                )
            row = self._row(record, width)
            if isinstance(row, RowError):
                self._invalid += 1
                if self._invalid > JUNK_AFTER_INVALID and self._invalid > self._valid:
                    raise CsvError(
                        f"Too many invalid rows: {self._invalid:,} of the first {self._total:,}"
                        f" (row {row.row_number}: {row.reason}). Check the '{MOBILE_HEADER}'"
                        " column and country_code."
                    )
            else:
                self._valid += 1
            yield row
        if self._total == 0:
            raise CsvError("The file has a header row but no data rows.")

    def _row(self, record: list[str], width: int) -> ContactRow | RowError:
        n = self._row_number
        if len(record) < width:
            record = record + [""] * (width - len(record))
        limit = self._max_cell_chars
        if max(map(len, record)) > limit:
            long = next(h for h, v in zip(self.headers, record, strict=False) if len(v) > limit)
            reason = f"cell in column {long!r} is longer than {limit} characters"
            return RowError(n, reason, self._raw(record, limit))
        if len(record) > width and any(c.strip() for c in record[width:]):
            reason = f"row has {len(record)} cells but the header has {width} (a stray comma?)"
            return RowError(n, reason, self._raw(record))
        cell = record[self._mobile_col].strip()
        if not cell:
            return RowError(n, "missing mobile number", self._raw(record))
        e164 = self._normalise(cell)
        if e164 is None:
            return RowError(n, f"invalid phone number {cell!r}", self._raw(record))
        first = self._seen.setdefault(int(e164[1:]), n)
        if first != n:
            self._duplicates += 1
            return RowError(n, f"duplicate of row {first} ({e164})", self._raw(record))
        mobile = self._mobile_col
        variables = {
            var: e164 if col == mobile else record[col].strip()
            for var, col in self._variables.items()
        }
        name = record[self._name_col].strip() if self._name_col is not None else ""
        return ContactRow(n, e164, name, variables)

    def _raw(self, record: list[str], limit: int | None = None) -> dict[str, str]:
        """The row's cells by header (cut to ``limit`` characters, to bound memory)."""
        return {h: v[:limit] for h, v in zip(self.headers, record, strict=False) if h}

    def _next_record(self) -> list[str] | None:
        self._stream.record_chars = 0
        try:
            record = next(self._reader, None)
        except csv.Error as exc:
            raise CsvError(f"Row {self._row_number + 1}: malformed CSV ({exc}).") from exc
        if record is not None:
            self._row_number += 1
        return record


class _TextStream:
    """Bytes → text lines (ends kept: ``\\r\\n``, ``\\n`` or ``\\r``), with limits and checks."""

    def __init__(self, file: IO[bytes], *, max_bytes: int) -> None:
        source = _Source(file, max_bytes=max_bytes)
        head = source.peek(_SNIFF_BYTES)
        if not head:
            raise CsvError(_EMPTY)
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise CsvError(_BINARY)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            raise CsvError("UTF-32 files are not supported: save the CSV as UTF-8.")
        self._utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        # "utf-16" reads the BOM for the byte order; "utf-8-sig" drops a UTF-8 BOM if present.
        self._text = io.TextIOWrapper(
            io.BufferedReader(source, _CHUNK_BYTES),
            encoding="utf-16" if self._utf16 else "utf-8-sig",
            errors="strict",
            newline="",  # keep line ends as they are: the csv module needs them
        )
        self._first = self._readline()
        self.record_chars = 0

    def first_line(self) -> str:
        """The first physical line (it is still yielded by ``lines``)."""
        return self._first

    def lines(self) -> Iterator[str]:
        line = self._first
        while line:
            self.record_chars += len(line)
            if self.record_chars > MAX_RECORD_CHARS:
                raise CsvError(f"A row is longer than {MAX_RECORD_CHARS:,} characters.")
            yield line
            line = self._readline()

    def _readline(self) -> str:
        try:
            line = self._text.readline(MAX_RECORD_CHARS + 1)
        except UnicodeDecodeError as exc:
            raise CsvError(
                f"The file is not {'UTF-16' if self._utf16 else 'UTF-8'} text: is it a CSV?"
                " Save it as 'CSV UTF-8'."
            ) from exc
        if len(line) > MAX_RECORD_CHARS:
            raise CsvError(f"A row is longer than {MAX_RECORD_CHARS:,} characters: is this a CSV?")
        if "\x00" in line:
            raise CsvError(_BINARY)
        return line


class _Source(io.RawIOBase):
    """The upload as a raw stream that stops past ``max_bytes``."""

    def __init__(self, file: IO[bytes], *, max_bytes: int) -> None:
        self._file = file
        self._max_bytes = max_bytes
        self._read = 0
        self._head = b""

    def readable(self) -> bool:
        return True

    def peek(self, n: int) -> bytes:
        while len(self._head) < n:
            chunk = self._pull(n - len(self._head))
            if not chunk:
                break
            self._head += chunk
        return self._head

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            data, self._head = self._head[: len(view)], self._head[len(view) :]
        else:
            data = self._pull(len(view))
        view[: len(data)] = data
        return len(data)

    def _pull(self, n: int) -> bytes:
        chunk = self._file.read(n)
        if chunk is None:  # a non-blocking stream with nothing ready
            raise CsvError("The upload could not be read.")
        self._read += len(chunk)
        if self._read > self._max_bytes:
            raise CsvError(f"The file is larger than {self._max_bytes:,} bytes.")
        return bytes(chunk)
