"""A person's signed-in devices in words: "Chrome on an Android phone" from the user agent."""

from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _

# First match wins: the order matters (Edge and WeChat say "Chrome" and "Safari" too).
_BROWSERS = (("MicroMessenger", "WeChat"), ("Edg", "Edge"), ("Firefox", "Firefox"), ("FxiOS", "Firefox"),
             ("CriOS", "Chrome"), ("Chrome", "Chrome"), ("Chromium", "Chromium"), ("Safari", "Safari"))


def _system(agent: str) -> str:
    if "iPhone" in agent:
        return _("an iPhone")
    if "iPad" in agent:
        return _("an iPad")
    if "Android" in agent:
        return _("an Android phone") if "Mobile" in agent else _("an Android tablet")
    if "Windows" in agent:
        return _("a Windows computer")
    if "Macintosh" in agent or "Mac OS" in agent:
        return _("a Mac")
    if "Linux" in agent or "X11" in agent:
        return _("a Linux computer")
    return ""


def describe(agent: str) -> str:
    """A short, translated summary of a user agent string; "Unknown device" when it says nothing."""
    agent = agent or ""
    browser = next((name for token, name in _BROWSERS if re.search(rf"\b{token}\b", agent)), "")
    system = _system(agent)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown device")


def session_id_from_form() -> int | None:
    """The `session_id` a device list's form posted: a plain, bounded positive number, or None."""
    raw = request.form.get("session_id", "")
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and 0 < len(raw) <= 12):
        return None
    return int(raw)
