"""The DV task force's pages: thin (form → service → render). Every page about a case is audited and
never stored (not on the phone, not between). Pages about one record are open to anyone signed in
and answer 404 for records outside the viewer's compartment (webapp/access/dv.py): for everyone
else the case does not exist. The letters' list is the task force's, supervisors' and officers'."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from webapp import access
from webapp.access.base import signed_in
from webapp.access.dv import (
    can_work_dv,
    delivery_photo,
    dv_case,
    find_letter,
    is_open_for,
    may_approve,
    may_issue,
    seen_followup,
    seen_letter,
)
from webapp.audit.services import record as audit
from webapp.audit.services import record_list as audit_list
from webapp.dv import bp, queries
from webapp.dv.alerts import letter_requested
from webapp.dv.forms import DecisionForm, DeliveryForm, FollowUpForm, IssueForm, LetterRequestForm
from webapp.dv.letter import letter_text
from webapp.dv.messages import error_text
from webapp.dv.models import WarningLetter
from webapp.dv.services import (
    DvError,
    decide_letter,
    delivered_to,
    issue_letter,
    parse_followup_days,
    pending_correction,
    request_letter,
    successor_of,
)
from webapp.dv.submit import submit_delivery, submit_followup
from webapp.extensions import db
from webapp.rendering import never_stored, render_page, see_other
from webapp.timeutil import STATION_TZ, utcnow


def _address() -> str:
    return request.remote_addr or ""


def _today():
    return utcnow().astimezone(STATION_TZ).date()


@bp.route("/")
@access.allow(can_work_dv)
def index():
    q = request.args.get("q", "").strip()[:100]
    letters = queries.letters(current_user, q=q)
    response = render_page("dv/index.html", block="letter_rows", q=q, letters=letters)
    # A list or search that showed DV records is audited like opening one (docs/domain.md, Privacy
    # 4); committed after drawing the page so its rows are not read again.
    if audit_list(current_user, _address(), {"dv_letter": [letter.id for letter in letters]},
                  page=request.endpoint, q=q):
        db.session.commit()
    return never_stored(response)


@bp.route("/leads/<int:lead_id>/letters/new", methods=["GET", "POST"])
@access.allow(signed_in)
def request_new(lead_id: int):
    lead = dv_case(current_user, lead_id)
    form = LetterRequestForm()
    supersedes = None
    wanted = form.supersedes.data if form.is_submitted() else request.args.get("supersedes", type=int)
    if wanted:
        supersedes = find_letter(current_user, wanted)
        if supersedes is None or supersedes.lead_id != lead.id:
            abort(404)
        if not form.is_submitted():
            _prefill(form, supersedes)  # the letter's every word, in the form: a view, audited
            audit(current_user, "dv_letter_view", "dv_letter", supersedes.id, _address(), form="correction")
            db.session.commit()
    if form.validate_on_submit():
        try:
            letter = request_letter(current_user, lead, _letter_input(form), supersedes, _address())
        except DvError as error:
            _attach(form, error)
        else:
            letter_requested(letter)
            db.session.commit()
            flash(_("Letter requested. A supervisor will decide."), "success")
            return see_other(url_for("dv.letter", letter_id=letter.id))
    status = _status(form)
    return never_stored(
        render_page(
            "dv/request.html",
            block="request_form",
            status=status,
            form=form,
            lead=lead,
            supersedes=supersedes,
        )
    )


def _prefill(form: LetterRequestForm, old: WarningLetter) -> None:
    form.supersedes.data = old.id
    form.abuser_name.data, form.abuser_id_number.data = old.abuser_name, old.abuser_id_number
    form.relationship.data, form.victim_name.data = old.relationship_to_victim, old.victim_name
    form.minors_in_household.data, form.police_ref.data = old.minors_in_household, old.police_ref
    form.facts.data, form.evidence.data, form.evidence_note.data = (
        old.facts,
        old.evidence_codes,
        old.evidence_note,
    )


def _letter_input(form: LetterRequestForm):
    from webapp.dv.services import LetterInput

    return LetterInput(
        abuser_name=form.abuser_name.data,
        relationship=form.relationship.data,
        victim_name=form.victim_name.data,
        facts=form.facts.data,
        evidence=list(form.evidence.data),
        abuser_id_number=form.abuser_id_number.data or "",
        minors_in_household=form.minors_in_household.data or 0,
        police_ref=form.police_ref.data or "",
        evidence_note=form.evidence_note.data or "",
    )


def _status(form) -> int:
    """200 for a blank form; 422 when a field is wrong; 409 when the record's state refused it."""
    if not form.is_submitted():
        return 200
    if any(field.errors for field in form):
        return 422
    return 409 if form.form_errors else 422


def _attach(form, error: DvError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    (target.errors if target is not None else form.form_errors).append(error_text(error.code))


def _letter_context(letter: WarningLetter, **extra) -> dict:
    return {
        "letter": letter,
        "successor": successor_of(letter),
        "correction": pending_correction(letter),
        "may_approve": may_approve(current_user, letter) and is_open_for(letter, "approve"),
        "may_issue": may_issue(current_user, letter) and is_open_for(letter, "issue"),
        "delivered": delivered_to(letter),
        "decision_form": extra.pop("decision_form", None) or DecisionForm(),
        "issue_form": extra.pop("issue_form", None) or IssueForm(),
        **extra,
    }


@bp.route("/letters/<int:letter_id>")
@access.allow(signed_in)
def letter(letter_id: int):
    letter = seen_letter(current_user, letter_id)
    audit(current_user, "dv_letter_view", "dv_letter", letter.id, _address())
    db.session.commit()
    return never_stored(render_page("dv/letter.html", **_letter_context(letter)))


def _decide(letter_id: int, approve: bool):
    letter = seen_letter(current_user, letter_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decide_letter(current_user, letter, approve, form.reason.data or "", _address())
        except DvError as error:
            db.session.rollback()
            return _refused(letter, error, decision_form=form)
        db.session.commit()
        flash(_("Letter approved.") if approve else _("Letter refused."), "success")
        return see_other(url_for("dv.letter", letter_id=letter.id))
    return never_stored(
        render_page(
            "dv/letter.html", block="actions", status=422, **_letter_context(letter, decision_form=form)
        )
    )


def _refused(letter: WarningLetter, error: DvError, **forms):
    db.session.refresh(letter)
    return never_stored(
        render_page(
            "dv/letter.html",
            block="actions",
            status=error.status,
            refusal=error_text(error.code),
            **_letter_context(letter, **forms),
        )
    )


@bp.route("/letters/<int:letter_id>/approve", methods=["POST"])
@access.allow(signed_in)
def approve(letter_id: int):
    return _decide(letter_id, approve=True)


@bp.route("/letters/<int:letter_id>/refuse", methods=["POST"])
@access.allow(signed_in)
def refuse(letter_id: int):
    return _decide(letter_id, approve=False)


@bp.route("/letters/<int:letter_id>/issue", methods=["POST"])
@access.allow(signed_in)
def issue(letter_id: int):
    letter = seen_letter(current_user, letter_id)
    form = IssueForm()
    if not form.validate_on_submit():
        return never_stored(
            render_page(
                "dv/letter.html", block="actions", status=422, **_letter_context(letter, issue_form=form)
            )
        )
    if letter.supersedes is not None and successor_of(letter.supersedes) is not None:
        return _refused(letter, DvError("already_superseded", status=409), issue_form=form)
    try:
        issue_letter(
            current_user,
            letter,
            parse_followup_days(current_app.config["BEATBOOK_DV_FOLLOWUP_DAYS"]),
            by_committee=form.followups_by.data == "committee",
            address=_address(),
        )
        db.session.commit()
    except DvError as error:
        db.session.rollback()
        return _refused(letter, error, issue_form=form)
    except IntegrityError:  # a correction of the same letter was issued a moment ago
        db.session.rollback()
        return _refused(letter, DvError("already_superseded", status=409), issue_form=form)
    flash(_("Letter issued: %(number)s", number=letter.number), "success")
    return see_other(url_for("dv.letter", letter_id=letter.id))


@bp.route("/letters/<int:letter_id>/print")
@access.allow(signed_in)
def print_letter(letter_id: int):
    letter = seen_letter(current_user, letter_id)
    if not letter.is_issued:
        abort(404)
    audit(current_user, "dv_letter_print", "dv_letter", letter.id, _address(), sha256=letter.pdf_sha256)
    db.session.commit()
    return never_stored(
        render_page("dv/print.html", letter=letter, text=letter_text(letter, current_user.station.name))
    )


@bp.route("/letters/<int:letter_id>/pdf")
@access.allow(signed_in)
def pdf(letter_id: int):
    letter = seen_letter(current_user, letter_id)
    if not letter.is_issued:
        abort(404)
    audit(current_user, "dv_letter_pdf", "dv_letter", letter.id, _address(), sha256=letter.pdf_sha256)
    db.session.commit()
    response = Response(letter.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="dv-letter-{letter.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/letters/<int:letter_id>/deliveries/new", methods=["GET", "POST"])
@access.allow(signed_in)
def delivery_new(letter_id: int):
    letter = seen_letter(current_user, letter_id)
    form = DeliveryForm()
    if not form.is_submitted():
        form.letter_id.data = letter.id
    elif form.letter_id.data != letter.id:
        form.letter_id.errors = [*form.letter_id.errors, _("This form is about another letter.")]
    if form.is_submitted() and not form.letter_id.errors:
        result = submit_delivery(form, current_user, letter, _address())
        if result is not None:
            db.session.commit()
            if result[1]:
                flash(_("Delivery recorded."), "success")
            return see_other(url_for("dv.letter", letter_id=letter.id))
    status = _status(form)
    return never_stored(
        render_page("dv/delivery.html", block="delivery_form", status=status, form=form, letter=letter)
    )


@bp.route("/letters/<int:letter_id>/deliveries/<int:delivery_id>/photo")
@access.allow(signed_in)
def delivery_receipt(letter_id: int, delivery_id: int):
    delivery = delivery_photo(current_user, letter_id, delivery_id)
    audit(current_user, "dv_delivery_photo", "dv_letter", letter_id, _address(), delivery=delivery.id)
    db.session.commit()
    response = Response(delivery.photo, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/followups/<int:followup_id>", methods=["GET", "POST"])
@access.allow(signed_in)
def followup(followup_id: int):
    followup = seen_followup(current_user, followup_id)
    form = FollowUpForm()
    if not form.is_submitted():
        form.followup_id.data = followup.id
        audit(current_user, "dv_followup_view", "dv_followup", followup.id, _address())
        db.session.commit()
    elif form.followup_id.data != followup.id:
        form.followup_id.errors = [*form.followup_id.errors, _("This form is about another visit.")]
    if form.is_submitted() and not form.followup_id.errors:
        result = submit_followup(form, current_user, followup, _address())
        if result is not None:
            db.session.commit()
            if result[1]:
                flash(_("Follow-up visit recorded."), "success")
            return see_other(url_for("dv.followup", followup_id=followup.id))
    status = _status(form)
    return never_stored(
        render_page(
            "dv/followup.html",
            block="followup_form",
            status=status,
            form=form,
            followup=followup,
            today=_today(),
        )
    )


@bp.app_template_global()
def dv_label(kind: str, code: str) -> str:
    """A DV code's label in the reader's language (evidence, relationship, status, recipient, …)."""
    from webapp.dv import codes

    table = {
        "evidence": codes.EVIDENCE_LABELS,
        "relationship": codes.RELATIONSHIP_LABELS,
        "status": codes.LETTER_STATUS_LABELS,
        "recipient": codes.RECIPIENT_LABELS,
        "method": codes.METHOD_LABELS,
        "outcome": codes.OUTCOME_LABELS,
    }[kind]
    return str(table.get(code, code))
