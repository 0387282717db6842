"""Match-list files: import files (CSV or one plate per line) in, export CSV out.

Import is all or nothing: a central list that is half applied is worse than one not applied, because
the control room cannot tell which plates made it.  So :func:`parse_import` reads the whole file
first and either returns every row or raises :class:`ImportFileError` for the first bad line, naming
the line, what is wrong and how to fix it.  Files come from spreadsheets, other systems and people,
so the reader is lenient where the meaning is clear (encoding, delimiter, header row, spacing and
case of plates, duplicates, blank lines) and says what it did in ``notes``; it refuses what it would
have to guess (bad plates, extra or unknown columns, control characters, binary data).  Under a
header row, columns map to the list's fields by name (:mod:`.columns`); without one, by position.

Plate rules are :func:`imtui.lpr.matching.normalise_plate`'s; nothing here re-implements them (the
one shortcut, for cells already in stored form, only skips the call where its answer is known, and
a test holds it to that).
Everything quoted from the file into a message is shortened and escaped, so a hostile file cannot put
terminal escape sequences on an operator's screen.  Pure Python and stdlib only: no database, no UI.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from imtui.engine.matchlists.columns import (
    ColumnError,
    Columns,
    is_header,
    read_columns,
    unneutralise,
)
from imtui.engine.matchlists.columns import shown as _shown
from imtui.lpr.matching import MAX_LENGTH, PlateRuleError, normalise_plate

MAX_FIELD_CHARS = 500
MAX_NOTES = 100  # notes about single lines; a million changed plates must not make a million notes
SNIFF_CHARS = 64 * 1024
SNIFF_LINES = 100
DELIMITERS = ",;\t|"
NO_PLATES = "The file holds no plates."

# A cell already in stored form: plain capitals and digits, short enough.  Every such cell passes
# normalise_plate unchanged (a test checks that), so the hot path skips the call for it; anything
# else -- spaces, lower case, ?, _, other characters -- goes through normalise_plate.
_STORED_FORM = re.compile(f"[A-Z0-9]{{1,{MAX_LENGTH}}}")
_DELIMITER = re.compile("[" + re.escape(DELIMITERS) + "]")
# C0 except tab and line feed (a quoted value may span lines; CR is already a line feed), DEL, C1.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with byte-order mark)",
    "utf-16": "UTF-16 (with byte-order mark)",
    "cp1252": "Windows-1252 (the file is not valid UTF-8)",
    "latin-1": "Latin-1 (the file is neither UTF-8 nor Windows-1252)",
}


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int  # 1-based line of the file where the row starts (the later line for a merged duplicate)
    plate: str  # normalised
    fields: tuple[str, ...]  # one value per custom field, in the list's field order ("" when absent)


@dataclass(frozen=True)
class ImportResult:
    rows: list[ImportRow]  # file order of first appearance, duplicates merged
    notes: list[str]  # what the reader did: encoding, delimiter, header, changed plates, duplicates
    encoding: str  # codec name: utf-8, utf-8-sig, utf-16, cp1252 or latin-1
    delimiter: str  # one of DELIMITERS
    header: bool  # a header row was found: it named the columns


class ImportFileError(ValueError):
    """The first bad line of an import file; nothing of the file is used.

    ``reason`` says what is wrong and how to fix it; anything quoted from the file is escaped.
    """

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[type[ImportFileError], tuple[int, str]]:
        return type(self), (self.line, self.reason)  # picklable across a process pool


# ----------------------------------------------------------------------------------------------- import


def parse_import(data: bytes, field_names: Sequence[str], *, max_line_chars: int = 1000) -> ImportResult:
    """Every plate of an import file with its custom field values, or ImportFileError.

    ``field_names`` are the list's custom fields in order.  Under a header row its column names say
    which field each column fills (case-insensitive, any order; an unknown name is refused); without
    one, the columns after the plate fill them in order.  Fields without a column stay "".  A cell
    that an export guarded with a leading ``'`` loses it.  The file is checked as a whole before
    any row is parsed (binary data, over-long lines), so a hostile or wrong file fails fast and in
    bounded memory.  Linear in the file's size: a million lines take a few seconds.
    """
    text, encoding = _decode(data)
    text = _unify_newlines(text)
    _check_text(text, max_line_chars)
    notes = [f"Read as {_ENCODING_NAMES[encoding]}."]
    if not text.strip():
        return ImportResult([], [*notes, NO_PLATES], encoding, ",", False)
    delimiter = _sniff_delimiter(text)
    notes.append(f"Columns separated by {_DELIMITER_NAMES[delimiter]}.")
    line_notes = _Notes()
    with _gc_paused():
        rows, header_note = _parse_rows(text, delimiter, tuple(field_names), line_notes)
    if header_note:
        notes.append(header_note)
    notes.extend(line_notes.done())
    if not rows:
        notes.append(NO_PLATES)
    return ImportResult(rows, notes, encoding, delimiter, header_note is not None)


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the codec: a byte-order mark decides; else UTF-8 if it is valid (most files,
    and plain ASCII); else Windows-1252, what spreadsheets on Windows save as "CSV"; else Latin-1,
    which decodes anything (its odd bytes become control characters, refused later)."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode_strict(data, "utf-8-sig"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, "utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1"), "latin-1"


def _decode_strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        before = _unify_newlines(data[:exc.start].decode(encoding, errors="replace"))
        raise ImportFileError(before.count("\n") + 1, f"not valid {_ENCODING_NAMES[encoding]}; "
                              "save the file again as UTF-8 CSV") from None


def _unify_newlines(text: str) -> str:
    """CRLF and lone CR as LF, so that every count of lines agrees with the csv reader's."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_text(text: str, max_line_chars: int) -> None:
    """Refuse binary data and over-long lines before the csv reader sees them: both are one C-level
    scan, where a 10 MB line handed to csv would be buffered and parsed first."""
    nul = text.find("\x00")
    if nul >= 0:
        raise ImportFileError(_line_at(text, nul), "the file is binary or corrupt (it holds a NUL byte); "
                              "save the list as CSV or plain text")
    if len(text) > max_line_chars:
        long = _long_line(max_line_chars).search(text)
        if long is not None:
            raise ImportFileError(_line_at(text, long.start()),
                                  f"longer than {max_line_chars} characters; a line holds one plate and its "
                                  "field values — check that this is a match-list file with one plate per line")


@lru_cache(maxsize=8)
def _long_line(max_line_chars: int) -> re.Pattern[str]:
    # Anchored at line starts, so each line is scanned once: linear, unlike an unanchored search.
    return re.compile(f"^[^\\n]{{{max_line_chars + 1}}}", re.MULTILINE)


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _sniff_delimiter(text: str) -> str:
    """The column delimiter among DELIMITERS, from the first lines of the file.

    A plate cannot hold any of them, so the first one on a line ends the plate column: when every
    line agrees on it, that is the delimiter (csv.Sniffer alone takes "," for ``AB1;Smith, J``, where
    both counts are consistent).  When lines disagree (a wordy header, ragged rows) csv.Sniffer
    decides, then the most frequent first delimiter.  No delimiter at all: one column, ",".

    Quoting is always RFC 4180, so nothing needs to guess it: quoted values are cut out of the
    sample first (a delimiter inside quotes is no delimiter), which also keeps the sniffer linear --
    its quote-guessing regexes take seconds on a 64 KB sample full of unclosed quotes.
    """
    sample = _unquoted(_first_lines(text))
    firsts = Counter(found.group() for found in map(_DELIMITER.search, sample.split("\n")) if found)
    if not firsts:
        return ","
    best, count = firsts.most_common(1)[0]
    if count == firsts.total():
        return best
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    return found if found in _DELIMITER_NAMES else best


def _first_lines(text: str) -> str:
    """Whole lines from the start of ``text``: at most SNIFF_LINES, at most SNIFF_CHARS."""
    end = 0
    for _ in range(SNIFF_LINES):
        found = text.find("\n", end, SNIFF_CHARS)
        if found < 0:
            if len(text) <= SNIFF_CHARS:
                return text  # a short file, whole
            return text[:end or SNIFF_CHARS]
        end = found + 1
    return text[:end]


def _unquoted(sample: str) -> str:
    """``sample`` with every quoted value (RFC 4180: "...", "" inside) replaced by ``x``, and single
    quotes, which are no quotes here, as ``x`` too.  Odd pieces between quotes are the inside."""
    pieces = sample.split('"')
    return "x".join(pieces[0::2]).replace("'", "x")


def _parse_rows(text: str, delimiter: str, names: tuple[str, ...],
                notes: _Notes) -> tuple[list[ImportRow], str | None]:
    """Rows in order of first appearance, a later duplicate replacing the earlier one in place (the
    file's last word counts, as when the same plate is typed twice); and the header's note.

    Quoting is RFC 4180 and strict: a quote that does not pair up is an error at the line where its
    record starts, where a lenient reader would guess.  This loop is the hot path of a million-line
    import, so the common row (a plate in stored form, values without control characters on one
    short line) costs a regex match, a strip per value and a dict store; everything else takes the
    slower, checking path.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, skipinitialspace=False, strict=True)
    # Whole-file facts, one C-level scan each: without a control character anywhere and without a
    # line longer than a value may be, only values spanning lines (quoted) need checking.
    check_every_row = _CONTROL.search(text) is not None or _long_line(MAX_FIELD_CHARS).search(text) is not None
    stored_form, strip, width = _STORED_FORM.fullmatch, str.strip, len(names)
    kept: dict[str, ImportRow] = {}  # plate -> row; a dict keeps the first insertion's position
    header_note: str | None = None
    columns: Columns | None = None  # a header that maps the columns elsewhere than by position
    guarded = "'" in text  # an export's formula guard to take off (checked once: rare)
    first = True
    start = 1  # the line where the next record starts
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells or (not cells[0].strip() and not any(cell.strip() for cell in cells)):
                continue  # a blank line, or a spreadsheet's empty row (",,")
            if first:
                first = False
                if is_header(cells, names):
                    columns, header_note = _header(line, cells, names)
                    continue
            if columns is not None:
                try:
                    cells = columns.arrange(cells)
                except ColumnError as exc:
                    raise ImportFileError(line, str(exc)) from None
            plate = cells[0]
            if not stored_form(plate):
                plate = _plate(line, plate, notes)
            values = tuple(map(strip, cells[1:]))
            if guarded:
                values = tuple(map(unneutralise, values))
            if len(values) != width:
                values = _fit(line, values, names)
            if check_every_row or start - line > 1:
                _check_values(line, names, values)
            row = ImportRow(line, plate, values)
            earlier = kept.setdefault(plate, row)
            if earlier is not row:
                kept[plate] = row
                if notes.room():
                    notes.add(f"line {line}: {plate} repeats line {earlier.line}; line {line} kept")
                else:
                    notes.more += 1
    except csv.Error as exc:
        raise ImportFileError(start, f"cannot be read as CSV ({exc}); close every opening quote (\") and "
                              "double any quote inside a quoted value (\"\")") from None
    return list(kept.values()), header_note


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a million rows are built: none of them can form a
    cycle, yet each allocation counts towards a collection that walks them all (about a quarter of
    the import's time).  Process-wide but brief, and only turned back on if it was on; reference
    counting frees as usual meanwhile."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _header(line: int, cells: list[str], names: tuple[str, ...]) -> tuple[Columns | None, str]:
    """The header row's column mapping (None when it is the positional one) and its note."""
    try:
        columns = read_columns(cells, names)
    except ColumnError as exc:
        raise ImportFileError(line, str(exc)) from None
    note = f"line {line}: the header row ({_shown(', '.join(columns.headings))}) names the columns."
    missing = columns.missing(names)
    if missing:
        note += (f" No column for {', '.join(_shown(name) for name in missing)}: "
                 f"{'that field stays' if len(missing) == 1 else 'those fields stay'} empty.")
    return (None if columns.positional else columns), note


def _plate(line: int, cell: str, notes: _Notes) -> str:
    try:
        plate, changed = normalise_plate(cell)
    except PlateRuleError as exc:
        raise ImportFileError(line, f'"{_shown(cell.strip())}": {exc}') from None
    if changed:
        if notes.room():
            notes.add(f'line {line}: "{_shown(cell.strip())}" stored as {plate}')
        else:
            notes.more += 1
    return plate


def _fit(line: int, values: tuple[str, ...], names: tuple[str, ...]) -> tuple[str, ...]:
    """Missing values padded with ""; extra columns refused unless empty (a spreadsheet's trailing
    delimiters), since guessing which field they belong to would store values under the wrong name."""
    width = len(names)
    if len(values) < width:
        return values + ("",) * (width - len(values))
    if any(values[width:]):
        raise ImportFileError(line, _too_many(len(values), names))
    return values[:width]


def _too_many(count: int, names: tuple[str, ...]) -> str:
    has = (f"{len(names)} custom field{'s' if len(names) != 1 else ''}: "
           + ", ".join(_shown(name) for name in names)) if names else "no custom fields"
    return (f"{count} value{'s' if count != 1 else ''} after the plate, but the list has {has}; "
            "add fields first or remove the extra columns")


def _check_values(line: int, names: tuple[str, ...], values: tuple[str, ...]) -> None:
    for name, value in zip(names, values):
        bad = _CONTROL.search(value)
        if bad is not None:  # before the length: a long value with an escape is refused for the escape
            raise ImportFileError(line, f"{_shown(name)}: the value holds the control character "
                                  f"{ascii(bad.group())}; remove it from the file")
        if len(value) > MAX_FIELD_CHARS:
            raise ImportFileError(line, f"{_shown(name)}: {len(value)} characters is too long; "
                                  f"a value has at most {MAX_FIELD_CHARS}")


class _Notes:
    """Notes about single lines, at most MAX_NOTES, then a count of the rest.  Callers check
    ``room()`` before formatting, so a million changed plates cost a counter, not a million strings."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.more = 0

    def room(self) -> bool:
        return len(self.lines) < MAX_NOTES

    def add(self, text: str) -> None:
        self.lines.append(text)

    def done(self) -> list[str]:
        return self.lines + ([f"… and {self.more} more"] if self.more else [])
