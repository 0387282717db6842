"""Licence-plate match lists in memory (src/imtui/lpr/matching.py): entries as typed (manual 004's
rules), and matching a read against a list: exact > wildcard > look-alike equivalence > one
difference, the Match naming the rule that fired; a list of a million entries stays correct."""

from __future__ import annotations

import pytest

from imtui.lpr.matching import (
    MAX_LENGTH,
    Entry,
    ListIndex,
    PlateRuleError,
    build,
    fold,
    like_pattern,
    normalise_plate,
)

# --------------------------------------------------------------------------------------------- entries


@pytest.mark.parametrize(
    ("typed", "stored", "changed"),
    [
        ("ABC123", "ABC123", False),
        ("abc 123", "ABC123", True),
        ("abc123", "ABC123", True),
        ("AB-12.3", "AB123", True),
        ("AB 12-3", "AB123", True),
        ("  ABC123\t", "ABC123", False),  # surrounding blanks only: nothing worth a note
        ("??123", "??123", False),
        ("AB_123", "AB_123", False),
        ("ab_12?", "AB_12?", True),
        ("A?B?C?", "A?B?C?", False),
        ("?????A", "?????A", False),
        ("A" * MAX_LENGTH, "A" * MAX_LENGTH, False),
        ("ABCDEFGH_12345678", "ABCDEFGH_12345678", False),  # the separator is not counted
    ],
)
def test_normalise_accepts(typed: str, stored: str, changed: bool) -> None:
    assert normalise_plate(typed) == (stored, changed)


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("", "the plate is empty"),
        ("   ", "the plate is empty"),
        (" - . ", "the plate is empty"),
        ("AB*1", "'*' cannot be in a plate"),
        ("ÄB1", "'Ä' cannot be in a plate"),
        ("äb1", "'ä' cannot be in a plate"),
        ("straße", "'ß' cannot be in a plate"),  # upper() would make it STRASSE
        ("ı1", "'ı' cannot be in a plate"),  # dotless i: upper() would make it I
        ("AB/12", "'/' cannot be in a plate"),
        ("_AB", "_ must stand between two parts"),
        ("AB_", "_ must stand between two parts"),
        ("A__B", "_ must stand between two parts"),
        ("A_B_C", "_ must stand between two parts"),
        ("_", "_ must stand between two parts"),
        ("????", "a plate of only ? would match every read"),
        ("??_??", "a plate of only ? would match every read"),
        ("A" * (MAX_LENGTH + 1), f"{MAX_LENGTH + 1} characters is too long; a plate has at most {MAX_LENGTH}"),
        ("ABCDEFGHI_12345678", f"{MAX_LENGTH + 1} characters is too long"),
        ("\x1b[31m", "'\\x1b' '[' cannot be in a plate"),
    ],
)
def test_normalise_refuses_naming_the_rule(typed: str, rule: str) -> None:
    with pytest.raises(PlateRuleError) as caught:
        normalise_plate(typed)
    assert rule in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "level", "folded"),
    [
        ("OIBSZG0123456789", 0, "OIBSZG0123456789"),
        ("OIBSZG0123456789", 1, "01BSZG0123456789"),
        ("OIBSZG0123456789", 2, "018526" "0123456789"),
        ("ACDEF??_", 2, "ACDEF??_"),  # other letters, ? and _ stay
    ],
)
def test_fold(text: str, level: int, folded: str) -> None:
    assert fold(text, level) == folded


@pytest.mark.parametrize(
    ("query", "pattern"),
    [
        ("AB?1", "%AB_1%"),
        ("ab 12", "%AB12%"),
        ("A_B", "%A\\_B%"),
        ("50%", "%50\\%%"),
        ("A\\B", "%A\\\\B%"),
    ],
)
def test_like_pattern(query: str, pattern: str) -> None:
    assert like_pattern(query) == pattern


# -------------------------------------------------------------------------------------------- matching


def index(plates: list[str], ocr_equivalence: int = 0, differences: int = 0) -> ListIndex:
    """A list of entries as an administrator would type them (normalised first)."""
    entries = [Entry(i, normalise_plate(p)[0]) for i, p in enumerate(plates, 1)]
    return build(7, entries, ocr_equivalence=ocr_equivalence, differences=differences)


def matched(plates: list[str], eq: int, diff: int, read: str) -> tuple[str, str] | None:
    hit = index(plates, eq, diff).match(read)
    return None if hit is None else (hit.entry.plate, hit.rule)


EXACT = [
    (["ABC123"], 0, 0, "ABC123", ("ABC123", "exact")),
    (["ABC123", "XYZ789"], 0, 0, "XYZ789", ("XYZ789", "exact")),
    (["ABC123"], 0, 0, "ABC124", None),
    (["ABC123"], 0, 0, "ABC12", None),
    (["ABC123"], 0, 0, "ABC1234", None),
    (["ABC123"], 0, 0, "abc123", None),  # reads are A-Z0-9; a lower-case read is not this plate
    # _ separates two parts the camera reads separately; our reader joins them
    (["AB_123"], 0, 0, "AB123", ("AB_123", "exact")),
    (["AB_123"], 0, 0, "AB1234", None),
    (["AB_123"], 0, 0, "AB12", None),
    (["AB_12?"], 0, 0, "AB129", ("AB_12?", "wildcard")),
]

# manual 004's wildcard examples, each alone in a list: reads that fit, that differ in a fixed
# character, and that are one shorter or one longer
WILDCARD = [
    (["?????A"], 0, 0, "XYZ12A", ("?????A", "wildcard")),
    (["?????A"], 0, 0, "AAAAAA", ("?????A", "wildcard")),
    (["?????A"], 0, 0, "XYZ12B", None),
    (["?????A"], 0, 0, "A12345", None),
    (["?????A"], 0, 0, "XYZ1A", None),
    (["?????A"], 0, 0, "XYZ123A", None),
    (["A?????"], 0, 0, "A12345", ("A?????", "wildcard")),
    (["A?????"], 0, 0, "AZZZZZ", ("A?????", "wildcard")),
    (["A?????"], 0, 0, "B12345", None),
    (["A?????"], 0, 0, "12345A", None),
    (["A?????"], 0, 0, "A1234", None),
    (["A?????"], 0, 0, "A123456", None),
    (["???1??"], 0, 0, "XYZ1AB", ("???1??", "wildcard")),
    (["???1??"], 0, 0, "111111", ("???1??", "wildcard")),
    (["???1??"], 0, 0, "XYZ2AB", None),
    (["???1??"], 0, 0, "XY1ABC", None),
    (["???1??"], 0, 0, "XY1AB", None),
    (["???1??"], 0, 0, "XYZ1ABC", None),
    (["22??33"], 0, 0, "22AB33", ("22??33", "wildcard")),
    (["22??33"], 0, 0, "221233", ("22??33", "wildcard")),
    (["22??33"], 0, 0, "22AB34", None),
    (["22??33"], 0, 0, "32AB33", None),
    (["22??33"], 0, 0, "22A33", None),
    (["22??33"], 0, 0, "22ABC33", None),
    (["A?B?C?"], 0, 0, "AXBYCZ", ("A?B?C?", "wildcard")),
    (["A?B?C?"], 0, 0, "A1B2C3", ("A?B?C?", "wildcard")),
    (["A?B?C?"], 0, 0, "AXBYDZ", None),
    (["A?B?C?"], 0, 0, "XABYCZ", None),
    (["A?B?C?"], 0, 0, "AXBYC", None),
    (["A?B?C?"], 0, 0, "AXBYCZ1", None),
    # several patterns in one list: the one that fits
    (["?????A", "A?????", "???1??", "22??33", "A?B?C?"], 0, 0, "22XY33", ("22??33", "wildcard")),
    (["?????A", "A?????", "???1??", "22??33", "A?B?C?"], 0, 0, "XYZ9YZ", None),
    # the most specific pattern (fewest ?) wins, whatever the order of the entries
    (["A?????", "A????Z"], 0, 0, "AXXXXZ", ("A????Z", "wildcard")),
    (["A????Z", "A?????"], 0, 0, "AXXXXZ", ("A????Z", "wildcard")),
    (["A?????", "AB????", "ABC???"], 0, 0, "ABCDEF", ("ABC???", "wildcard")),
    (["ABC???", "AB????", "A?????"], 0, 0, "ABCDEF", ("ABC???", "wildcard")),
    (["ABC???", "AB????", "A?????"], 0, 0, "ABXDEF", ("AB????", "wildcard")),
    (["A?B?C?", "A?B?CZ"], 0, 0, "AXBYCZ", ("A?B?CZ", "wildcard")),
    # an exact entry beats a pattern that also fits
    (["A?????", "ABC123"], 0, 0, "ABC123", ("ABC123", "exact")),
    (["ABC123", "A?????"], 0, 0, "ABC123", ("ABC123", "exact")),
    (["ABC12?"], 0, 1, "ABC12", None),  # one difference applies to full plates, not patterns
]

EQUIVALENCE = [
    # O/0 and I/1: level 1 and 2, both directions, never at level 0
    (["AOC123"], 0, 0, "A0C123", None),
    (["AOC123"], 1, 0, "A0C123", ("AOC123", "ocr-equivalence")),
    (["AOC123"], 2, 0, "A0C123", ("AOC123", "ocr-equivalence")),
    (["A0C123"], 0, 0, "AOC123", None),
    (["A0C123"], 1, 0, "AOC123", ("A0C123", "ocr-equivalence")),
    (["A0C123"], 2, 0, "AOC123", ("A0C123", "ocr-equivalence")),
    (["AIC123"], 0, 0, "A1C123", None),
    (["AIC123"], 1, 0, "A1C123", ("AIC123", "ocr-equivalence")),
    (["A1C123"], 1, 0, "AIC123", ("A1C123", "ocr-equivalence")),
    (["A1C123"], 2, 0, "AIC123", ("A1C123", "ocr-equivalence")),
    (["ABC100"], 1, 0, "ABCIOO", ("ABC100", "ocr-equivalence")),  # several look-alikes at once
    # B/8 S/5 Z/2 G/6 need level 2, both directions
    (["ABC123"], 1, 0, "A8C123", None),
    (["ABC123"], 2, 0, "A8C123", ("ABC123", "ocr-equivalence")),
    (["A8C123"], 1, 0, "ABC123", None),
    (["A8C123"], 2, 0, "ABC123", ("A8C123", "ocr-equivalence")),
    (["AS1234"], 1, 0, "A51234", None),
    (["AS1234"], 2, 0, "A51234", ("AS1234", "ocr-equivalence")),
    (["A51234"], 2, 0, "AS1234", ("A51234", "ocr-equivalence")),
    (["AZ1234"], 1, 0, "A21234", None),
    (["AZ1234"], 2, 0, "A21234", ("AZ1234", "ocr-equivalence")),
    (["A21234"], 2, 0, "AZ1234", ("A21234", "ocr-equivalence")),
    (["AG1234"], 1, 0, "A61234", None),
    (["AG1234"], 2, 0, "A61234", ("AG1234", "ocr-equivalence")),
    (["A61234"], 2, 0, "AG1234", ("A61234", "ocr-equivalence")),
    (["BOSSIZG"], 1, 0, "8055126", None),
    (["BOSSIZG"], 2, 0, "8055126", ("BOSSIZG", "ocr-equivalence")),
    # only the listed look-alikes
    (["ABC123"], 2, 0, "ABD123", None),
    (["AD1234"], 2, 0, "A01234", None),
    (["AU1234"], 2, 0, "AV1234", None),
    # an exact entry beats its look-alike
    (["AOC123", "A0C123"], 1, 0, "A0C123", ("A0C123", "exact")),
    (["A0C123", "AOC123"], 1, 0, "AOC123", ("AOC123", "exact")),
    # equivalence with a wildcard: look-alikes in the pattern's fixed characters
    (["??O123"], 0, 0, "AB0123", None),
    (["??O123"], 1, 0, "AB0123", ("??O123", "ocr-equivalence")),
    (["??0123"], 1, 0, "ABO123", ("??0123", "ocr-equivalence")),
    (["A?B?C?"], 1, 0, "AX8YCZ", None),
    (["A?B?C?"], 2, 0, "AX8YCZ", ("A?B?C?", "ocr-equivalence")),
    (["A?B?C?"], 2, 0, "4X8Y2Z", None),  # 4 is nobody's look-alike for A
    (["22??33"], 2, 0, "ZZABZZ", None),  # Z/2, but 3 has no look-alike
    (["22??55"], 2, 0, "ZZABSS", ("22??55", "ocr-equivalence")),
    # a plain wildcard match beats an equivalent exact entry
    (["ABO123", "??0123"], 1, 0, "AB0123", ("??0123", "wildcard")),
]

DIFFERENCES = [
    (["ABC123"], 0, 0, "ABX123", None),
    (["ABC123"], 0, 1, "ABX123", ("ABC123", "one-difference")),  # substitution
    (["ABC123"], 0, 1, "XBC123", ("ABC123", "one-difference")),
    (["ABC123"], 0, 1, "ABC12X", ("ABC123", "one-difference")),
    (["ABC123"], 0, 0, "ABC12", None),
    (["ABC123"], 0, 1, "ABC12", ("ABC123", "one-difference")),  # deletion (a character missing)
    (["ABC123"], 0, 1, "BC123", ("ABC123", "one-difference")),
    (["ABC123"], 0, 1, "AC123", ("ABC123", "one-difference")),
    (["ABC123"], 0, 0, "ABCX123", None),
    (["ABC123"], 0, 1, "ABCX123", ("ABC123", "one-difference")),  # insertion (a character extra)
    (["ABC123"], 0, 1, "XABC123", ("ABC123", "one-difference")),
    (["ABC123"], 0, 1, "ABC1234", ("ABC123", "one-difference")),
    (["AB_123"], 0, 1, "AB124", ("AB_123", "one-difference")),
    # two edits are too many
    (["ABC123"], 0, 1, "ABX12", None),
    (["ABC123"], 0, 1, "AXC1Y3", None),
    (["ABC123"], 0, 1, "ABC132", None),  # a swap is two substitutions
    (["ABC123"], 0, 1, "ABC12345", None),
    (["ABC123"], 0, 1, "BC12", None),
    (["ABC123"], 0, 1, "XYZ789", None),
    # with equivalence: look-alikes are free, one other edit allowed
    (["ABC123"], 0, 1, "A8C123", ("ABC123", "one-difference")),  # level 0: B/8 is the one edit
    (["ABC123"], 2, 1, "A8C123", ("ABC123", "ocr-equivalence")),
    (["ABC123"], 0, 1, "A8C12X", None),
    (["ABC123"], 1, 1, "A8C12X", None),
    (["ABC123"], 2, 1, "A8C12X", ("ABC123", "one-difference")),
    (["AOC1I3"], 1, 1, "A0C1X3", ("AOC1I3", "one-difference")),
    (["AOC1I3"], 1, 1, "A0C11", ("AOC1I3", "one-difference")),
    (["AOC1I3"], 1, 1, "A0C1X", None),
    # the rules' order: exact, wildcard and equivalence beat one difference
    (["ABC123", "ABC124"], 0, 1, "ABC124", ("ABC124", "exact")),
    (["ABC124", "ABC123"], 0, 1, "ABC123", ("ABC123", "exact")),
    (["ABC124", "??X124"], 0, 1, "ABX124", ("??X124", "wildcard")),
    (["ABC129", "ABC12O"], 1, 1, "ABC120", ("ABC12O", "ocr-equivalence")),
]

NOTHING = [
    ([], 0, 0, "ABC123", None),
    ([], 2, 1, "ABC123", None),
    (["ABC123", "A?????", "22??33", "AB_99"], 2, 1, "XYZ789", None),
    (["ABC123", "A?????", "22??33", "AB_99"], 2, 1, "Q", None),
]


@pytest.mark.parametrize(("plates", "eq", "diff", "read", "expected"),
                         EXACT + WILDCARD + EQUIVALENCE + DIFFERENCES + NOTHING)
def test_match(plates: list[str], eq: int, diff: int, read: str, expected: tuple[str, str] | None) -> None:
    assert matched(plates, eq, diff, read) == expected


def test_match_carries_the_list_and_the_entry() -> None:
    entry = Entry(42, "AB_12?", ("stolen", "call 112"))
    lists = build(3, [Entry(1, "XYZ789"), entry], ocr_equivalence=1, differences=1)
    assert len(lists) == 2
    hit = lists.match("AB129")
    assert hit is not None
    assert (hit.list_id, hit.entry, hit.rule) == (3, entry, "wildcard")
    assert hit.entry.fields == ("stolen", "call 112")


# ----------------------------------------------------------------------------------------- a million


LETTERS = "ACDEFHJKLMNPRTUVWXY"  # no look-alikes: level 2 folds nothing in the letters


def test_a_million_entries_build_and_match() -> None:
    """1,000,000 plates (two letters and seven digits, all different) and 1,000 wildcard entries
    (``Z000??`` .. ``Z999??``) in one list with equivalence 2 and one difference: built whole, and
    the four kinds of read still find what they should.  Correctness only, no timing (about 5 s)."""
    plates = [f"{LETTERS[i % 19]}{LETTERS[i // 19 % 19]}{i:07d}" for i in range(1_000_000)]
    patterns = [f"Z{j:03d}??" for j in range(1000)]
    lists = build(9, (Entry(i, p) for i, p in enumerate(plates + patterns)), ocr_equivalence=2, differences=1)
    assert len(lists) == 1_001_000
    assert len(lists.exact) == 1_000_000 and len(lists.wild) == 1000

    def got(read: str) -> tuple[int, str] | None:
        hit = lists.match(read)
        return None if hit is None else (hit.entry.id, hit.rule)

    assert plates[0] == "AA0000000" and plates[123_456] == "TY0123456"
    assert got("AA0000000") == (0, "exact")
    assert got("TY0123456") == (123_456, "exact")
    assert got(plates[-1]) == (999_999, "exact")
    assert got("Z123AB") == (1_000_000 + 123, "wildcard")
    assert got("Z99999") == (1_000_000 + 999, "wildcard")
    assert got("2123AB") == (1_000_000 + 123, "ocr-equivalence")  # 2 read for Z
    assert got("TY0X23456") == (123_456, "one-difference")  # substitution
    assert got("TY023456") == (123_456, "one-difference")  # deletion
    assert got("TY0123456X") == (123_456, "one-difference")  # insertion
    assert got("QQ0123456") is None  # two substitutions
    assert got("QQQQQQQQQ") is None
    assert got("Z12ABC") is None
    assert got("Z123A") is None
