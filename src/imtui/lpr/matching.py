"""Licence-plate match lists in memory: entries as typed, and matching a read against them.

Manual 004: entries are capital letters and digits without spaces; ``?`` stands for exactly one
character; ``_`` separates two sets of characters that the camera reads separately (our reader
joins side-by-side text, so ``AB_123`` matches the read ``AB123``).  Per list, two tolerances:
``ocr_equivalence`` (0 off, 1: O/0 and I/1, 2: also B/8, S/5, Z/2, G/6 — the recogniser's
look-alikes) and ``differences`` (0 or 1 other edit: one character wrong, missing or extra).

Matching must take well under a millisecond against a million entries (the worker matches every
read of every LPR camera), so nothing scans the lists: exact and equivalent keys are dict
lookups; wildcard entries are found by masking the *read* (a 7-character read has 128 masks, each
a lookup); one edit is found by generating the read's neighbours (about 36 x 2n + n lookups).
Pure Python and stdlib only: no database, no UI.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

WILDCARD = "?"
SEPARATOR = "_"
MAX_LENGTH = 16  # characters of a plate, separators not counted
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_EQUIVALENT = {
    1: {"O": "0", "I": "1"},
    2: {"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"},
}
_TYPED_NOISE = re.compile(r"[\s\-.·]")  # what people type between groups: spaces, hyphens, dots
_VALID = re.compile(r"[A-Z0-9?]+(_[A-Z0-9?]+)?")


class PlateRuleError(ValueError):
    """An entry that is not a plate; the message says which rule and how to fix it."""


def normalise_plate(text: str) -> tuple[str, bool]:
    """An entry as stored: capital letters and digits, ``?`` and at most one inner ``_``.

    Spaces, hyphens and dots are dropped and letters capitalised (``abc 123`` -> ``ABC123``);
    the second value says whether anything changed, so the caller can show a note.  Anything else
    raises PlateRuleError naming the rule.
    """
    raw = text.strip()
    typed = _TYPED_NOISE.sub("", raw)
    plate = typed.upper()
    if not plate:
        raise PlateRuleError("the plate is empty; type the plate's letters and digits, e.g. ABC123")
    # checked before upper(): it turns some non-ASCII letters into ASCII ones (ß -> SS, ı -> I)
    bad = sorted({ch for ch in typed if not (ch.isascii() and (ch.isalnum() or ch in "?_"))})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:5])
        raise PlateRuleError(f"{shown} cannot be in a plate; use A-Z, 0-9, ? for any one character "
                             "and _ between two parts")
    if not _VALID.fullmatch(plate):
        raise PlateRuleError("_ must stand between two parts (e.g. AB_123), once at most")
    length = len(plate.replace(SEPARATOR, ""))
    if length > MAX_LENGTH:
        raise PlateRuleError(f"{length} characters is too long; a plate has at most {MAX_LENGTH}")
    if set(plate) <= {WILDCARD, SEPARATOR}:
        raise PlateRuleError("a plate of only ? would match every read; give at least one letter or digit")
    return plate, plate != raw


def fold(text: str, level: int) -> str:
    """``text`` with look-alike characters replaced by one representative (level 0: unchanged)."""
    table = _EQUIVALENT.get(level)
    if not table:
        return text
    return "".join(table.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class Entry:
    id: int
    plate: str  # as stored, e.g. AB_12?4
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    list_id: int
    entry: Entry
    rule: str  # "exact", "wildcard", "ocr-equivalence", "one-difference"


@dataclass
class ListIndex:
    """One list's entries, keyed for matching.  Build once, match many times."""

    list_id: int
    ocr_equivalence: int = 0
    differences: int = 0
    exact: dict[str, Entry] = field(default_factory=dict)  # plate (separators dropped) -> entry
    wild: dict[str, Entry] = field(default_factory=dict)  # pattern with ?s -> entry
    folded: dict[str, Entry] = field(default_factory=dict)  # with equivalence on: folded plate -> entry
    folded_wild: dict[str, Entry] = field(default_factory=dict)
    wild_lengths: set[int] = field(default_factory=set)

    def add(self, entry: Entry) -> None:
        key = entry.plate.replace(SEPARATOR, "")
        if WILDCARD in key:
            self.wild[key] = entry
            self.wild_lengths.add(len(key))
            if self.ocr_equivalence:
                self.folded_wild[fold(key, self.ocr_equivalence)] = entry
        else:
            self.exact[key] = entry
            if self.ocr_equivalence:
                self.folded[fold(key, self.ocr_equivalence)] = entry

    def __len__(self) -> int:
        return len(self.exact) + len(self.wild)

    def match(self, plate: str) -> Match | None:
        """The best match of a read (A-Z0-9) in this list: exact, then wildcard, then look-alike
        equivalence, then one difference; None when nothing fits."""
        hit = self.exact.get(plate)
        if hit is not None:
            return Match(self.list_id, hit, "exact")
        hit = _masked(self.wild, plate, self.wild_lengths)
        if hit is not None:
            return Match(self.list_id, hit, "wildcard")
        key = plate
        if self.ocr_equivalence:
            key = fold(plate, self.ocr_equivalence)
            hit = self.folded.get(key) or _masked(self.folded_wild, key, self.wild_lengths)
            if hit is not None:
                return Match(self.list_id, hit, "ocr-equivalence")
        if self.differences:
            keyed = self.folded if self.ocr_equivalence else self.exact
            for neighbour in _one_edit(key):
                hit = keyed.get(neighbour)
                if hit is not None:
                    return Match(self.list_id, hit, "one-difference")
        return None


def _masked(patterns: dict[str, Entry], key: str, lengths: set[int]) -> Entry | None:
    if len(key) not in lengths:
        return None
    for masked in _masks(key):
        hit = patterns.get(masked)
        if hit is not None:
            return hit
    return None


def _masks(key: str) -> Iterator[str]:
    """``key`` with every subset of its positions replaced by ``?``, fewest ``?`` first (the
    most specific entry wins).  2^n strings: n is at most MAX_LENGTH, in practice 5-8."""
    n = len(key)
    for count in range(1, n):  # an all-? entry is refused by normalise_plate
        for positions in itertools.combinations(range(n), count):
            chars = list(key)
            for i in positions:
                chars[i] = WILDCARD
            yield "".join(chars)


def _one_edit(key: str) -> Iterator[str]:
    """Every string one substitution, deletion or insertion away from ``key``."""
    for i in range(len(key)):
        yield key[:i] + key[i + 1:]
    for i in range(len(key)):
        for ch in ALPHABET:
            if ch != key[i]:
                yield key[:i] + ch + key[i + 1:]
    for i in range(len(key) + 1):
        for ch in ALPHABET:
            yield key[:i] + ch + key[i:]


def like_pattern(query: str) -> str:
    """A search box's text as an SQL LIKE pattern (ESCAPE '\\') over stored plates: ``?`` is
    one character, the rest a case-insensitive substring (``AB?1`` finds ``XAB71Z``)."""
    text = _TYPED_NOISE.sub("", query).upper()
    out = []
    for ch in text:
        if ch == WILDCARD:
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "%" + "".join(out) + "%"


def build(list_id: int, entries: Iterable[Entry], *, ocr_equivalence: int = 0, differences: int = 0) -> ListIndex:
    index = ListIndex(list_id, ocr_equivalence, differences)
    for entry in entries:
        index.add(entry)
    return index
