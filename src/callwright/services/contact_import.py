"""Importing a contact CSV into a list: parse as a stream, store in batches, report bad rows.

Memory stays bounded whatever the file size: rows go to the database ``INSERT_BATCH`` at a
time, each batch in a short write transaction of its own (on SQLite other writers get their
turn between batches), and rejected rows go straight to a CSV file beside the list. Parsing
is CPU work on a blocking file, so it runs in a worker thread, one batch at a time.

Outcomes. Success: the list ends ``completed`` with its counts, and an :class:`ImportResult`
is returned. Failure: the list ends ``failed`` with ``error`` set, none of its contacts are
kept, and the error is raised: :class:`CsvError` for a file that cannot be read (empty, no
``Mobile Number`` column, binary, too large), :class:`InvalidRows` when rows are bad and
``remove_invalid_rows`` is false, or when no row at all is valid.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, TextIO

from callwright.db.repositories import contacts as repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.contact_csv import (
    DEFAULT_MAX_CELL_CHARS,
    ContactCsv,
    ContactRow,
    CsvError,
    RowError,
)
from callwright.domain.errors import Conflict, NotFound
from callwright.services.call_queries import neutralise

# Bad rows kept in memory for the API response; the CSV of rejected rows has all of them.
REPORTED_ERRORS = 100
# Accepted rows kept for the response's ``custom_args_values`` preview.
PREVIEW_ROWS = 10
IMPORTABLE = ("verifying", "uploaded", "failed")


@dataclass(frozen=True, slots=True)
class ImportResult:
    list_id: str
    status: str
    total_rows: int
    successful_rows: int
    failed_rows: int
    duplicate_rows: int
    invalid_rows_path: Path | None
    row_errors: tuple[RowError, ...]  # the first REPORTED_ERRORS bad rows, in file order
    preview: tuple[ContactRow, ...]  # the first PREVIEW_ROWS accepted rows


class InvalidRows(CsvError):
    """Some rows are bad (and ``remove_invalid_rows`` is false), or no row is good.

    ``result`` carries the counts, the first bad rows and the path of the rejected-rows CSV.
    """

    def __init__(self, message: str, result: ImportResult) -> None:
        super().__init__(message)
        self.result = result


async def import_contacts(
    uow: SessionFactory,
    workspace_id: str,
    list_id: str,
    file: IO[bytes],
    *,
    variables_map: Mapping[str, str],
    country_code: str,
    remove_invalid_rows: bool,
    max_rows: int,
    max_bytes: int,
    invalid_rows_dir: Path,
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS,
) -> ImportResult:
    """Read ``file`` (a binary file object, read from its current position) into the list.

    The list must exist in the workspace (NotFound) in status verifying, uploaded or failed
    (Conflict otherwise: an import is running or done). See the module docstring for outcomes.
    """
    async with uow.begin() as session:
        row = await repo.get_list(session, workspace_id, list_id)
        if row is None:
            raise NotFound("Contact list not found")
        if row.status not in IMPORTABLE:
            raise Conflict(f"The list is {row.status}; it cannot be imported again")
        await repo.delete_contacts(session, workspace_id, list_id)  # left by a failed run
        await repo.update_list(
            session, workspace_id, list_id, status="processing", error=None,
            total_rows=0, successful_rows=0, failed_rows=0, invalid_rows_path=None,
        )  # fmt: skip
    run = _Run(invalid_rows_dir / f"{list_id}.csv")
    try:
        parsed = await asyncio.to_thread(
            ContactCsv,
            file,
            variables_map=variables_map,
            country_code=country_code,
            max_rows=max_rows,
            max_bytes=max_bytes,
            max_cell_chars=max_cell_chars,
        )
        run.headers = parsed.headers
        rows = iter(parsed)
        stored = 0
        while True:
            batch = await run.next_batch(rows)
            if batch is None:
                break
            # Parse the next batch while this one is stored: two threads, two cores.
            run.prefetch(rows)
            keep = remove_invalid_rows or not run.errors
            async with uow.begin() as session:
                if keep and batch:
                    stored += await repo.insert_contacts(session, workspace_id, list_id, batch)
                summary = parsed.summary
                await repo.update_list(
                    session, workspace_id, list_id, total_rows=summary.total_rows,
                    successful_rows=stored, failed_rows=summary.invalid_rows,
                )  # fmt: skip
        await asyncio.to_thread(run.close)
        summary = parsed.summary
        result = ImportResult(
            list_id=list_id,
            status="completed",
            total_rows=summary.total_rows,
            successful_rows=summary.valid_rows,
            failed_rows=summary.invalid_rows,
            duplicate_rows=summary.duplicate_rows,
            invalid_rows_path=run.path if run.errors else None,
            row_errors=tuple(run.reported),
            preview=tuple(run.preview),
        )
        failure = _failure(result, remove_invalid_rows=remove_invalid_rows)
        if failure is not None:
            result = replace(result, status="failed", successful_rows=0)
            raise InvalidRows(failure, result)
        async with uow.begin() as session:
            await repo.update_list(
                session, workspace_id, list_id, status="completed",
                total_rows=result.total_rows, successful_rows=result.successful_rows,
                failed_rows=result.failed_rows,
                invalid_rows_path=str(run.path) if run.errors else None,
            )  # fmt: skip
    except BaseException as exc:
        await run.settle()  # the parse thread may still be writing the rejected-rows file
        await asyncio.to_thread(run.close)
        if isinstance(exc, CsvError):
            message = exc.message
        elif isinstance(exc, asyncio.CancelledError):
            message = "The import was interrupted; upload the file again."
        else:
            message = "The import failed unexpectedly; upload the file again."
        async with uow.begin() as session:
            await repo.delete_contacts(session, workspace_id, list_id)
            await repo.update_list(
                session, workspace_id, list_id, status="failed", error=message,
                successful_rows=0,
                invalid_rows_path=str(run.path) if run.errors else None,
            )  # fmt: skip
        raise
    return result


def _failure(result: ImportResult, *, remove_invalid_rows: bool) -> str | None:
    if result.successful_rows == 0:
        return f"No valid rows: all {result.total_rows:,} rows were rejected."
    if result.failed_rows and not remove_invalid_rows:
        rows = ", ".join(str(e.row_number) for e in result.row_errors[:10])
        more = "…" if result.failed_rows > 10 else ""
        return (
            f"{result.failed_rows:,} invalid rows (rows {rows}{more}): fix them, or upload with "
            "remove_invalid_rows=true to skip them."
        )
    return None


class _Run:
    """The state of one import that lives in the worker thread: the rejected-rows file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.headers: tuple[str, ...] = ()
        self.errors = 0
        self.reported: list[RowError] = []
        self.preview: list[ContactRow] = []
        self._out: TextIO | None = None
        self._columns: list[str] = []
        self._pending: asyncio.Future[list[ContactRow] | None] | None = None
        self._writer: Any = None  # a csv.writer (its type is private to typeshed)

    async def next_batch(self, rows: Iterator[ContactRow | RowError]) -> list[ContactRow] | None:
        pending, self._pending = self._pending, None
        if pending is None:
            return await asyncio.to_thread(self.take, rows, repo.INSERT_BATCH)
        return await pending

    def prefetch(self, rows: Iterator[ContactRow | RowError]) -> None:
        self._pending = asyncio.ensure_future(asyncio.to_thread(self.take, rows, repo.INSERT_BATCH))

    async def settle(self) -> None:
        """Wait for a prefetch still running (a thread cannot be cancelled), ignoring its end."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await asyncio.wait([pending])
            if not pending.cancelled():
                pending.exception()  # retrieved, so asyncio does not log it

    def take(self, rows: Iterator[ContactRow | RowError], n: int) -> list[ContactRow] | None:
        """The next accepted rows (up to ``n`` rows read); None once the file is done."""
        batch: list[ContactRow] = []
        read = 0
        for row in rows:
            read += 1
            if isinstance(row, RowError):
                self._reject(row)
            else:
                batch.append(row)
                if len(self.preview) < PREVIEW_ROWS:
                    self.preview.append(row)
            if read >= n:
                return batch
        return batch if read else None

    def _reject(self, error: RowError) -> None:
        self.errors += 1
        if len(self.reported) < REPORTED_ERRORS:
            self.reported.append(error)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("w", encoding="utf-8-sig", newline="")
            self._columns = [h for h in self.headers if h]
            self._writer = csv.writer(self._out, lineterminator="\r\n")
            self._writer.writerow(["Row", *map(neutralise, self._columns), "Error"])
        cells = [neutralise(error.raw.get(h, "")) for h in self._columns]
        self._writer.writerow([error.row_number, *cells, neutralise(error.reason)])

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
