"""What each refusal of the DV services says to the person."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _


def error_text(code: str) -> str:
    texts = {
        "not_dv": _("This is not a domestic-violence case."),
        "bad_relationship": _("Choose the relationship to the victim."),
        "bad_evidence": _("Choose the evidence from the list."),
        "weak_evidence": _(
            "Not enough evidence: the abuser's admission, or the victim's statement or a "
            "witness plus one supporting item."
        ),
        "bad_supersedes": _("Only an issued letter of this case can be corrected."),
        "already_superseded": _("This letter has been corrected already; the correction stands."),
        "not_permitted": _("You may not do this with this letter."),
        "wrong_status": _(
            "This letter is no longer at that stage. Issued letters are never changed: "
            "request a correction instead."
        ),
        "reason_required": _("Give the reason."),
        "not_issued": _("The letter is not issued yet."),
        "superseded": _("This letter was corrected: deliver the correction."),
        "bad_recipient": _("Choose who received it."),
        "witness_required": _("Name the witness."),
        "uuid_taken": _("This record id belongs to another record."),
        "already_done": _("This follow-up visit has been recorded already."),
        "too_large": _("The photo is larger than %(mb)d MB.", mb=current_app.config["BEATBOOK_MAX_PHOTO_MB"]),
        "not_an_image": _("This file is not a photo (JPEG, PNG or WebP)."),
    }
    return texts.get(code, _("This cannot be done."))
