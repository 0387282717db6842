"""Country modules (src/imtui/lpr/countries.py, config/country_modules/*.toml): loading, national formats,
look-alike corrections only where a format fixes the class, charset exclusions, ranking over several modules,
and ValueErrors for bad files that name the file, the key and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from imtui.lpr import countries
from imtui.lpr.countries import CountryModule, Fit, enabled, fit, fit_one, fits, load_modules, normalise

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "country_modules"
NATIONAL = ("BR", "CZ", "DE", "DK", "FR", "GB", "NL", "SK")
FREE = ("GENERIC", "EU", "US")


@pytest.fixture(scope="module")
def mods() -> dict[str, CountryModule]:
    return load_modules()


def one(code: str, raw: str) -> Fit | None:
    return fit_one(raw, load_modules()[code])


# --------------------------------------------------------------------------------------------------- loading


def test_every_module_loads_with_its_code(mods: dict[str, CountryModule]) -> None:
    assert set(mods) == set(NATIONAL) | set(FREE)
    assert len(list(CONFIG.glob("*.toml"))) == len(mods)
    for code, module in mods.items():
        assert module.code == code and module.name
        assert module.charset <= countries.ALPHANUMERIC
        assert 1 <= module.min_length <= module.max_length
    for code in NATIONAL:
        assert mods[code].formats, code
        assert mods[code].to_digit == {"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
        assert mods[code].to_letter == {v: k for k, v in mods[code].to_digit.items()}
    for code in FREE:
        assert mods[code].formats == ()
        assert mods[code].to_digit == {} and mods[code].to_letter == {}
    assert (mods["GENERIC"].min_length, mods["GENERIC"].max_length) == (4, 8)
    assert (mods["EU"].min_length, mods["EU"].max_length) == (5, 8)
    assert (mods["US"].min_length, mods["US"].max_length) == (2, 8)


def test_default_load_is_cached_and_comes_from_the_repository() -> None:
    first, second = load_modules(), load_modules()
    assert first == second and first is not second  # a copy each time, the same module objects
    assert all(first[code] is second[code] for code in first)
    assert countries._default_modules.cache_info().hits >= 1
    # Editable/dev install: no package data copy next to the module, so the repo's config folder is used.
    assert countries.default_folder() == CONFIG
    assert load_modules(CONFIG) == first


def test_every_mask_fits_a_sample_of_itself_unchanged(mods: dict[str, CountryModule]) -> None:
    for code in NATIONAL:
        module = mods[code]
        letter = min(module.charset & countries.LETTERS)
        digit = max(module.charset & countries.DIGITS)
        for mask in module.formats:
            sample = "".join(
                letter if t == "L" else digit if t in "DA" else t[1] for t in countries._tokens(mask)
            )
            result = fit_one(sample, module)
            assert result == Fit(sample, code, mask, 0, True), (code, mask)


def test_pyproject_ships_the_modules_in_the_wheel() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    force = data["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["config/country_modules"] == "imtui/lpr/country_modules"


def test_enabled_picks_modules_in_the_given_order(mods: dict[str, CountryModule]) -> None:
    assert [m.code for m in enabled(["SK", "CZ", "EU"])] == ["SK", "CZ", "EU"]
    with pytest.raises(ValueError, match="XX"):
        enabled(["XX"], mods)


def test_normalise() -> None:
    assert normalise("ab-123 cd") == "AB123CD"
    assert normalise("MÜ·AB 12") == "MUAB12"
    assert normalise(" -·") == ""
    assert one("BR", " -") is None


# --------------------------------------------------------------------------------------------------- national formats


@pytest.mark.parametrize(
    ("code", "raw", "text", "mask", "corrections"),
    [
        # Brazil: old LLLDDDD and Mercosur LLLDLDD (5th character a letter)
        ("BR", "ABC1234", "ABC1234", "LLLDDDD", 0),
        ("BR", "ABC-1234", "ABC1234", "LLLDDDD", 0),
        ("BR", "ABC1D23", "ABC1D23", "LLLDLDD", 0),
        ("BR", "A8C1234", "ABC1234", "LLLDDDD", 1),
        ("BR", "8RA2E19", "BRA2E19", "LLLDLDD", 1),
        ("BR", "ABC1O23", "ABC1O23", "LLLDLDD", 0),  # O is a letter where Mercosur has a letter: kept
        ("BR", "ABC1023", "ABC1023", "LLLDDDD", 0),  # an old plate; Mercosur would need 0->O
        ("BR", "ABCIO23", "ABC1O23", "LLLDLDD", 1),  # Mercosur needs 1 change, old 2: Mercosur wins
        ("BR", "AB5I234", "ABS1234", "LLLDDDD", 2),
        # Denmark: LLDDDDD, trailers LLDDDD, mopeds/tractors LLDDD
        ("DK", "AB 12 345", "AB12345", "LLDDDDD", 0),
        ("DK", "A812345", "AB12345", "LLDDDDD", 1),
        ("DK", "AB1234", "AB1234", "LLDDDD", 0),
        ("DK", "AB123", "AB123", "LLDDD", 0),
        # Great Britain: current LLDDLLL
        ("GB", "AB12 CDE", "AB12CDE", "LLDDLLL", 0),
        ("GB", "A812CDE", "AB12CDE", "LLDDLLL", 1),
        ("GB", "0U51ABC", "OU51ABC", "LLDDLLL", 1),  # Oxford: O is issued in GB
        ("GB", "AB1ZCDE", "AB12CDE", "LLDDLLL", 1),
        # France: SIV LLDDDLL, FNI 1-4 digits + 1-3 letters + department
        ("FR", "AB-123-CD", "AB123CD", "LLDDDLL", 0),
        ("FR", "A8123CD", "AB123CD", "LLDDDLL", 1),
        ("FR", "AB1Z3CD", "AB123CD", "LLDDDLL", 1),
        ("FR", "123 AB 75", "123AB75", "DDDLLDD", 0),
        ("FR", "1234 ABC 2A", "1234ABC2A", "DDDDLLL[2][AB]", 0),
        ("FR", "12 AB 974", "12AB974", "DDLL[9][7][123456]", 0),
        ("FR", "123AB7S", "123AB75", "DDDLLDD", 1),
        # Netherlands: sidecodes 1-14
        ("NL", "NB-12-34", "NB1234", "LLDDDD", 0),
        ("NL", "12-34-NB", "1234NB", "DDDDLL", 0),
        ("NL", "12-NB-34", "12NB34", "DDLLDD", 0),
        ("NL", "NB-12-PR", "NB12PR", "LLDDLL", 0),
        ("NL", "NB-PR-12", "NBPR12", "LLLLDD", 0),
        ("NL", "12-NB-PR", "12NBPR", "DDLLLL", 0),
        ("NL", "12-NBP-3", "12NBP3", "DDLLLD", 0),
        ("NL", "1-NBP-23", "1NBP23", "DLLLDD", 0),
        ("NL", "NB-123-P", "NB123P", "LLDDDL", 0),
        ("NL", "N-123-PR", "N123PR", "LDDDLL", 0),
        ("NL", "GBB-01-B", "GBB01B", "LLLDDL", 0),
        ("NL", "N-12-PRS", "N12PRS", "LDDLLL", 0),
        ("NL", "1-NB-234", "1NB234", "DLLDDD", 0),
        ("NL", "123-NB-4", "123NB4", "DDDLLD", 0),
        ("NL", "G8B-01-B", "GBB01B", "LLLDDL", 1),
        # Germany: area 1-3 L + 1-2 L + 1-4 D, at most 8, optional E/H suffix
        ("DE", "B-AB 1234", "BAB1234", "LLLDDDD", 0),
        ("DE", "M-A 1", "MA1", "LLD", 0),
        ("DE", "HH-AB 123", "HHAB123", "LLLLDDD", 0),
        ("DE", "WOB-AB 12", "WOBAB12", "LLLLLDD", 0),
        ("DE", "MYK-AZ 999", "MYKAZ999", "LLLLLDDD", 0),
        ("DE", "MÜ-AB 123", "MUAB123", "LLLLDDD", 0),
        ("DE", "S-AB 123E", "SAB123E", "LLLDDD[EH]", 0),
        ("DE", "K-AB 1H", "KAB1H", "LLLD[EH]", 0),
        ("DE", "BA8 1234", "BAB1234", "LLLDDDD", 1),
        ("DE", "B-AB 12O4", "BAB1204", "LLLDDDD", 1),
        # Slovakia: LLDDDLL
        ("SK", "RK-755AJ", "RK755AJ", "LLDDDLL", 0),
        ("SK", "RKO99AN", "RK099AN", "LLDDDLL", 1),
        ("SK", "BA302OZ", "BA302OZ", "LLDDDLL", 0),  # O is issued in the Slovak letter block
        ("SK", "BA3O2OZ", "BA302OZ", "LLDDDLL", 1),
        # Czech Republic: DLDDDDD and DLLDDDD
        ("CZ", "1B8 0338", "1B80338", "DLDDDDD", 0),
        ("CZ", "4B3 9376", "4B39376", "DLDDDDD", 0),
        ("CZ", "1AB 2345", "1AB2345", "DLLDDDD", 0),
        ("CZ", "1B8O338", "1B80338", "DLDDDDD", 1),
        ("CZ", "IB80338", "1B80338", "DLDDDDD", 1),
        ("CZ", "188 0338", "1B80338", "DLDDDDD", 1),
    ],
)
def test_national_formats_fit_and_correct(code: str, raw: str, text: str, mask: str, corrections: int) -> None:
    assert one(code, raw) == Fit(text, code, mask, corrections, True)


@pytest.mark.parametrize(
    ("code", "raw"),
    [
        ("BR", "ABC12345"),  # too long
        ("BR", "ABCD123"),  # LLLLDDD is not Brazilian
        ("BR", "ABC1K2X"),  # X where a digit must be, no look-alike
        ("DK", "ABC1234"),
        ("GB", "AB12CDI"),  # I is never issued in GB
        ("GB", "AB12CD1"),  # 1 at a letter would be I: never issued, so no fit
        ("GB", "A123BCD"),  # prefix format: not in the module
        ("FR", "AB123CU"),  # U never issued
        ("FR", "AB123C0"),  # 0 at a letter would be O: never issued
        ("NL", "CD-12-34"),  # C never issued on normal plates
        ("NL", "NB12345"),  # 7 characters
        ("DE", "B-AB 97834"),  # 5 digits
        ("DE", "MYK-AB 1234"),  # 9 characters
        ("DE", "MY-AB 1234E"),  # 9 characters with the suffix
        ("DE", "B-AB 123F"),  # only E or H may follow the digits, and it is never corrected
        ("DE", "9AB123"),
        ("FR", "123AB2C"),  # Corsica is exactly 2A or 2B
        ("FR", "123AB977"),  # overseas departments are 971-976
        ("SK", "RK755A"),
        ("CZ", "1O80338"),  # O never issued in CZ (and a letter stands there)
        ("CZ", "1G80338"),  # G never issued
        ("CZ", "10B0338"),  # 0 at the region letter would be O: never issued
        ("CZ", "AB80338"),
    ],
)
def test_non_plates_do_not_fit(code: str, raw: str) -> None:
    assert one(code, raw) is None


def test_nothing_fits_gives_none(mods: dict[str, CountryModule]) -> None:
    national = [mods[c] for c in NATIONAL]
    assert fit("XYXYXY", national) is None
    assert fit("HELLOWORLD", national) is None
    assert fit("HELLO", national) == Fit("HELL0", "DE", "LLLLD", 1, True)  # the rules allow it: HEL-L 0
    assert fit("X", list(mods.values())) is None
    assert fits("ABC", [mods["BR"], mods["GENERIC"]]) == []
    assert fit("ABC1234", []) is None


# ------------------------------------------------------------------------------------------------ free-length modules


@pytest.mark.parametrize("raw", ["1B80338", "4B39376", "8D79882", "M5XSX", "0O1I8B", "RKO99AN", "5UVR090"])
def test_free_length_modules_never_change_a_character(raw: str, mods: dict[str, CountryModule]) -> None:
    for code in FREE:
        result = fit_one(raw, mods[code])
        assert result == Fit(raw, code, countries.FREE_FORMAT, 0, False), code


def test_free_length_rules(mods: dict[str, CountryModule]) -> None:
    us, eu, generic = mods["US"], mods["EU"], mods["GENERIC"]
    assert fit_one("FZRULZ", us) is not None  # vanity plate, letters only
    assert fit_one("1049338", us) is not None  # digits only
    assert fit_one("AB", us) is not None and fit_one("A", us) is None
    assert fit_one("ABCDEFGHI", us) is None
    assert fit_one("FZRULZ", generic) is None  # needs a digit
    assert fit_one("1049338", generic) is None  # needs a letter
    assert fit_one("AB1", generic) is None and fit_one("AB12", generic) is not None
    assert fit_one("ABC12345", generic) is not None and fit_one("ABC123456", generic) is None
    assert fit_one("AB12", eu) is None and fit_one("AB123", eu) is not None
    assert fit_one("12345", eu) is not None  # Luxembourg-style digits-only
    assert fit_one("ABCDEF", eu) is None  # needs a digit


# --------------------------------------------------------------------------------------------------- several modules


def test_exact_format_beats_free_length(mods: dict[str, CountryModule]) -> None:
    result = fit("RKO99AN", [mods["GENERIC"], mods["SK"]])
    assert result == Fit("RK099AN", "SK", "LLDDDLL", 1, True)
    assert fit("ABC1234", [mods["US"], mods["BR"]]) == Fit("ABC1234", "BR", "LLLDDDD", 0, True)
    ranked = fits("1B80338", [mods["US"], mods["EU"], mods["CZ"], mods["GENERIC"]])
    assert [r.country for r in ranked] == ["CZ", "US", "EU", "GENERIC"]
    assert all(r.text == "1B80338" for r in ranked)


def test_fewer_corrections_beat_module_order(mods: dict[str, CountryModule]) -> None:
    # SK needs O->0 twice (AB100CD); GB needs one O->0 (AB10OCD), so GB wins although SK comes first.
    result = fit("AB1OOCD", [mods["SK"], mods["GB"]])
    assert result == Fit("AB10OCD", "GB", "LLDDLLL", 1, True)
    assert [r.country for r in fits("AB1OOCD", [mods["SK"], mods["GB"]])] == ["GB", "SK"]


def test_module_order_breaks_ties(mods: dict[str, CountryModule]) -> None:
    # Slovak and French SIV plates share the LLDDDLL shape.
    assert fit("RK755AJ", [mods["SK"], mods["FR"]]).country == "SK"
    assert fit("RK755AJ", [mods["FR"], mods["SK"]]).country == "FR"
    assert fit("BA268IM", [mods["FR"], mods["SK"]]).country == "SK"  # I is not issued in France


def test_a_module_only_corrects_where_its_format_fixes_the_class(mods: dict[str, CountryModule]) -> None:
    # The Czech plate with a letter inside the digits is left alone by every module that accepts it as is.
    for code in ("CZ", "EU", "US", "GENERIC"):
        assert fit_one("1B80338", mods[code]).text == "1B80338"
    for code in ("GB", "NL", "SK"):
        assert fit_one("1B80338", mods[code]) is None
    # Danish and Brazilian masks can only take it with corrections, so with CZ enabled too the Czech reading wins.
    assert fit_one("1B80338", mods["DK"]) == Fit("IB80338", "DK", "LLDDDDD", 1, True)
    assert fit_one("1B80338", mods["BR"]) == Fit("IBB0338", "BR", "LLLDDDD", 2, True)
    assert fit("1B80338", [mods["DK"], mods["BR"], mods["CZ"]]) == Fit("1B80338", "CZ", "DLDDDDD", 0, True)


# --------------------------------------------------------------------------------------------------- custom files


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_excluded_characters_at_either_positions_map_to_their_look_alike(tmp_path: Path) -> None:
    write(tmp_path, "x.toml", 'code = "XO"\nname = "No O"\nformats = ["LLAAA"]\ncharset = "A-Z0-9"\nexclude = "O"\n')
    write(tmp_path, "y.toml", 'code = "YO"\nname = "With O"\nformats = ["LLAAA"]\ncharset = "A-Z0-9"\n')
    write(tmp_path, "z.toml", 'code = "Z0"\nname = "No zero"\nformats = ["LLAAA"]\ncharset = "A-Z1-9"\n')
    mods = load_modules(tmp_path)
    assert fit_one("ABO12", mods["XO"]) == Fit("AB012", "XO", "LLAAA", 1, True)
    assert fit_one("ABO12", mods["YO"]) == Fit("ABO12", "YO", "LLAAA", 0, True)
    assert fit_one("AB0C1", mods["Z0"]) == Fit("ABOC1", "Z0", "LLAAA", 1, True)
    assert fit_one("OB012", mods["XO"]) is None  # O at a letter position where O is never issued
    assert fit_one("AB1X2", mods["XO"]).text == "AB1X2"  # A accepts either class unchanged


def test_lookalikes_can_be_overridden(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", 'code = "QQ"\nname = "Q"\nformats = ["LLD"]\ncharset = "A-Z0-9"\nlookalikes = ["D0"]\n')
    module = load_modules(tmp_path)["QQ"]
    assert module.to_digit == {"D": "0"} and module.to_letter == {"0": "D"}
    assert fit_one("A0D", module) == Fit("AD0", "QQ", "LLD", 2, True)
    assert fit_one("A8B", module) is None  # B/8 is not a look-alike in this module


GOOD = 'code = "XX"\nname = "Test"\nformats = ["LLDD"]\ncharset = "A-Z0-9"\n'


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        ('code = "XX"\nname = \n', "", "fix the syntax"),
        (GOOD.replace('["LLDD"]', '["LLX"]'), "formats", "L (letter), D (digit)"),
        (GOOD.replace('["LLDD"]', '["LL[EH"]'), "formats", "L (letter), D (digit)"),
        (GOOD.replace('["LLDD"]', '["LL[]"]'), "formats", "fixed characters"),
        (GOOD.replace('["LLDD"]', "[]"), "formats", "non-empty list"),
        (GOOD.replace('["LLDD"]', '"LLDD"'), "formats", "non-empty list"),
        (GOOD.replace('["LLDD"]', '["LLDD", "LLDD"]'), "formats", "remove the duplicate"),
        (GOOD.replace('["LLDD"]', '["LLD[EH]"]'), "formats", None),  # ok: E and H are in A-Z
        (GOOD.replace('["LLDD"]', '["LLD[EH]"]').replace("A-Z0-9", "A-DF-Z0-9"), "formats", "add them to charset"),
        (GOOD.replace('code = "XX"', 'code = "xx"'), "code", "upper-case code"),
        (GOOD.replace('code = "XX"\n', ""), "code", "upper-case code"),
        (GOOD.replace('name = "Test"', 'name = ""'), "name", "display name"),
        (GOOD.replace('charset = "A-Z0-9"\n', ""), "charset", "A-Z0-9"),
        (GOOD.replace('"A-Z0-9"', '"a-z"'), "charset", "upper-case"),
        (GOOD.replace('"A-Z0-9"', '"Z-A"'), "charset", "ranges like A-Z"),
        (GOOD.replace('"A-Z0-9"', '"A-9"'), "charset", "ranges like A-Z"),
        (GOOD + 'exclude = "A-Z0-9"\n', "charset", "at least one character"),
        (GOOD + "colour = 1\n", "colour", "use only"),
        (GOOD + 'lookalikes = ["0O"]\n', "lookalikes", "letter-digit pairs"),
        (GOOD + 'lookalikes = "O0"\n', "lookalikes", "letter-digit pairs"),
        (GOOD + 'lookalikes = ["O0", "Q0"]\n', "lookalikes", "one look-alike"),
        (GOOD + "min_length = 4\n", "min_length", "remove it"),
        (GOOD + 'needs_digit = "yes"\n', "needs_digit", "true or false"),
        ('code = "XX"\nname = "T"\ncharset = "A-Z"\nmax_length = 4\n', "min_length", "min_length and max_length"),
        ('code = "XX"\nname = "T"\ncharset = "A-Z"\nmin_length = 4\nmax_length = 0\n', "max_length", "positive"),
        ('code = "XX"\nname = "T"\ncharset = "A-Z"\nmin_length = 5\nmax_length = 4\n', "min_length", "swap"),
    ],
)
def test_bad_files_name_the_file_the_key_and_the_fix(tmp_path: Path, text: str, key: str, fix: str | None) -> None:
    write(tmp_path, "bad.toml", text)
    if fix is None:
        assert "XX" in load_modules(tmp_path)
        return
    with pytest.raises(ValueError) as info:
        load_modules(tmp_path)
    message = str(info.value)
    assert "bad.toml" in message
    assert f"key '{key}'" in message if key else "not valid TOML" in message
    assert fix in message


def test_duplicate_codes_and_empty_folders_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no country module files"):
        load_modules(tmp_path)
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    with pytest.raises(ValueError, match=r"b\.toml: key 'code': 'XX' is already used by .*a\.toml"):
        load_modules(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_modules(tmp_path / "missing")
