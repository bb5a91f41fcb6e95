"""Hypothesis: no input makes the parser raise anything but CsvError, and the fast phone path
agrees with ``phonenumbers.parse`` wherever it answers."""

from __future__ import annotations

import csv
import io

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callwright.domain.contact_csv import ContactCsv, ContactRow, CsvError
from callwright.domain.phone import PhoneNormaliser

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def run(data: bytes, variables_map: dict[str, str] | None = None) -> None:
    """Parse everything; check the invariants of what comes out."""
    try:
        parsed = ContactCsv(
            io.BytesIO(data),
            variables_map=variables_map or {},
            country_code="+91",
            max_rows=500,
            max_bytes=20_000,
            max_cell_chars=200,
        )
        rows = list(parsed)
    except CsvError as exc:
        assert exc.message
        return
    numbers = [r.row_number for r in rows]
    assert numbers == sorted(set(numbers)) and all(n >= 2 for n in numbers)
    good = [r for r in rows if isinstance(r, ContactRow)]
    assert all(r.mobile_number.startswith("+") and r.mobile_number[1:].isdigit() for r in good)
    assert len({r.mobile_number for r in good}) == len(good)
    s = parsed.summary
    assert s.total_rows == len(rows) and s.valid_rows == len(good)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    run(data)


@FUZZ
@given(st.binary(max_size=500))
def test_random_bytes_after_a_good_header(data: bytes) -> None:
    run(b"Mobile Number,Name\r\n" + data, {"callee_name": "Name"})


CSVISH = st.text(
    alphabet=st.sampled_from(list(",\"\r\n;\t +-()0123456789abcxyz=@'\ufeff\u2028\x85é")),
    max_size=400,
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
HEADERS = st.sampled_from(
    ["", "Mobile Number\n", "Mobile Number,Name\r\n", '"Mobile Number",Name\r']
)


@FUZZ
@given(HEADERS, CSVISH, ENCODINGS)
def test_random_csvish_text(header: str, body: str, encoding: str) -> None:
    run((header + body).encode(encoding), {"callee_name": "Name"} if "Name" in header else {})


@settings(FUZZ, max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.from_regex(r"\+?[0-9]{6,14}", fullmatch=True),
                st.text(alphabet="0123456789 +-()", max_size=16),
            ),
            st.text(max_size=30),
        ),
        max_size=40,
    )
)
def test_well_formed_csv_with_random_cells_never_crashes(rows: list[tuple[str, str]]) -> None:
    out = io.StringIO()
    csv.writer(out).writerows([("Mobile Number", "Name"), *rows])
    run(out.getvalue().encode(), {"callee_name": "Name"})


PHONE_TEXT = st.one_of(
    st.text(alphabet="0123456789", min_size=1, max_size=18),
    st.text(alphabet="0123456789 +-().", min_size=1, max_size=20),
    st.builds(
        lambda cc, rest: f"+{cc}{rest}",
        st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
        st.text(alphabet="0123456789", max_size=14),
    ),
)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(REGIONS), PHONE_TEXT)
def test_fast_phone_path_agrees_with_phonenumbers(region: str, text: str) -> None:
    normalise = PhoneNormaliser(region)
    fast = normalise.fast(text)
    if fast is not None:
        assert (fast or None) == normalise.slow(text), (region, text)
