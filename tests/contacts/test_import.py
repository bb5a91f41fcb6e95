"""Contact lists on a real database (SQLite and PostgreSQL): the import service and repository."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from callwright.db.repositories import contacts as repo
from callwright.db.unit_of_work import UnitOfWork
from callwright.domain.contact_csv import CsvError
from callwright.domain.errors import Conflict, NotFound
from callwright.domain.ids import new_id
from callwright.services.contact_import import ImportResult, InvalidRows, import_contacts
from tests.contacts.conftest import csv_bytes

MAP = {"callee_name": "Name", "policy_id": "Policy ID"}


async def new_list(uow: UnitOfWork, workspace_id: str, **kw: Any) -> str:
    async with uow.begin() as session:
        row = await repo.create_list(
            session, workspace_id, name="Q4", country_code="+91", variables_map=MAP, **kw
        )
        return row.id


async def run_import(
    uow: UnitOfWork, ws: str, list_id: str, data: bytes, tmp_path: Path, **kw: Any
) -> ImportResult:
    options: dict[str, Any] = {
        "variables_map": MAP,
        "country_code": "+91",
        "remove_invalid_rows": True,
        "max_rows": 100_000,
        "max_bytes": 50 << 20,
        "invalid_rows_dir": tmp_path / "invalid",
    }
    options.update(kw)
    return await import_contacts(uow, ws, list_id, io.BytesIO(data), **options)


async def all_contacts(
    uow: UnitOfWork, ws: str, list_id: str
) -> list[tuple[int, str, str, dict[str, Any]]]:
    async with uow() as session:
        return [
            (c.row_number, c.mobile_number, c.callee_name, c.variables)
            async for c in repo.iter_contacts(session, ws, list_id, page_size=2)
        ]


MIXED = csv_bytes(
    [
        ["Mobile Number", "Name", "Policy ID"],
        ["+91 98765 43210", "Asha", "P-1"],  # 2
        ["=cmd|' /C calc'!A0", "Eve", "@SUM(A1)"],  # 3: invalid, formula cells
        ["9876543211", "Ravi", "P-3"],  # 4
        ["+919876543210", "Dup", "-2+3"],  # 5: duplicate of row 2
        ["+14155550123", "Sam", "P-5"],  # 6
    ]
)


async def test_import_keeps_good_rows_and_reports_bad_ones(uow: UnitOfWork, tmp_path: Path) -> None:
    ws = new_id()
    list_id = await new_list(uow, ws)
    result = await run_import(uow, ws, list_id, MIXED, tmp_path)

    assert (result.status, result.total_rows, result.successful_rows, result.failed_rows) == (
        "completed", 5, 3, 2,
    )  # fmt: skip
    assert result.duplicate_rows == 1
    assert [(e.row_number, e.reason) for e in result.row_errors] == [
        (3, "invalid phone number \"=cmd|' /C calc'!A0\""),
        (5, "duplicate of row 2 (+919876543210)"),
    ]
    assert [c.mobile_number for c in result.preview] == [
        "+919876543210",
        "+919876543211",
        "+14155550123",
    ]
    assert await all_contacts(uow, ws, list_id) == [
        (2, "+919876543210", "Asha", {"callee_name": "Asha", "policy_id": "P-1"}),
        (4, "+919876543211", "Ravi", {"callee_name": "Ravi", "policy_id": "P-3"}),
        (6, "+14155550123", "Sam", {"callee_name": "Sam", "policy_id": "P-5"}),
    ]
    # The rejected rows, ready to fix in a spreadsheet, with no cell that runs as a formula.
    assert result.invalid_rows_path == tmp_path / "invalid" / f"{list_id}.csv"
    with result.invalid_rows_path.open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [
            ["Row", "Mobile Number", "Name", "Policy ID", "Error"],
            [
                "3",
                "'=cmd|' /C calc'!A0",
                "Eve",
                "'@SUM(A1)",
                "invalid phone number \"=cmd|' /C calc'!A0\"",
            ],
            ["5", "'+919876543210", "Dup", "'-2+3", "duplicate of row 2 (+919876543210)"],
        ]
    async with uow() as session:
        row = await repo.get_list(session, ws, list_id)
    assert row is not None
    assert (row.status, row.total_rows, row.successful_rows, row.failed_rows, row.error) == (
        "completed", 5, 3, 2, None,
    )  # fmt: skip
    assert row.invalid_rows_path == str(result.invalid_rows_path)


async def test_bad_rows_fail_the_import_unless_removed(uow: UnitOfWork, tmp_path: Path) -> None:
    ws = new_id()
    list_id = await new_list(uow, ws)
    with pytest.raises(InvalidRows) as info:
        await run_import(uow, ws, list_id, MIXED, tmp_path, remove_invalid_rows=False)
    assert info.value.message == (
        "2 invalid rows (rows 3, 5): fix them, or upload with remove_invalid_rows=true"
        " to skip them."
    )
    assert info.value.result.status == "failed"
    assert [e.row_number for e in info.value.result.row_errors] == [3, 5]
    assert await all_contacts(uow, ws, list_id) == []
    async with uow() as session:
        row = await repo.get_list(session, ws, list_id)
    assert row is not None and row.status == "failed" and row.error == info.value.message
    assert row.successful_rows == 0 and row.failed_rows == 2
    assert row.invalid_rows_path == str(tmp_path / "invalid" / f"{list_id}.csv")
    assert info.value.result.invalid_rows_path == tmp_path / "invalid" / f"{list_id}.csv"

    # A failed list can be imported again, from a fixed file.
    fixed = csv_bytes([["Mobile Number", "Name", "Policy ID"], ["+919876543210", "Asha", "P-1"]])
    result = await run_import(uow, ws, list_id, fixed, tmp_path, remove_invalid_rows=False)
    assert (result.status, result.successful_rows, result.invalid_rows_path) == (
        "completed",
        1,
        None,
    )
    assert len(await all_contacts(uow, ws, list_id)) == 1
    with pytest.raises(Conflict):  # a completed list is not imported twice
        await run_import(uow, ws, list_id, fixed, tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"Phone,Name\r\n+919876543210,A\r\n", "no 'Mobile Number' column"),
        (b"\x00\x01binary\x02", "binary data"),
        (b"Mobile Number,Name,Policy ID\r\n", "no data rows"),
        (b"Mobile Number,Name,Policy ID\r\nx,A,1\r\n", "No valid rows: all 1 rows were rejected."),
    ],
)
async def test_unreadable_files_fail_the_list(
    uow: UnitOfWork, tmp_path: Path, data: bytes, message: str
) -> None:
    ws = new_id()
    list_id = await new_list(uow, ws)
    with pytest.raises(CsvError) as info:
        await run_import(uow, ws, list_id, data, tmp_path)
    assert message in info.value.message
    async with uow() as session:
        row = await repo.get_list(session, ws, list_id)
    assert row is not None and row.status == "failed" and row.error == info.value.message


async def test_a_file_over_the_row_cap_keeps_nothing(uow: UnitOfWork, tmp_path: Path) -> None:
    ws = new_id()
    list_id = await new_list(uow, ws)
    rows = [["Mobile Number", "Name", "Policy ID"]] + [
        [f"+9198{i:08d}", "n", "p"] for i in range(12_000)
    ]
    with pytest.raises(CsvError, match="more than 11,000 data rows"):
        await run_import(uow, ws, list_id, csv_bytes(rows), tmp_path, max_rows=11_000)
    assert await all_contacts(uow, ws, list_id) == []


async def test_large_import_crosses_batches_and_pages(uow: UnitOfWork, tmp_path: Path) -> None:
    ws = new_id()
    list_id = await new_list(uow, ws)
    n = 12_345  # three insert batches
    rows = [["Mobile Number", "Name", "Policy ID"]] + [
        [f"+9198{i:08d}", f"n{i}", "p"] for i in range(n)
    ]
    result = await run_import(uow, ws, list_id, csv_bytes(rows), tmp_path)
    assert result.successful_rows == n
    async with uow() as session:
        assert await repo.count_contacts(session, ws, list_id) == n
        seen, after = [], 0
        while page := await repo.contacts_page(session, ws, list_id, after_id=after, limit=5000):
            seen += [c.row_number for c in page]
            after = page[-1].id
    assert seen == list(range(2, n + 2))  # id order is file order


async def test_every_query_is_scoped_by_workspace(uow: UnitOfWork, tmp_path: Path) -> None:
    ws, other = new_id(), new_id()
    list_id = await new_list(uow, ws, agent_id=new_id())
    await run_import(uow, ws, list_id, MIXED, tmp_path)
    with pytest.raises(NotFound):
        await run_import(uow, other, list_id, MIXED, tmp_path)
    async with uow.begin() as session:
        assert await repo.get_list(session, other, list_id) is None
        assert await repo.lists_page(session, other, limit=10, offset=0) == []
        assert await repo.count_contacts(session, other, list_id) == 0
        assert await repo.contacts_page(session, other, list_id) == []
        assert not await repo.delete_list(session, other, list_id)
        assert not await repo.update_list(session, other, list_id, name="x")
        assert await repo.count_contacts(session, ws, list_id) == 3
        assert [r.id for r in await repo.lists_page(session, ws, limit=10, offset=0)] == [list_id]
        assert await repo.count_lists(session, ws) == 1


async def test_delete_list_is_soft_and_removes_contacts(uow: UnitOfWork, tmp_path: Path) -> None:
    ws = new_id()
    list_id = await new_list(uow, ws)
    await run_import(uow, ws, list_id, MIXED, tmp_path)
    async with uow.begin() as session:
        assert await repo.delete_list(session, ws, list_id)
    async with uow.begin() as session:
        assert await repo.get_list(session, ws, list_id) is None
        assert await repo.count_lists(session, ws) == 0
        assert await repo.count_contacts(session, ws, list_id) == 0
        assert not await repo.delete_list(session, ws, list_id)  # already gone
    with pytest.raises(NotFound):
        await run_import(uow, ws, list_id, MIXED, tmp_path)
