"""Columns of a match-list file: the header row, columns mapped to the list's fields by name, the
export (CSV), and the spreadsheet-formula guard of its cells with its removal on import.

A header row says which column holds what, so its columns map to the list's fields by name
(case-insensitive), in any order: an import that filled fields by position under a header named
otherwise put owners into a "Reason" field.  A column the list has no field for is refused with its
name, since storing its values under another field, or dropping them, would both be guesses.
Without a header, columns map by position (the plate, then the fields in the list's order).

An export cell that a spreadsheet would run as a formula gets a leading ``'``; so does a value that
already starts with ``'``, so that import can take exactly one ``'`` off both and an export read
back gives the same list.  Pure Python: no database, no UI.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from imtui.lpr.matching import PlateRuleError, normalise_plate

HEADER_NAMES = frozenset({"PLATE", "LICENSEPLATE", "LICENCEPLATE", "NUMBERPLATE", "REGISTRATION"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_GUARDED_STARTS = (*FORMULA_STARTS, "'")  # what an exported cell never starts with unguarded
_HEADER_NOISE = re.compile(r"[\s_\-]")
_SHOWN_CHARS = 40


class ColumnError(ValueError):
    """The header row names a column the list cannot take, or a row has a value in a column the
    header does not name; ``str()`` says which and how to fix it (anything quoted is escaped)."""


def shown(text: str) -> str:
    """``text`` safe to quote in a message: at most 40 characters, non-printables escaped."""
    cut = text[:_SHOWN_CHARS]
    if not cut.isprintable():
        cut = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in cut)
    return cut + ("…" if len(text) > _SHOWN_CHARS else "")


# ------------------------------------------------------------------------------------------- cells


def neutralise(cell: str) -> str:
    """``cell`` prefixed with ``'`` when a spreadsheet would take it as a formula (OWASP "CSV
    injection": a leading =, +, -, @, tab or CR), so opening an export never runs code or fetches a
    URL; the ``'`` shows the cell is text.  A cell starting with ``'`` gets one more, so that
    :func:`unneutralise` can tell the guard from a literal quote.  Other cells are unchanged."""
    return "'" + cell if cell.startswith(_GUARDED_STARTS) else cell


def unneutralise(cell: str) -> str:
    """The value an exported cell stands for: one leading ``'`` off where :func:`neutralise` put it."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_GUARDED_STARTS) else cell


def export_csv(field_names: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]]) -> Iterator[str]:
    """The list as CSV lines, each ending in CRLF (RFC 4180): ``Plate`` and the field names, then one
    line per (plate, field values).  Values are padded (or cut) to the number of fields so every
    line has the same columns.  Lazy, so a million plates stream without building one string.

    Every cell goes through :func:`neutralise`, so a spreadsheet never runs one as a formula.  An
    export read back with ``files.parse_import`` gives the same plates and values (as stored:
    stripped, without control characters but tab and line feed): import takes the guard off.
    """
    names = list(field_names)
    width = len(names)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    yield _csv_line(writer.writerow, buffer, ["Plate", *names])
    for plate, fields in rows:
        values = list(fields)[:width]
        if len(values) < width:
            values.extend([""] * (width - len(values)))
        yield _csv_line(writer.writerow, buffer, [plate, *values])


def _csv_line(writerow: Callable[[list[str]], object], buffer: io.StringIO, cells: list[str]) -> str:
    writerow([neutralise(cell) for cell in cells])
    line = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return line


# ------------------------------------------------------------------------------------------ header


def is_header(cells: Sequence[str], names: Sequence[str]) -> bool:
    """A first row that cannot be a plate, starts with the plate column's name, or whose other
    cells all name list fields or the plate column (in any order)."""
    if _names_plate(cells[0]):
        return True
    try:
        normalise_plate(cells[0])
    except PlateRuleError:
        return True
    fields = {_key(name) for name in names}
    rest = [cell for cell in cells[1:] if cell.strip()]
    return bool(rest) and all(_names_plate(cell) or _key(unneutralise(cell.strip())) in fields for cell in rest)


@dataclass(frozen=True, slots=True)
class Columns:
    """Where a header row put the plate and each of the list's fields."""

    headings: tuple[str, ...]  # the header's cells, as written
    plate: int  # the plate's column
    fields: tuple[int, ...]  # per field of the list, in its order: its column, or -1 (not in the file)

    @property
    def positional(self) -> bool:
        """True when the columns are where a file without header puts them (an export's order)."""
        return self.plate == 0 and self.fields == tuple(range(1, len(self.fields) + 1))

    def missing(self, names: Sequence[str]) -> list[str]:
        return [name for name, column in zip(names, self.fields, strict=True) if column < 0]

    def arrange(self, cells: list[str]) -> list[str]:
        """A row as [plate, value per field] in the list's order.  A value in a column that the
        header leaves unnamed, or beyond the header, is refused: it would be lost."""
        used = (self.plate, *self.fields)
        for index, cell in enumerate(cells):
            if index not in used and cell.strip():
                raise ColumnError(f'"{shown(cell.strip())}" is in column {index + 1}, which the header row does '
                                  "not name; name the column after a field of the list or remove the value")
        width = len(cells)
        return [cells[self.plate] if self.plate < width else "",
                *(cells[c] if 0 <= c < width else "" for c in self.fields)]


def read_columns(cells: Sequence[str], names: Sequence[str]) -> Columns:
    """Map a header row's columns to the plate and the list's fields, by name (case-insensitive).
    The plate column is the one named as a plate (Plate, Licence plate...), else the first."""
    headings = tuple(unneutralise(cell.strip()) for cell in cells)
    plate = next((i for i, cell in enumerate(headings) if _names_plate(cell)), 0)
    by_key = {_key(name): i for i, name in enumerate(names)}
    fields = [-1] * len(names)
    for column, heading in enumerate(headings):
        if column == plate or not heading:
            continue
        field = by_key.get(_key(heading))
        if field is None:
            has = ("its fields are " + ", ".join(shown(n) for n in names)) if names else "it has no custom fields"
            raise ColumnError(f'the header row names a column "{shown(heading)}" that is not a field of the list '
                              f"({has}); rename the column, add the field first or remove the column")
        if fields[field] >= 0:
            raise ColumnError(f'the header row names "{shown(heading)}" twice; keep one of the two columns')
        fields[field] = column
    return Columns(headings, plate, tuple(fields))


def _names_plate(cell: str) -> bool:
    return _HEADER_NOISE.sub("", cell).upper() in HEADER_NAMES


def _key(name: str) -> str:
    return name.strip().casefold()
