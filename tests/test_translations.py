"""Every UI string goes through Flask-Babel and has its zh-CN translation."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    for directory in ("webapp", "templates", "templates/_layouts", "templates/_macros"):
        method_map = [("**.py", "python"), ("**.html", "jinja2")]
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map, keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_in_the_code_has_a_chinese_translation():
    with open(ROOT / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {
        (message.id[0] if isinstance(message.id, tuple) else message.id)
        for message in catalog
        if message.id and message.string and all(message.string if isinstance(message.string, tuple)
                                                  else [message.string])
        and not message.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, f"run `make messages` and translate: {missing[:20]}"


# --- Chinese punctuation: full-width after Chinese text -------------------------------------------

# An ASCII colon, comma, semicolon, question or exclamation mark straight after a Chinese character
# or Chinese punctuation: "地址:" should be "地址：". Times ("24:00") and URLs ("https://") follow
# Latin letters or digits, so they are not caught.
ASCII_AFTER_CHINESE = re.compile(r"[\u3001-\u303f\u4e00-\u9fff\uff01-\uff5e]\s?[:,;?!]")
# A translated label glued to an ASCII colon in a template ({{ _("Address") }}: …) reads "地址: …"
# in Chinese; the separator is translated too: {{ _(": ") }}.
LABEL_THEN_ASCII_COLON = re.compile(r"_\((?:\"[^\"]*\"|'[^']*')\)\s*\}\}\s?:")


def _chinese_strings() -> dict[str, str]:
    with open(ROOT / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    strings = {}
    for message in catalog:
        if not message.id:
            continue
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            strings[message.id[0] if isinstance(message.id, tuple) else message.id] = text
    return strings


def test_the_punctuation_check_catches_ascii_after_chinese_and_spares_times_and_links():
    assert ASCII_AFTER_CHINESE.search("地址: 幸福路") and ASCII_AFTER_CHINESE.search("已保存,请稍候")
    assert not ASCII_AFTER_CHINESE.search("%(day)s 24:00 前")
    assert not ASCII_AFTER_CHINESE.search("以 https:// 开头")
    assert LABEL_THEN_ASCII_COLON.search('<p>{{ _("Address") }}: {{ lead.address }}</p>')
    assert not LABEL_THEN_ASCII_COLON.search('<p>{{ _("Address") }}{{ _(": ") }}{{ lead.address }}</p>')


def test_chinese_strings_use_full_width_punctuation():
    wrong = {msgid: text for msgid, text in _chinese_strings().items() if ASCII_AFTER_CHINESE.search(text)}
    assert not wrong, f"use ：，；？！ after Chinese text: {wrong}"


def test_templates_do_not_glue_an_ascii_colon_to_a_translated_label():
    wrong = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "templates").rglob("*.html"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if LABEL_THEN_ASCII_COLON.search(line)]
    assert not wrong, f'write {{{{ _(": ") }}}} after the label: {wrong}'
