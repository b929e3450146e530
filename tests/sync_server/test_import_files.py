"""Import files as spreadsheets write them (issue 17): Excel in France saves "CSV" with
semicolons, a byte-order mark, CRLF line ends, and in Windows-1252 unless told "CSV UTF-8".
Rows are numbered as the spreadsheet shows them (the header is row 1)."""

from __future__ import annotations

import io

import pytest

from sync_server.errors import Invalid
from sync_server.schemas import RightCreate, RowError
from sync_server.services.rights import SNIFFED_BYTES, read_rows


def rows(data: bytes) -> list[tuple[int, RightCreate | RowError]]:
    return list(read_rows(io.BytesIO(data), "text/csv"))


def test_excel_in_france_semicolons_a_bom_and_crlf() -> None:
    data = "\ufeffevent;zones;holder;display_name\r\nDERBY;NORD|SUD;C-1;Hélène Ben Ali\r\n"
    [(number, right)] = rows(data.encode("utf-8"))
    assert number == 2
    assert isinstance(right, RightCreate)
    assert (right.event, right.zones, right.holder) == ("DERBY", ["NORD", "SUD"], "C-1")
    assert right.display_name == "Hélène Ben Ali"


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_told_from_the_header(separator: str) -> None:
    line = separator.join(["event", "zones", "seat"])
    data = f'{line}\nDERBY{separator}NORD{separator}"A; 12, left"\n'
    [(_, right)] = rows(data.encode())
    assert isinstance(right, RightCreate) and right.seat == "A; 12, left"


def test_header_names_with_spaces_around_them() -> None:
    [(_, right)] = rows(b"event ; zones \nDERBY;NORD\n")
    assert isinstance(right, RightCreate) and right.zones == ["NORD"]


def test_a_rotating_column_marks_rights_rotating_or_not() -> None:
    data = (
        b"event;zones;rotating\nDERBY;NORD;true\nDERBY;NORD;0\nDERBY;NORD;\nDERBY;NORD;peut-etre\n"
    )
    marked = [
        right.rotating if isinstance(right, RightCreate) else "bad" for _, right in rows(data)
    ]
    assert marked == [True, False, None, "bad"]  # empty: as its event requires


def test_windows_1252_is_refused_with_what_to_do() -> None:
    data = "event;zones;display_name\r\nDERBY;NORD;Hélène\r\n".encode("cp1252")
    with pytest.raises(Invalid) as refused:
        rows(data)
    message = str(refused.value)
    assert 'Save it as "CSV UTF-8"' in message and "byte 0xE9" in message
    assert "Windows-1252" in message


def test_a_bad_byte_far_into_the_file_names_its_line() -> None:
    lines = ["event;zones"] + ["DERBY;NORD"] * (SNIFFED_BYTES // 10 + 500) + ["DERBY;N\xc9RD"]
    data = "\n".join(lines).encode("cp1252")
    with pytest.raises(Invalid) as refused:
        rows(data)
    assert f"line {len(lines)}" in str(refused.value), str(refused.value)


def test_a_header_without_zones_says_what_it_read() -> None:
    with pytest.raises(Invalid) as refused:
        rows(b"event;zone;holder\nDERBY;NORD;C-1\n")
    message = str(refused.value)
    assert "'event' and 'zones' at least" in message
    assert "'event', 'zone', 'holder'" in message and "';'" in message


def test_bad_rows_carry_the_spreadsheets_row_numbers() -> None:
    data = b"event,zones,policy\nDERBY,NORD,single\nDERBY,NORD,sometimes\n\nDERBY,,single\n"
    found = rows(data)
    numbers = [n for n, _ in found]
    assert numbers == [2, 3, 5]  # the blank line is row 4 in the spreadsheet too
    errors = {n: r for n, r in found if isinstance(r, RowError)}
    assert sorted(errors) == [3, 5]
    assert "policy" in errors[3].message and "zones" in errors[5].message


def test_a_bad_cell_is_said_in_the_pages_language() -> None:
    """A cell its model refuses keeps pydantic's English for the API, and is said in French,
    Arabic or English on the pages (the column's name, what is wrong, the limit)."""
    from sync_server import words
    from sync_server.services.rights import _validate

    error = _validate(7, {"event": "DERBY", "zones": ["NORD"], "policy": "twice", "seat": "x" * 99})
    assert not isinstance(error, RightCreate) and error.row == 7
    assert "seat" in error.message  # the API's words
    french = words.row_error(error, "fr")
    assert "Place : au plus 64 caractères" in french and "Entrées :" in french
    assert "المقعد" in words.row_error(error, "ar")
    assert "Seat: at most 64 characters" in words.row_error(error, "en")


def test_a_forms_bad_field_is_said_in_the_pages_language() -> None:
    from pydantic import ValidationError

    from sync_server.field_words import field_problems
    from sync_server.schemas import ZoneIn

    try:
        ZoneIn.model_validate({"code": "é!", "name": "", "capacity": "beaucoup"})
    except ValidationError as exc:
        errors = exc.errors()
    else:
        raise AssertionError("the zone should have been refused")
    french = field_problems(errors, "fr")
    assert "Code : forme non valable" in french
    assert "Nom : au moins 1 caractère(s)" in french
    assert "Capacité : un nombre entier" in french
    assert "السعة: عدد صحيح" in field_problems(errors, "ar")
