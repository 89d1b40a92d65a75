"""Masks for personal data: what most people see instead of phones, ID numbers, names, addresses."""

from __future__ import annotations

import re


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(id_number: str) -> str:
    if len(id_number) < 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_name(name: str) -> str:
    """Keep the family name (first character): 张三丰 → 张**."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_address(address: str) -> str:
    """Hide building, unit and door numbers; keep the estate or street name."""
    return re.sub(r"\d", "*", address)
