"""The audit page's words: each action code's label and an entry's details as short "key: value"
text. The log itself keeps the codes and the JSON (the chain hashes them); only the page reads them."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    # signing in and sessions
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Failed sign-in"),
    "sign_out": _l("Signed out"),
    "sign_out_everywhere": _l("Signed out everywhere"),
    "two_factor_enabled": _l("Second factor turned on"),
    "two_factor_failed": _l("Wrong second-factor code"),
    "two_factor_reset": _l("Second factor reset"),
    "device_revoked": _l("Phone signed out (revoked)"),
    "sync_after_revocation": _l("Revoked phone sent its outbox"),
    # people and roles
    "user_created": _l("Person added"),
    "user_disabled": _l("Person disabled"),
    "user_enabled": _l("Person enabled again"),
    "password_changed": _l("Password changed"),
    "role_added": _l("Role given"),
    "role_removed": _l("Role taken away"),
    "role_requested": _l("Role asked for"),
    "role_granted": _l("Role approved"),
    "role_refused": _l("Role refused"),
    # reading sensitive records
    "view": _l("Opened a record"),
    "list": _l("Listed"),
    "reveal_identities": _l("Revealed identities"),
    "reveal_guardian": _l("Revealed the guardian"),
    "view_photo": _l("Viewed a photo"),
    "view_return_visit": _l("Opened a return visit"),
    "download": _l("Downloaded"),
    "export": _l("Exported"),
    "export_queued": _l("Export prepared in the background"),
    # DV task force
    "dv_letter_request": _l("Warning letter requested"),
    "dv_letter_approve": _l("Warning letter approved"),
    "dv_letter_refuse": _l("Warning letter refused"),
    "dv_letter_issue": _l("Warning letter issued"),
    "dv_letter_supersede": _l("Warning letter corrected"),
    "dv_letter_view": _l("Warning letter opened"),
    "dv_letter_print": _l("Warning letter printed"),
    "dv_letter_pdf": _l("Warning letter PDF downloaded"),
    "dv_delivery": _l("Warning letter delivered"),
    "dv_delivery_photo": _l("Delivery photo viewed"),
    "dv_followup": _l("Follow-up visit recorded"),
    "dv_followup_view": _l("Follow-up visit opened"),
    # youth team
    "open": _l("Profile opened"),
    "update": _l("Profile changed"),
    "close": _l("Profile closed"),
    "link_lead": _l("Lead linked to a profile"),
    "record_session": _l("Session recorded"),
    # government feed
    "feed_token_issued": _l("Feed token issued"),
    "feed_token_revoked": _l("Feed token revoked"),
    "feed_webhook_created": _l("Feed webhook set up"),
    "feed_webhook_changed": _l("Feed webhook changed"),
    "feed_webhook_secret_changed": _l("Feed webhook secret changed"),
    "feed_webhook_removed": _l("Feed webhook removed"),
    "feed_webhook_resend": _l("Feed delivery sent again"),
}


def action_label(code: str) -> str:
    """The action's label; an action without one (a new code) shows as its code, never as nothing."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def _value(value) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={_value(item)}" for key, item in value.items())
    return str(value)


def detail_text(detail: str) -> str:
    """An entry's JSON details as "key: value; key: value" (lists comma-separated, nested filters as
    key=value); details that are not a JSON object are shown as written."""
    try:
        parsed = json.loads(detail) if detail else {}
    except ValueError:
        return detail
    if not isinstance(parsed, dict):
        return detail
    return "; ".join(f"{key.replace('_', ' ')}: {_value(value)}" for key, value in parsed.items())
