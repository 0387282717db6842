"""Country modules: which strings are real licence plates of a country, and how to mend misreads.

A country module (the term comes from the XProtect LPR manual) is a set of rules for the plates of one country or
region. Here a module is a TOML file in ``config/country_modules/`` (shipped in the wheel as
``imtui/lpr/country_modules/``) with the national *formats*, written as masks over

- ``L``: a letter,
- ``D``: a digit,
- ``A``: either,
- ``[EH]``: exactly one of the listed characters (a fixed suffix such as the German E/H; never corrected),

the *charset* the country really issues (``charset = "A-Z0-9"`` minus ``exclude = "IOU"``), and the look-alike pairs
(``lookalikes``, default ``O0``, ``I1``, ``B8``, ``S5``, ``Z2``, ``G6``). A module without ``formats`` is free-length:
``min_length``/``max_length`` and optionally ``needs_letter``/``needs_digit``.

Why positional correction only where a national format fixes the class: the OCR confuses O/0, I/1, B/8... and a mask
tells which one is right (Brazil's LLLDDDD/LLLDLDD masks lifted br exact accuracy in the probe). A *generic*
letters-then-digits correction, however, made EU/US plates worse, because real plates put letters inside digit
blocks (1B80338, 4B39376, 8D79882, M5XSX; notes/lpr-fast.md, finding 5). So free-length modules (GENERIC, EU, US)
only accept or reject and never change a character.

Pure: standard library only; no database, no UI.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_LOOKALIKES",
    "FREE_FORMAT",
    "CountryModule",
    "Fit",
    "default_folder",
    "enabled",
    "fit",
    "fit_one",
    "fits",
    "load_modules",
    "normalise",
]

LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGITS = frozenset("0123456789")
ALPHANUMERIC = LETTERS | DIGITS

#: Letter/digit pairs the OCR confuses; a module file may replace the list (``lookalikes = [...]``).
DEFAULT_LOOKALIKES: tuple[str, ...] = ("O0", "I1", "B8", "S5", "Z2", "G6")

#: ``Fit.format`` of a free-length acceptance (a module without formats).
FREE_FORMAT = "*"

_KEYS = {
    "code", "name", "formats", "charset", "exclude", "min_length", "max_length",
    "needs_letter", "needs_digit", "lookalikes",
}  # fmt: skip
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TOKEN = re.compile(r"\[([^\]]*)\]|(.)")


@dataclass(frozen=True)
class CountryModule:
    """One country's (or region's) plate rules, as loaded from its TOML file.

    ``formats`` empty means a free-length module: any string of ``min_length``..``max_length`` characters from
    ``charset`` (with a letter / a digit if ``needs_letter`` / ``needs_digit``) is accepted as read. For format
    modules ``min_length``/``max_length`` are the shortest and longest mask.
    """

    code: str
    name: str
    formats: tuple[str, ...]
    charset: frozenset[str]
    min_length: int
    max_length: int
    to_digit: dict[str, str] = field(hash=False)
    to_letter: dict[str, str] = field(hash=False)
    needs_letter: bool = False
    needs_digit: bool = False


@dataclass(frozen=True)
class Fit:
    """A reading that fits a module: the (possibly corrected) text and how it fitted.

    ``format`` is the mask that fitted (``"*"`` for a free-length acceptance); ``corrections`` counts the characters
    changed to a look-alike; ``exact_format`` is True for a national format, False for a free-length acceptance.
    """

    text: str
    country: str
    format: str
    corrections: int
    exact_format: bool


# --------------------------------------------------------------------------------------------------- reading plates


def normalise(raw: str) -> str:
    """Upper-case ``raw`` and keep only A-Z0-9 (spaces, dashes, seals dropped; accents folded: Ü -> U)."""
    folded = unicodedata.normalize("NFKD", raw).upper()
    return "".join(ch for ch in folded if ch in ALPHANUMERIC)


@functools.lru_cache(maxsize=1024)
def _tokens(mask: str) -> tuple[str, ...]:
    """Split a mask into one token per character: "L", "D", "A", or "[" + the fixed characters."""
    out: list[str] = []
    for match in _TOKEN.finditer(mask):
        fixed, single = match.groups()
        if single is not None:
            if single not in "LDA":
                raise ValueError(f"unknown mask letter {single!r}")
            out.append(single)
        else:
            chars = "".join(sorted(set(fixed)))
            if not chars or not set(chars) <= ALPHANUMERIC:
                raise ValueError(f"fixed characters [{fixed}] must be one or more of A-Z0-9")
            # A one-letter fixed set like [L] must not be mistaken for the class L: mark fixed sets with "[".
            out.append("[" + chars)
    return tuple(out)


def _place(ch: str, token: str, module: CountryModule) -> str | None:
    """The character to put where ``token`` stands, or None if ``ch`` cannot be there."""
    cs = module.charset
    if token == "D":
        if ch in DIGITS:
            return ch if ch in cs else None
        alt = module.to_digit.get(ch)
        return alt if alt is not None and alt in cs else None
    if token == "L":
        if ch in LETTERS:
            return ch if ch in cs else None
        alt = module.to_letter.get(ch)
        return alt if alt is not None and alt in cs else None
    if token == "A":
        if ch in cs:
            return ch
        # Letter or digit may stand here, but this one is never issued (say O where the country skips O):
        # read it as its look-alike of the other class, if that one is issued.
        alt = module.to_digit.get(ch) if ch in LETTERS else module.to_letter.get(ch)
        return alt if alt is not None and alt in cs else None
    return ch if ch in token[1:] else None  # fixed characters: exact, never corrected


def _free(text: str, module: CountryModule) -> Fit | None:
    if not module.min_length <= len(text) <= module.max_length:
        return None
    if not set(text) <= module.charset:
        return None
    if module.needs_letter and not any(ch in LETTERS for ch in text):
        return None
    if module.needs_digit and not any(ch in DIGITS for ch in text):
        return None
    return Fit(text, module.code, FREE_FORMAT, 0, False)


def fit_one(raw: str, module: CountryModule) -> Fit | None:
    """Fit ``raw`` to one module; None if it is not a plate of that module.

    For each mask of the same length: a letter at a ``D`` becomes its digit look-alike (no look-alike: the mask does
    not fit), a digit at an ``L`` its letter look-alike, ``A`` takes either, fixed characters must match exactly,
    and every resulting character must be in the charset. A character is corrected only where the mask fixes its
    class, never elsewhere. The fit with the fewest corrections wins; ties go to the first mask in file order.
    """
    text = normalise(raw)
    if not text:
        return None
    if not module.formats:
        return _free(text, module)
    best: Fit | None = None
    for mask in module.formats:
        tokens = _tokens(mask)
        if len(tokens) != len(text):
            continue
        out: list[str] = []
        for ch, token in zip(text, tokens, strict=True):
            placed = _place(ch, token, module)
            if placed is None:
                break
            out.append(placed)
        else:
            changed = sum(a != b for a, b in zip(text, out, strict=True))
            if best is None or changed < best.corrections:
                best = Fit("".join(out), module.code, mask, changed, True)
                if changed == 0:
                    break
    return best


def fits(raw: str, modules: Sequence[CountryModule]) -> list[Fit]:
    """Every module's fit of ``raw``, best first.

    Best means: a national format before a free-length acceptance (a format says much more than "4-8 characters"),
    then fewer corrections, then the order of ``modules`` (the operator's order of enabled modules).
    """
    ranked: list[tuple[bool, int, int, Fit]] = []
    for index, module in enumerate(modules):
        result = fit_one(raw, module)
        if result is not None:
            ranked.append((not result.exact_format, result.corrections, index, result))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]


def fit(raw: str, modules: Sequence[CountryModule]) -> Fit | None:
    """The best fit of ``raw`` over the enabled ``modules`` (see :func:`fits`), or None if none fits."""
    found = fits(raw, modules)
    return found[0] if found else None


def enabled(codes: Iterable[str], available: dict[str, CountryModule] | None = None) -> list[CountryModule]:
    """The modules for ``codes`` in that order (e.g. a camera's enabled modules); unknown codes raise ValueError."""
    modules = load_modules() if available is None else available
    chosen: list[CountryModule] = []
    for code in codes:
        if code not in modules:
            raise ValueError(f"unknown country module {code!r}; known: {', '.join(sorted(modules))}")
        chosen.append(modules[code])
    return chosen


# --------------------------------------------------------------------------------------------------- loading files


def default_folder() -> Path:
    """The wheel's data copy (``imtui/lpr/country_modules``) if present, else the repository's config folder."""
    packaged = Path(__file__).resolve().parent / "country_modules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "config" / "country_modules"


def load_modules(folder: Path | None = None) -> dict[str, CountryModule]:
    """Load every ``*.toml`` in ``folder`` (file-name order), keyed by module code.

    Without ``folder`` the default folder is used and its load is cached. A bad file raises ValueError naming the
    file, the key and the fix.
    """
    if folder is None:
        return dict(_default_modules())
    return _load_folder(Path(folder))


@functools.cache
def _default_modules() -> dict[str, CountryModule]:
    return _load_folder(default_folder())


def _load_folder(folder: Path) -> dict[str, CountryModule]:
    if not folder.is_dir():
        raise FileNotFoundError(f"country module folder {folder} does not exist")
    modules: dict[str, CountryModule] = {}
    origin: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        module = _load_file(path)
        if module.code in modules:
            raise ValueError(
                f"{path}: key 'code': {module.code!r} is already used by {origin[module.code]}; "
                "give every module its own code"
            )
        modules[module.code] = module
        origin[module.code] = path
    if not modules:
        raise ValueError(f"{folder}: no country module files (*.toml); add at least one")
    return modules


def _bad(path: Path, key: str, problem: str, fix: str) -> ValueError:
    return ValueError(f"{path}: key '{key}': {problem}; {fix}")


def _charset(path: Path, spec: object, key: str) -> frozenset[str]:
    if not isinstance(spec, str):
        raise _bad(path, key, f"expected a string, got {spec!r}", 'write characters and ranges, e.g. "A-Z0-9"')
    chars: set[str] = set()
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            lo, hi = spec[i], spec[i + 2]
            if not {lo, hi} <= ALPHANUMERIC:
                problem = f"range {lo}-{hi} is not A-Z or 0-9"
                raise _bad(path, key, problem, "use upper-case A-Z, digits and ranges only")
            same_class = ({lo, hi} <= LETTERS) or ({lo, hi} <= DIGITS)
            if not same_class or lo > hi:
                raise _bad(path, key, f"bad range {lo}-{hi}", "use ranges like A-Z or 0-9")
            chars.update(chr(c) for c in range(ord(lo), ord(hi) + 1))
            i += 3
            continue
        if spec[i] not in ALPHANUMERIC:
            raise _bad(path, key, f"{spec[i]!r} is not A-Z or 0-9", "use upper-case A-Z, digits and ranges only")
        chars.add(spec[i])
        i += 1
    return frozenset(chars)


def _load_file(path: Path) -> CountryModule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc

    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _bad(path, unknown[0], "unknown key", f"use only {', '.join(sorted(_KEYS))}")

    code = data.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise _bad(path, "code", f"missing or invalid ({code!r})", 'set an upper-case code such as code = "DK"')
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad(path, "name", "missing or empty", 'set a display name such as name = "Denmark"')

    if "charset" not in data:
        raise _bad(path, "charset", "missing", 'list the issued characters, e.g. charset = "A-Z0-9"')
    charset = _charset(path, data["charset"], "charset")
    if "exclude" in data:
        charset -= _charset(path, data["exclude"], "exclude")
    if not charset:
        raise _bad(path, "charset", "no characters left", "allow at least one character")

    to_digit, to_letter = _lookalikes(path, data.get("lookalikes", list(DEFAULT_LOOKALIKES)))

    for key in ("needs_letter", "needs_digit"):
        if not isinstance(data.get(key, False), bool):
            raise _bad(path, key, f"expected true or false, got {data[key]!r}", f"write {key} = true or false")

    if "formats" in data:
        formats = _formats(path, data["formats"], charset)
        for key in ("min_length", "max_length"):
            if key in data:
                raise _bad(
                    path, key, "only free-length modules have a length range",
                    "remove it (the masks fix the length) or remove 'formats'",
                )  # fmt: skip
        lengths = [len(_tokens(mask)) for mask in formats]
        min_length, max_length = min(lengths), max(lengths)
    else:
        formats = ()
        min_length, max_length = _length(path, data, "min_length"), _length(path, data, "max_length")
        if min_length > max_length:
            raise _bad(path, "min_length", f"{min_length} is above max_length {max_length}", "swap them")

    return CountryModule(
        code=code,
        name=name.strip(),
        formats=formats,
        charset=charset,
        min_length=min_length,
        max_length=max_length,
        to_digit=to_digit,
        to_letter=to_letter,
        needs_letter=data.get("needs_letter", False),
        needs_digit=data.get("needs_digit", False),
    )


def _formats(path: Path, value: object, charset: frozenset[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _bad(
            path, "formats", "must be a non-empty list of masks",
            'list masks such as formats = ["LLDDDDD"], or drop the key and set min_length/max_length',
        )  # fmt: skip
    masks: list[str] = []
    for mask in value:
        if not isinstance(mask, str) or not mask:
            raise _bad(path, "formats", f"{mask!r} is not a mask", 'write masks as strings such as "LLDDDLL"')
        try:
            tokens = _tokens(mask)
        except ValueError as exc:
            raise _bad(
                path, "formats", f"mask {mask!r}: {exc}",
                "use L (letter), D (digit), A (letter or digit) or [..] for fixed characters such as [EH]",
            ) from exc  # fmt: skip
        for token in tokens:
            if token.startswith("[") and not set(token[1:]) <= charset:
                problem = f"mask {mask!r} fixes characters outside the charset"
                raise _bad(path, "formats", problem, "add them to charset")
        if mask in masks:
            raise _bad(path, "formats", f"mask {mask!r} is listed twice", "remove the duplicate")
        masks.append(mask)
    return tuple(masks)


def _length(path: Path, data: dict[str, object], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _bad(
            path, key, f"missing or not a positive whole number ({value!r})",
            "modules without formats need min_length and max_length, e.g. min_length = 4",
        )  # fmt: skip
    return value


def _lookalikes(path: Path, value: object) -> tuple[dict[str, str], dict[str, str]]:
    fix = 'write letter-digit pairs such as lookalikes = ["O0", "I1"] (or [] for none)'
    if not isinstance(value, list):
        raise _bad(path, "lookalikes", f"expected a list, got {value!r}", fix)
    to_digit: dict[str, str] = {}
    to_letter: dict[str, str] = {}
    for pair in value:
        if not (isinstance(pair, str) and len(pair) == 2 and pair[0] in LETTERS and pair[1] in DIGITS):
            raise _bad(path, "lookalikes", f"{pair!r} is not a letter followed by a digit", fix)
        letter, digit = pair
        if letter in to_digit or digit in to_letter:
            raise _bad(path, "lookalikes", f"{pair!r} reuses a letter or digit", "give each character one look-alike")
        to_digit[letter] = digit
        to_letter[digit] = letter
    return to_digit, to_letter
