"""The DV feature's codes and their (translated) labels."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Supporting evidence (docs/domain.md, "Domestic violence": the abuser's admission, or the
# victim's statement or a witness plus one supporting item).
EVIDENCE_LABELS = {
    "admission": _l("The abuser's admission"),
    "victim_statement": _l("The victim's statement"),
    "witness": _l("A witness"),
    "audio_video": _l("Audio or video"),
    "messages": _l("Messages"),
    "minor_testimony": _l("A minor child's testimony"),
    "apology_pledge": _l("Apology or pledge letter"),
    "injury_report": _l("Injury report"),
    "medical_record": _l("Medical record"),
    "earlier_complaints": _l("Earlier complaints"),
}
SUPPORTING = set(EVIDENCE_LABELS) - {"admission", "victim_statement"}

RELATIONSHIP_LABELS = {
    "spouse": _l("Spouse"),
    "former_spouse": _l("Former spouse"),
    "cohabitant": _l("Cohabiting partner"),
    "parent": _l("Parent"),
    "child": _l("Child"),
    "sibling": _l("Sibling"),
    "other_family": _l("Other family member"),
}

LETTER_STATUS_LABELS = {
    "requested": _l("Awaiting approval"),
    "refused": _l("Refused"),
    "approved": _l("Approved, awaiting issue"),
    "issued": _l("Issued"),
}

RECIPIENT_LABELS = {
    "abuser": _l("The abuser"),
    "victim": _l("The victim"),
    "committee": _l("Residents' committee (notified)"),
}
METHOD_LABELS = {
    "in_person": _l("In person"),
    "with_witness": _l("With a witness"),
    "left_at_address": _l("Left at the address"),
}
OUTCOME_LABELS = {
    "signed": _l("Signed for"),
    "refused": _l("Refused to sign"),
}
