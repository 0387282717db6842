"""Every user-facing string goes through gettext, and the catalog template is current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from imtui import i18n

SRC = Path(__file__).resolve().parents[1] / "src" / "imtui"


def test_catalog_template_is_current() -> None:
    in_code = {
        msg if isinstance(msg, str) else msg[0]
        for _file, _line, msg, _comments, _ctx in extract_from_dir(
            str(SRC), keywords={"_": None, "ngettext": (1, 2)}, method_map=[("**.py", "python")]
        )
    }
    with open(SRC / "locale" / "imtui.pot", "rb") as fh:
        in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert in_code - in_template == set(), "run `make messages`"
    assert "Cannot perform this action. Please refresh the list." in in_template


def test_a_translation_replaces_the_english_text(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="fr")
    catalog.add("Permission denied.", "Autorisation refusée.")
    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "imtui.mo", "wb") as fh:
        write_mo(fh, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    try:
        i18n.set_language(["fr"])
        from imtui.engine.errors import PermissionDenied

        assert PermissionDenied().message == "Autorisation refusée."
    finally:
        i18n.set_language(["en"])
    assert i18n._("Permission denied.") == "Permission denied."
