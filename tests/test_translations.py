"""Every UI string goes through Flask-Babel and has its zh-CN translation."""

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
