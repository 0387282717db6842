"""Match-list import files and export CSV (src/imtui/engine/matchlists/files.py): encodings,
delimiters, RFC 4180 quoting, header rows, plate rules from imtui.lpr.matching, all-or-nothing errors
that name the line and the fix without echoing escape sequences, duplicates, formula neutralisation
in exports, the export -> import round trip, and a million-line file."""

from __future__ import annotations

import codecs
import gc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imtui.engine.matchlists import files
from imtui.engine.matchlists.columns import export_csv, neutralise, unneutralise
from imtui.engine.matchlists.files import (
    NO_PLATES,
    ImportFileError,
    ImportResult,
    ImportRow,
    parse_import,
)
from imtui.lpr.matching import normalise_plate


def parse(text: str, fields: tuple[str, ...] = (), encoding: str = "utf-8") -> ImportResult:
    return parse_import(text.encode(encoding), list(fields))


def refused(text: str | bytes, fields: tuple[str, ...] = ()) -> ImportFileError:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(ImportFileError) as caught:
        parse_import(data, list(fields))
    return caught.value


def plates(result: ImportResult) -> list[str]:
    return [row.plate for row in result.rows]


# ------------------------------------------------------------------------------------------- empty files


def test_empty_file_holds_no_plates_and_is_no_error() -> None:
    result = parse_import(b"", [])
    assert result.rows == []
    assert result.notes == ["Read as UTF-8.", NO_PLATES]
    assert (result.encoding, result.header) == ("utf-8", False)


def test_whitespace_only_file_holds_no_plates() -> None:
    result = parse("  \n\n\t\r\n   \n", ("Owner",))
    assert result.rows == [] and NO_PLATES in result.notes


def test_header_only_file_holds_no_plates() -> None:
    result = parse("Plate,Owner\r\n", ("Owner",))
    assert result.rows == [] and result.header is True
    assert result.notes[-2:] == ["line 1: the header row (Plate, Owner) names the columns.", NO_PLATES]


def test_blank_lines_and_empty_spreadsheet_rows_are_skipped_and_lines_still_count() -> None:
    result = parse("\r\n\r\nAB123,x\r\n,,\r\n\r\nab 1,y\r\n", ("Owner", "Colour"))
    assert [(row.line, row.plate, row.fields) for row in result.rows] == [
        (3, "AB123", ("x", "")), (6, "AB1", ("y", ""))]


# ------------------------------------------------------------------------------------------- encodings


def test_utf8_with_bom() -> None:
    result = parse_import(codecs.BOM_UTF8 + "Plate;Owner\nAB123;Jürgen Weiß\n".encode(), ["Owner"])
    assert result.encoding == "utf-8-sig" and result.header is True  # the BOM is not in the first cell
    assert result.rows == [ImportRow(2, "AB123", ("Jürgen Weiß",))]
    assert result.notes[0] == "Read as UTF-8 (with byte-order mark)."


@pytest.mark.parametrize(("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_with_bom(bom: bytes, codec: str) -> None:
    data = bom + "Plate\tOwner\r\nAB123\tMüller\r\nxy-99\tŁukasz\r\n".encode(codec)
    result = parse_import(data, ["Owner"])
    assert result.encoding == "utf-16" and result.delimiter == "\t"
    assert [(row.plate, row.fields) for row in result.rows] == [("AB123", ("Müller",)), ("XY99", ("Łukasz",))]


def test_utf16_cut_in_the_middle_is_an_error_with_its_line() -> None:
    data = codecs.BOM_UTF16_LE + "AB123\nCD456\n".encode("utf-16-le") + b"\x41"  # an odd trailing byte
    error = refused(data)
    assert error.line == 3 and "not valid UTF-16" in error.reason


def test_cp1252_file_from_a_windows_spreadsheet() -> None:
    data = "Plate;Owner\r\nAB123;Müller, 5 €\r\n".encode("cp1252")
    assert b"\xfc" in data and b"\x80" in data  # ü and € as single bytes: not valid UTF-8
    result = parse_import(data, ["Owner"])
    assert result.encoding == "cp1252" and result.delimiter == ";"
    assert result.rows == [ImportRow(2, "AB123", ("Müller, 5 €",))]
    assert result.notes[0] == "Read as Windows-1252 (the file is not valid UTF-8)."


def test_bytes_undefined_in_cp1252_fall_back_to_latin1_and_their_controls_are_refused() -> None:
    assert parse_import(b"AB123,Caf\xe9", ["Owner"]).rows[0].fields == ("Café",)  # cp1252 still
    error = refused(b"AB123,ok\nCD456,x\x81y\n", ("Owner",))  # 0x81: no cp1252 character
    assert error.line == 2 and "\\x81" in error.reason and "\x81" not in str(error)


# ------------------------------------------------------------------------------------------ delimiters


def test_semicolon_delimiter_even_with_commas_in_values() -> None:
    result = parse("AB1;Smith, J;red\nAB2;Doe, A;blue\n", ("Owner", "Colour"))
    assert result.delimiter == ";" and "Columns separated by semicolons." in result.notes
    assert result.rows[0].fields == ("Smith, J", "red")


def test_comma_delimiter_with_semicolons_in_values() -> None:
    result = parse("AB1,a;b;c\nAB2,d;e\nAB3,f\n", ("Note",))
    assert result.delimiter == "," and [row.fields for row in result.rows] == [("a;b;c",), ("d;e",), ("f",)]


def test_tab_delimiter() -> None:
    result = parse("Plate\tOwner\nAB123\tSmith, John\nCD456\tDoe; Jane\n", ("Owner",))
    assert result.delimiter == "\t" and "Columns separated by tabs." in result.notes
    assert [row.fields for row in result.rows] == [("Smith, John",), ("Doe; Jane",)]


def test_vertical_bar_delimiter_with_ragged_rows() -> None:
    result = parse("AB1|x|y\nAB2\nAB3|z\n", ("One", "Two"))
    assert result.delimiter == "|"
    assert [row.fields for row in result.rows] == [("x", "y"), ("", ""), ("z", "")]


def test_single_column_text_file() -> None:
    result = parse("AB123\r\nCD 456\nEF789", ("Owner",))  # mixed line ends, no final newline
    assert result.delimiter == "," and result.header is False
    assert [(row.line, row.plate, row.fields) for row in result.rows] == [
        (1, "AB123", ("",)), (2, "CD456", ("",)), (3, "EF789", ("",))]


def test_quoted_field_with_delimiter_newline_and_doubled_quotes() -> None:
    text = 'Plate,Owner,Note\r\n"AB123","Smith, John ""JJ""","first line\r\nsecond line"\r\nCD456,x,y\r\n'
    result = parse(text, ("Owner", "Note"))
    assert result.rows == [
        ImportRow(2, "AB123", ('Smith, John "JJ"', "first line\nsecond line")),
        ImportRow(4, "CD456", ("x", "y")),  # the quoted line break made line 3 part of line 2's row
    ]


def test_unclosed_quote_is_an_error_at_the_line_where_it_opens() -> None:
    error = refused('AB123,ok\nCD456,"never closed\nEF789,x\n', ("Note",))
    assert error.line == 2 and 'close every opening quote (")' in error.reason


def test_text_after_a_closing_quote_is_an_error() -> None:
    error = refused('AB123,"a"b\n', ("Note",))
    assert error.line == 1 and "cannot be read as CSV" in error.reason


# ------------------------------------------------------------------------------------ hostile files


def test_10_mb_single_line_is_refused_with_its_line_number() -> None:
    data = b"AB123\r\nCD456\r\n" + b"A" * 10_000_000
    error = refused(data)
    assert error.line == 3 and error.reason.startswith("longer than 1000 characters; ")
    assert str(error).startswith("line 3: longer than 1000 characters")
    assert len(str(error)) < 200  # the line is not echoed


def test_max_line_chars_is_the_limit() -> None:
    assert parse_import(b"AB123," + b"x" * 14, ["Note"], max_line_chars=20).rows[0].fields == ("x" * 14,)
    with pytest.raises(ImportFileError, match="^line 1: longer than 20 characters"):
        parse_import(b"AB123," + b"x" * 15, ["Note"], max_line_chars=20)


def test_nul_byte_means_a_binary_file() -> None:
    error = refused(b"AB123\nCD456\nEF\x00789\n")
    assert error.line == 3 and "binary or corrupt" in error.reason


@pytest.mark.parametrize(("cell", "shown", "rule"), [
    ("AB*12", '"AB*12"', "'*' cannot be in a plate"),
    ("ÄB12", '"ÄB12"', "'Ä' cannot be in a plate"),
    ("AB_12_3", '"AB_12_3"', "_ must stand between two parts"),
    ("????", '"????"', "a plate of only ? would match every read"),
    ("ABCDEFGHIJ12345678", '"ABCDEFGHIJ12345678"', "18 characters is too long"),
])
def test_plate_breaking_a_rule_is_refused_with_line_and_rule(cell: str, shown: str, rule: str) -> None:
    error = refused(f"AB123,x\n{cell},y\n", ("Note",))
    assert error.line == 2
    assert error.reason.startswith(f"{shown}: ") and rule in error.reason


def test_empty_plate_with_values_is_refused() -> None:
    error = refused("AB123,x\n  ,y\n", ("Note",))
    assert error.line == 2 and "the plate is empty" in error.reason


def test_escape_sequences_never_reach_the_message() -> None:
    for hostile in ("\x1b[31mAB", "\x9b2JAB", "AB\x1b]52;c;eA==\x07", "A\u202eB*"):
        error = refused(f"AB123\n{hostile}\n")
        assert error.line == 2
        message = str(error)
        assert not any(ch in message for ch in "\x1b\x9b\x07\u202e"), repr(message)
        assert message.isprintable()
    assert "\\x1b[31mAB" in str(refused("AB123\n\x1b[31mAB\n"))  # escaped, so still visible


def test_a_long_bad_plate_is_cut_to_40_characters_in_the_message() -> None:
    error = refused("AB123\n" + "*" + "B" * 500 + "\n")
    assert '"*' + "B" * 39 + '…": ' in error.reason and "B" * 41 not in error.reason


def test_all_or_nothing_the_first_bad_line_is_reported() -> None:
    error = refused("AB123\nCD456\nbad*1\nbad*2\n")
    assert error.line == 3 and "bad*1" in error.reason


def test_error_str_and_attributes() -> None:
    error = ImportFileError(7, "why; the fix")
    assert str(error) == "line 7: why; the fix" and (error.line, error.reason) == (7, "why; the fix")
    assert isinstance(error, ValueError)


# ---------------------------------------------------------------------------------------------- plates


def test_typed_plates_are_normalised_with_notes() -> None:
    result = parse("ab 123\nCD-456\nef.78 9\nGH012\n")
    assert plates(result) == ["AB123", "CD456", "EF789", "GH012"]
    assert result.notes[2:] == [
        'line 1: "ab 123" stored as AB123',
        'line 2: "CD-456" stored as CD456',
        'line 3: "ef.78 9" stored as EF789',
    ]


def test_notes_are_capped_at_100() -> None:
    result = parse("".join(f"ab{i}\n" for i in range(150)))
    assert len(result.rows) == 150
    assert len(result.notes) == 2 + 100 + 1 and result.notes[-1] == "… and 50 more"


def test_wildcard_and_underscore_plates_are_accepted() -> None:
    result = parse("??123\nAB_123\na?c 12\n")
    assert plates(result) == ["??123", "AB_123", "A?C12"]
    assert result.header is False


def test_duplicates_are_merged_later_line_wins_first_position_kept() -> None:
    result = parse("AB123,first\nCD456,x\nab 123,second\nEF789,y\nAB123,third\n", ("Note",))
    assert result.rows == [ImportRow(5, "AB123", ("third",)), ImportRow(2, "CD456", ("x",)),
                           ImportRow(4, "EF789", ("y",))]
    assert "line 3: AB123 repeats line 1; line 3 kept" in result.notes
    assert "line 5: AB123 repeats line 3; line 5 kept" in result.notes


@given(st.from_regex(files._STORED_FORM, fullmatch=True) | st.text(max_size=20))
def test_the_stored_form_shortcut_agrees_with_normalise_plate(text: str) -> None:
    if files._STORED_FORM.fullmatch(text):
        assert normalise_plate(text) == (text, False)


# ---------------------------------------------------------------------------------------------- fields


def test_too_many_columns_is_refused_naming_count_and_fields() -> None:
    error = refused("AB123,a,b\nCD456,a,b,c\n", ("Owner", "Colour"))
    assert error.line == 2
    assert error.reason == ("3 values after the plate, but the list has 2 custom fields: Owner, Colour; "
                            "add fields first or remove the extra columns")
    assert "the list has no custom fields" in refused("AB123,x\n").reason


def test_trailing_empty_columns_are_not_extra_values() -> None:
    result = parse("AB123;a;;;\nCD456;;b;;\n", ("Owner", "Colour"))
    assert [row.fields for row in result.rows] == [("a", ""), ("", "b")]


def test_fewer_columns_are_padded_and_values_stripped() -> None:
    result = parse("AB123\nCD456,  Smith  \nEF789,Doe,\tred \n", ("Owner", "Colour", "Note"))
    assert [row.fields for row in result.rows] == [("", "", ""), ("Smith", "", ""), ("Doe", "red", "")]


@pytest.mark.parametrize("control", ["\x07", "\x1b", "\x7f", "\x85", "\x9b", "\x0b", "\x0c"])
def test_control_character_in_a_field_is_refused_naming_line_and_field(control: str) -> None:
    error = refused(f"AB123,ok,ok\nCD456,fine,bad{control}value\n", ("Owner", "Colour"))
    assert error.line == 2 and error.reason.startswith("Colour: the value holds the control character")
    assert control not in str(error)


def test_tab_inside_a_value_is_allowed() -> None:
    assert parse('AB123,"a\tb"\n', ("Note",)).rows[0].fields == ("a\tb",)


def test_value_longer_than_500_characters_is_refused() -> None:
    assert parse("AB123," + "x" * 500, ("Note",)).rows[0].fields == ("x" * 500,)
    error = refused("AB123,ok\nCD456," + "x" * 501 + "\n", ("Note",))
    assert error.line == 2 and error.reason == "Note: 501 characters is too long; a value has at most 500"
    spanning = 'AB123,"' + "\n".join(["y" * 100] * 5) + '"\n'  # short lines, one long quoted value
    assert refused(spanning, ("Note",)).reason.startswith("Note: 504 characters is too long")


# ---------------------------------------------------------------------------------------------- header


@pytest.mark.parametrize("header", ["Plate,Owner", "plate", "Licence plate;Owner", "LICENSE_PLATE\tOwner",
                                    "Number-Plate|Owner", "registration,Owner", " Plate ,Owner"])
def test_header_by_name(header: str) -> None:
    result = parse(f"{header}\nAB123\n", ("Owner",))
    assert result.header is True and plates(result) == ["AB123"]


def test_header_by_field_names() -> None:
    result = parse("Kennzeichen;halter;FARBE\nAB123;Weiß;rot\n", ("Halter", "Farbe"))
    assert result.header is True and result.rows == [ImportRow(2, "AB123", ("Weiß", "rot"))]
    assert "line 1: the header row (Kennzeichen, halter, FARBE) names the columns." in result.notes


def test_header_by_failing_the_plate_rules() -> None:
    result = parse("Kfz (DE),Halter\nAB123,x\n", ("Halter",))
    assert result.header is True and result.rows == [ImportRow(2, "AB123", ("x",))]


def test_header_columns_map_by_name_in_any_order_and_case() -> None:
    """The issue's file: Plate,Owner,Reason into a list whose fields are Reason, Owner."""
    result = parse("Plate,Owner,Reason\nAB123,Ann,stolen\nCD456,Bob,\n", ("Reason", "Owner"))
    assert result.rows == [ImportRow(2, "AB123", ("stolen", "Ann")), ImportRow(3, "CD456", ("", "Bob"))]
    result = parse("oWNER;rEASON;PLATE\nAnn;stolen;ab 123\n", ("Reason", "Owner"))
    assert result.header is True and result.rows == [ImportRow(2, "AB123", ("stolen", "Ann"))]
    result = parse("Reason,Plate\nstolen,AB123\n", ("Colour", "Reason", "Owner"))  # fields left out
    assert result.rows == [ImportRow(2, "AB123", ("", "stolen", ""))]
    assert "line 1: the header row (Reason, Plate) names the columns. No column for Colour, Owner: " \
           "those fields stay empty." in result.notes


def test_header_with_an_unknown_column_is_refused_naming_it() -> None:
    error = refused("Plate,Owner,Reason\nAB123,Ann,stolen\n", ("Owner", "Colour"))
    assert error.line == 1
    assert error.reason == ('the header row names a column "Reason" that is not a field of the list (its fields '
                            "are Owner, Colour); rename the column, add the field first or remove the column")
    assert '"Halter"' in refused("Kfz (DE),Halter\nAB123,x\n", ("Owner",)).reason
    assert "it has no custom fields" in refused("Plate,Owner\nAB123,x\n").reason
    assert "twice" in refused("Plate,Owner,owner\nAB123,x,y\n", ("Owner",)).reason
    escaped = refused("Plate,\x1b[31mRed\nAB123,x\n", ("Owner",)).reason
    assert "\x1b" not in escaped and "\\x1b[31mRed" in escaped


def test_header_refuses_values_in_columns_it_does_not_name() -> None:
    error = refused("Owner,Plate,,\nAnn,AB123\nBob,CD456,,lost\n", ("Owner",))
    assert error.line == 3 and error.reason.startswith('"lost" is in column 4, which the header row does not name')
    result = parse("Owner,Plate,,\nAnn,AB123,,\n", ("Owner",))  # empty unnamed columns are no values
    assert result.rows == [ImportRow(2, "AB123", ("Ann",))]


def test_without_header_columns_map_by_position() -> None:
    result = parse("AB123,Ann,stolen\nCD456,Bob\n", ("Owner", "Reason"))
    assert result.header is False
    assert result.rows == [ImportRow(1, "AB123", ("Ann", "stolen")), ImportRow(2, "CD456", ("Bob", ""))]


def test_a_plate_on_the_first_line_is_no_header() -> None:
    result = parse("Kennzeichen,Owner\nAB123,x\n", ("Colour",))  # field names differ: a plate after all
    assert result.header is False and plates(result) == ["KENNZEICHEN", "AB123"]
    assert parse("AB123\nCD456\n").header is False


def test_header_only_on_the_first_non_blank_row() -> None:
    result = parse("\n\nPlate,Owner\nAB123,x\n", ("Owner",))
    assert result.header is True and result.rows == [ImportRow(4, "AB123", ("x",))]


# ---------------------------------------------------------------------------------------------- export


def test_export_quotes_per_rfc4180_with_crlf() -> None:
    lines = list(export_csv(["Owner", "Note"], [
        ("AB123", ["Smith, John", 'He said "hi"']),
        ("CD456", ["first\nsecond"]),
        ("EF789", []),
        ("GH012", ["a", "b", "dropped"]),
    ]))
    assert lines == [
        "Plate,Owner,Note\r\n",
        'AB123,"Smith, John","He said ""hi"""\r\n',
        'CD456,"first\nsecond",\r\n',
        "EF789,,\r\n",
        "GH012,a,b\r\n",
    ]


def test_export_without_fields_or_rows() -> None:
    assert list(export_csv([], [])) == ["Plate\r\n"]
    assert list(export_csv([], [("AB_12?", ())])) == ["Plate\r\n", "AB_12?\r\n"]


@pytest.mark.parametrize("cell", ["=SUM(A1:A9)", "+49 30 1234", "-5", "@SUM(1)", "\tcmd", "\r=1"])
def test_formula_starts_are_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "AB123", "a=b", " =x", "Müller", "1+1"])
def test_other_cells_pass_unchanged(cell: str) -> None:
    assert neutralise(cell) == cell == unneutralise(cell)


@pytest.mark.parametrize("cell", ["'", "'=x", "'abc", "''"])
def test_a_literal_leading_quote_is_guarded_too_so_import_can_tell_it(cell: str) -> None:
    assert neutralise(cell) == "'" + cell and unneutralise(neutralise(cell)) == cell


def test_export_neutralises_every_cell_including_field_names() -> None:
    lines = list(export_csv(["=HYPERLINK(\"http://x\")", "Note"], [("AB123", ["@cmd", "-1"]),
                                                                  ("CD456", ["\t=1", "\r=2"])]))
    assert lines == [
        "Plate,\"'=HYPERLINK(\"\"http://x\"\")\",Note\r\n",
        "AB123,'@cmd,'-1\r\n",
        "CD456,'\t=1,\"'\r=2\"\r\n",
    ]


def test_export_then_import_gives_back_the_list() -> None:
    names = ["Owner", "Note", "Colour"]
    entries = [
        ("AB123", ("Smith, John", 'He said "stop"', "red")),
        ("CD_45?", ("Jürgen Weiß", "first line\nsecond line", "")),
        ("EF789", ("", "", "")),
        ("GH012", ("=1+1", "semi;colon|bar\tand tab", "-")),
        ("??9", ("Łukasz", "€ 5", "@home")),
    ]
    data = "".join(export_csv(names, entries)).encode("utf-8")
    result = parse_import(data, names)
    assert result.header is True and result.delimiter == ","
    assert [(row.plate, row.fields) for row in result.rows] == [
        ("AB123", ("Smith, John", 'He said "stop"', "red")),
        ("CD_45?", ("Jürgen Weiß", "first line\nsecond line", "")),
        ("EF789", ("", "", "")),
        ("GH012", ("=1+1", "semi;colon|bar\tand tab", "-")),  # the guard comes off
        ("??9", ("Łukasz", "€ 5", "@home")),
    ]
    again = parse_import("".join(export_csv(names, [(r.plate, r.fields) for r in result.rows])).encode(), names)
    assert again.rows == result.rows


# Entries as the list stores them: plates in stored form; values stripped, without control
# characters but tab and line feed; field names stripped, without control characters, unique by case.
_TEXT = st.characters(blacklist_categories=("Cc", "Cs"))
_VALUE = st.text(_TEXT | st.sampled_from("\t\n"), max_size=12).map(str.strip)
_TRICKY = st.sampled_from(["=1+1", "+33 1", "-", "@SUM(A1)", "'", "'=x", "''", "'abc", "=", "a\tb", "x\ny", "'\tx"])
_PLATE = st.from_regex(r"[A-Z0-9?]{1,6}(_[A-Z0-9]{1,4})?", fullmatch=True).filter(
    lambda p: _stored(p) == p)
_NAME = st.text(_TEXT, min_size=1, max_size=8).filter(lambda n: n.strip() == n)


def _stored(plate: str) -> str | None:
    try:
        return normalise_plate(plate)[0]
    except ValueError:
        return None


@given(st.lists(_NAME | st.sampled_from(["=cmd", "'x", "Plate", "-"]), max_size=4, unique_by=str.casefold),
       st.dictionaries(_PLATE, st.lists(_TRICKY | _VALUE, min_size=4, max_size=4), max_size=6))
def test_export_then_import_is_the_identity(names: list[str], entries: dict[str, list[str]]) -> None:
    """Whatever the list holds -- values starting with = + - @, a literal leading ', quotes, the
    delimiters, line feeds -- its export imports back to the same entries."""
    stored = [(plate, tuple(values[:len(names)])) for plate, values in sorted(entries.items())]
    data = "".join(export_csv(names, stored)).encode("utf-8")
    result = parse_import(data, names)
    assert result.header is True
    assert [(row.plate, row.fields) for row in result.rows] == stored


# ------------------------------------------------------------------------------------------------ size


def test_a_million_lines_parse_completely() -> None:
    """Linear work per row (no timing here: that belongs to benchmarks; about 3 s on one core)."""
    data = "".join(f"A{i:07d},some text {i}\n" for i in range(1_000_000)).encode()
    result = parse_import(data, ["Note"])
    assert len(result.rows) == 1_000_000
    assert result.rows[0] == ImportRow(1, "A0000000", ("some text 0",))
    assert result.rows[-1] == ImportRow(1_000_000, "A0999999", ("some text 999999",))
    assert result.notes == ["Read as UTF-8.", "Columns separated by commas."]
    repeated = parse_import(b"ABC1234,some text\n" * 200_000, ["Note"])
    assert repeated.rows == [ImportRow(200_000, "ABC1234", ("some text",))]
    assert len(repeated.notes) == 2 + 100 + 1 and repeated.notes[-1] == "… and 199899 more"


def test_garbage_collection_is_back_on_after_parsing_even_after_an_error() -> None:
    assert gc.isenabled()
    parse("AB123\n")
    assert gc.isenabled()
    refused("AB123\nAB*1\n")
    assert gc.isenabled()
    gc.disable()
    try:
        parse("AB123\n")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
