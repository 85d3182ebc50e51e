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

import contextlib
import gettext
import os
import re
from typing import Iterator
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
    raise ValueError(_("language {language}: choose one of {choices}").format(language=repr(language),
                                                                               choices=", ".join(LANGUAGES)))


def current() -> str:
    return _current


@contextlib.contextmanager
def language(name: str) -> Iterator[None]:
    """Messages in `name` inside the block (a release writes its README in every language)."""
    before = _current
    set_language(name)
    try:
        yield
    finally:
        set_language(before)


def _(message: str) -> str:
    """`message` in the current language (itself when there is no translation)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for the catalog without translating it (it is translated where it is used)."""
    return message


# --- the catalogs ------------------------------------------------------------------------------------------

CATALOGS = {"grader": "babel-grader.cfg", "hidden": "babel-hidden.cfg"}  # domain -> what Babel extracts into it
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def catalog_problems(root: Path) -> list[str]:
    """What the translations lack, one line each: a message of the course's code (as Babel extracts it now) that a
    catalog misses or leaves untranslated or fuzzy, a translation whose placeholders differ, a compiled .mo
    that is not the .po's. Empty when every language has every message. Needs Babel (an instructor's tool)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po

    problems = []
    for domain, config in CATALOGS.items():
        with open(LOCALE_DIR / config, encoding="utf-8") as mapping:
            methods, options = parse_mapping_cfg(mapping)
        wanted = {message if isinstance(message, str) else message[0]
                  for _, _, message, _, _ in extract_from_dir(str(root), methods, options)}
        for language in LANGUAGES[1:]:
            folder = LOCALE_DIR / language / "LC_MESSAGES"
            try:
                with open(folder / f"{domain}.po", "rb") as po:
                    catalog = read_po(po)
                with open(folder / f"{domain}.mo", "rb") as mo:
                    compiled = gettext.GNUTranslations(mo)
            except OSError as error:
                problems.append(f"{language}: the {domain} catalog cannot be read: {error}")
                continue
            for msgid in sorted(wanted):
                entry = catalog.get(msgid)
                text = entry and (entry.string if isinstance(entry.string, str) else entry.string[0])
                where = f"{language} {domain}.po: {msgid[:60]!r}"
                if not text:
                    problems.append(f"{where} has no translation")
                elif entry.fuzzy:
                    problems.append(f"{where} is marked fuzzy")
                elif set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(msgid)):
                    problems.append(f"{where}: the translation's placeholders differ")
                elif compiled.gettext(msgid) != text:
                    problems.append(f"{where}: {domain}.mo is not compiled from the .po (pybabel compile)")
    return problems
