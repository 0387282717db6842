"""gettext for every user-facing string.

English is the source language: the msgids are the English texts, so an English run needs no
catalog.  A translation is a ``locale/<lang>/LC_MESSAGES/imtui.mo`` beside this module; screens
never change when one is added.
"""

from __future__ import annotations

import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
_translation: gettext.NullTranslations = gettext.translation("imtui", LOCALE_DIR, fallback=True)


def set_language(languages: list[str] | None) -> None:
    """Switch the catalog (``None`` follows LANGUAGE/LC_ALL/LC_MESSAGES/LANG)."""
    global _translation
    _translation = gettext.translation("imtui", LOCALE_DIR, languages=languages, fallback=True)


def _(message: str) -> str:
    """Translate ``message``."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def current_language() -> str:
    """The catalog's language code (``en`` when running on the English source texts)."""
    info = _translation.info() if hasattr(_translation, "info") else {}
    lang = info.get("language", "") if isinstance(info, dict) else ""
    return lang.replace("_", "-") or "en"
