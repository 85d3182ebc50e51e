"""The language of what students read: gettext catalogs, English by default, Simplified Chinese (zh_CN) too.

    from grader.i18n import _
    hint=_("stride defaults to kernel_size")
    _("expected shape {expected}, got {got}").format(expected=..., got=...)

Messages are marked with `_()` (Babel extracts them: see docs/translating.md) and filled with `str.format`
after translation, so placeholders are the same in every language. The language is chosen by `--lang`,
the ini option `grader_lang`, or the locale (`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG` starting with "zh");
English otherwise. Two catalogs: `grader` (the grader and the public checks; it ships in a student release) and
`hidden` (the hidden checks' texts; it never ships), both under `grader/locale/`.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LANGUAGES = ("en", "zh_CN")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current = "en"
_translation: gettext.NullTranslations = gettext.NullTranslations()


def language_from_environment() -> str:
    """zh_CN when the locale says Chinese, else en (the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set,
    gettext's order)."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(language: str | None) -> str:
    """Use `language` ("en", "zh_CN"; None: the environment's) from now on; returns the language used.

    The libraries that use gettext's global functions (click's usage errors) follow it too: the grader catalog
    is their domain, and LANGUAGE names the language, as gettext expects."""
    global _current, _translation
    language = normalize(language) if language else language_from_environment()
    translation: gettext.NullTranslations = gettext.NullTranslations()
    if language != "en":
        translation = gettext.translation("grader", LOCALE_DIR, [language], fallback=True)
        translation.add_fallback(gettext.translation("hidden", LOCALE_DIR, [language], fallback=True))
    _current, _translation = language, translation
    os.environ["LANGUAGE"] = language
    gettext.bindtextdomain("grader", str(LOCALE_DIR))
    gettext.textdomain("grader")
    return language


def normalize(language: str) -> str:
    """`zh`, `zh-CN`, `zh_CN.UTF-8` -> zh_CN; `en_US` -> en; anything else is a ValueError."""
    value = language.replace("-", "_").split(".")[0].lower()
    if value.startswith("zh"):
        return "zh_CN"
    if value.startswith("en") or value in ("c", "posix"):
        return "en"
    raise ValueError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")


def current() -> str:
    return _current


def _(message: str) -> str:
    """`message` in the current language (itself when there is no translation)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for the catalog without translating it (it is translated where it is used)."""
    return message
