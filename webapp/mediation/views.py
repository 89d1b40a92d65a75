"""Mediation pages: the case file and its forms, sessions, the agreement (page, print, PDF), guides.

Views are thin: form → service → commit → 303, or the page again with the form's errors (422)."""

from __future__ import annotations

from datetime import UTC

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import access
from webapp.access import allow, can_edit_guides, can_see_mediation
from webapp.access.mediation import MAX_ID
from webapp.audit.services import record as audit
from webapp.audit.services import record_list as audit_list
from webapp.extensions import db
from webapp.leads.codes import CATEGORY_LABELS
from webapp.mediation import bp, services
from webapp.mediation.codes import (
    CASE_STATUS_LABELS,
    MEMBER_ROLE_LABELS,
    ORIGIN_LABELS,
    PLACE_LABELS,
    SESSION_RESULT_LABELS,
    MemberRole,
)
from webapp.mediation.forms import (
    AgreementForm,
    ConcludeForm,
    ConsentForm,
    CopyForm,
    GuideForm,
    GuideTickForm,
    MemberForm,
    OpenCaseForm,
    ProsecutorForm,
    RefusalForm,
    SessionForm,
    SignForm,
    TermDoneForm,
    people_choices,
)
from webapp.mediation.models import MediationCase
from webapp.mediation.services import MediationError, SessionInput
from webapp.org.models import Role, User
from webapp.org.services import people_with_role
from webapp.rendering import never_stored, readable_offline, render_page, see_other
from webapp.timeutil import STATION_TZ, utcnow


def error_text(error: MediationError) -> str:
    return {
        "bad_choice": _("Choose one of the options."),
        "bad_person": _("Choose a person of this station who may take this part."),
        "refused_person": _("A party refused this person: they cannot be named on this case."),
        "already_refused": _("This refusal is recorded already."),
        "wrong_role": _("This person does not hold that role."),
        "compartment": _("This case is in a protected compartment: this person may not join it."),
        "case_exists": _("This lead already has an open mediation case."),
        "lead_not_ready": _("Only the lead's handler can open a case, once the lead is accepted."),
        "case_closed": _("This case is concluded; nothing more can be recorded on it."),
        "required": _("This is required."),
        "video_url": _("Give the meeting link (starting with https://)."),
        "too_many_items": _("Too many items."),
        "guide_changed": _("The checklist changed while you were looking at it. Here is the latest."),
        "signed": _("A signed agreement cannot be changed."),
        "no_agreement": _("Write the agreement first."),
        "two_parties": _("Write the name of each party who signed, one a line (at least two)."),
        "too_long": _("A name is too long, or there are too many."),
        "not_signed": _("The agreement is not signed yet."),
        "already_done": _("This term is recorded as performed already."),
        "written_needs_agreement": _(
            "A written agreement must be signed before the case is resolved with it."
        ),
        "lead_refused": _(
            "The lead cannot take this outcome now (only its handler can conclude, while it is in mediation)."
        ),
    }.get(error.code, error.code)


def _apply_error(form, error: MediationError) -> None:
    target = form._fields.get(error.field) if error.field else None
    if target is None:
        form.form_errors.append(error_text(error))
    else:
        target.errors = [*target.errors, error_text(error)]


def _member_form(case: MediationCase, **kwargs) -> MemberForm:
    form = MemberForm(**kwargs)
    form.user_id.choices = people_choices(services.candidates(case), _("Choose…"))
    return form


def _refusal_form(case: MediationCase, **kwargs) -> RefusalForm:
    form = RefusalForm(**kwargs)
    form.user_id.choices = people_choices(
        people_with_role(current_user.station, *access.MEDIATION_ROLES), _("Choose…")
    )
    return form


def _sign_form(case: MediationCase, **kwargs) -> SignForm:
    form = SignForm(**kwargs)
    mediators = [m.user for m in case.members if m.role in (MemberRole.MEDIATOR, MemberRole.PROSECUTOR)]
    form.mediator_id.choices = people_choices(mediators, _("Choose…"))
    return form


def _case_context(case: MediationCase, **forms) -> dict:
    manage = access.can_manage_case(current_user, case)
    context = {
        "case": case,
        "lead": case.lead,
        "now": utcnow(),
        "manage": manage,
        "record": access.can_record_session(current_user, case),
        "ticked": services.ticked(case),
        "latest_guide": services.latest_guide(case.station_id, case.lead.category),
        "member_form": forms.get("member_form") or _member_form(case),
        "consent_form": forms.get("consent_form") or ConsentForm(),
        "refusal_form": forms.get("refusal_form") or _refusal_form(case),
        "tick_form": forms.get("tick_form") or GuideTickForm(guide_id=case.guide_id),
        "conclude_form": forms.get("conclude_form") or ConcludeForm(),
        "sign_form": forms.get("sign_form") or _sign_form(case),
        "copy_form": forms.get("copy_form") or CopyForm(),
        "term_form": forms.get("term_form") or TermDoneForm(),
    }
    return context


def _show_case(case: MediationCase, status: int = 200, block: str = "content", **forms) -> Response:
    response = render_page("mediation/case.html", block=block, status=status, **_case_context(case, **forms))
    if case.lead.is_compartmented:
        return never_stored(response)
    return readable_offline(response)


@bp.route("/")
@allow(can_see_mediation)
def index():
    cases = services.cases_of(current_user)
    response = render_page("mediation/index.html", cases=cases)
    # The rows name the lead's category: a DV or minor lead's case shown is audited (docs/domain.md,
    # Privacy 4), committed after the page is drawn.
    shown = {"mediation_case": services.compartmented_cases(cases)}
    if audit_list(current_user, request.remote_addr or "", shown, page=request.endpoint):
        db.session.commit()
    return response


@bp.route("/open/<int:lead_id>", methods=["GET", "POST"])
@allow(can_see_mediation)
def open_case(lead_id: int):
    if lead_id > MAX_ID:
        abort(404)
    lead = access.case_lead(current_user, lead_id)
    if not access.can_open_case(current_user, lead):
        abort(403)
    form = OpenCaseForm()
    if form.validate_on_submit():
        try:
            case = services.open_case(lead, current_user, form.origin.data)
        except MediationError as error:
            _apply_error(form, error)
            return render_page(
                "mediation/open.html", block="open_form", status=error.status, form=form, lead=lead
            )
        db.session.commit()
        flash(_("Mediation case opened."), "success")
        return see_other(url_for("mediation.case", case_id=case.id))
    status = 422 if form.is_submitted() else 200
    return render_page("mediation/open.html", block="open_form", status=status, form=form, lead=lead)


@bp.route("/<int:case_id>")
@allow(can_see_mediation)
def case(case_id: int):
    case = access.mediation_case(current_user, case_id)
    if case.lead.is_compartmented:
        audit(
            current_user,
            "view",
            "mediation_case",
            case.id,
            request.remote_addr or "",
            dv=case.lead.flag_dv,
            minor=case.lead.flag_minor,
        )
        db.session.commit()
    return _show_case(case)


def _case_action(case_id: int, may, form_name: str, make_form, apply, done: str) -> Response:
    """One of the case page's forms: the rule, the form, the service; errors back on the page."""
    case = access.mediation_case(current_user, case_id)
    if not may(current_user, case):
        abort(403)
    form = make_form(case)
    status = 422
    if form.validate_on_submit():
        try:
            apply(case, form)
        except MediationError as error:
            db.session.rollback()
            case = access.mediation_case(current_user, case_id)
            _apply_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(done, "success")
            return see_other(url_for("mediation.case", case_id=case.id))
    return _show_case(case, status=status, **{form_name: form})


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id else None


@bp.route("/<int:case_id>/members", methods=["POST"])
@allow(can_see_mediation)
def add_member(case_id: int):
    return _case_action(
        case_id,
        access.can_manage_case,
        "member_form",
        _member_form,
        lambda case, form: services.add_member(case, _user(form.user_id.data), MemberRole(form.role.data)),
        _("Added to the case."),
    )


@bp.route("/<int:case_id>/consent", methods=["POST"])
@allow(can_see_mediation)
def consent(case_id: int):
    return _case_action(
        case_id,
        access.can_manage_case,
        "consent_form",
        lambda case: ConsentForm(),
        lambda case, form: services.record_consent(case, form.note.data),
        _("Consent recorded."),
    )


@bp.route("/<int:case_id>/refusals", methods=["POST"])
@allow(can_see_mediation)
def refuse(case_id: int):
    return _case_action(
        case_id,
        access.can_manage_case,
        "refusal_form",
        _refusal_form,
        lambda case, form: services.record_refusal(
            case, _user(form.user_id.data), form.party.data, form.reason.data or "", current_user
        ),
        _("Refusal recorded."),
    )


@bp.route("/<int:case_id>/guide", methods=["POST"])
@allow(can_see_mediation)
def tick(case_id: int):
    return _case_action(
        case_id,
        access.can_record_session,
        "tick_form",
        lambda case: GuideTickForm(),
        lambda case, form: services.tick_guide(case, form.guide_id.data, form.items.data or [], current_user),
        _("Checklist saved."),
    )


@bp.route("/<int:case_id>/conclude", methods=["POST"])
@allow(can_see_mediation)
def conclude(case_id: int):
    return _case_action(
        case_id,
        access.can_manage_case,
        "conclude_form",
        lambda case: ConcludeForm(),
        lambda case, form: services.conclude_case(
            case, form.outcome.data, form.code(), form.note.data or "", current_user
        ),
        _("Case concluded; the lead follows."),
    )


@bp.route("/<int:case_id>/agreement/sign", methods=["POST"])
@allow(can_see_mediation)
def sign(case_id: int):
    return _case_action(
        case_id,
        access.can_manage_case,
        "sign_form",
        _sign_form,
        lambda case, form: services.sign_agreement(
            case, (form.parties.data or "").splitlines(), _user(form.mediator_id.data)
        ),
        _("Agreement signed; its PDF is kept."),
    )


@bp.route("/<int:case_id>/agreement/copies", methods=["POST"])
@allow(can_see_mediation)
def hand_copy(case_id: int):
    return _case_action(
        case_id,
        access.can_manage_case,
        "copy_form",
        lambda case: CopyForm(),
        lambda case, form: services.hand_copy(case, form.recipient.data, current_user),
        _("Copy recorded."),
    )


@bp.route("/<int:case_id>/agreement/performed", methods=["POST"])
@allow(can_see_mediation)
def term_done(case_id: int):
    return _case_action(
        case_id,
        access.can_manage_case,
        "term_form",
        lambda case: TermDoneForm(),
        lambda case, form: services.mark_term_done(case, form.term_id.data, form.note.data or ""),
        _("Term recorded as performed."),
    )


def _session_form(case: MediationCase, **kwargs) -> SessionForm:
    form = SessionForm(**kwargs)
    form.officer_id.choices = people_choices(services.people_for(case, MemberRole.OFFICER), _("— none —"))
    form.prosecutor_id.choices = people_choices(
        services.people_for(case, MemberRole.PROSECUTOR), _("— none —")
    )
    form.lawyer_id.choices = people_choices(services.people_for(case, MemberRole.LAWYER), _("— none —"))
    return form


def _session_input(form: SessionForm) -> SessionInput:
    starts = form.starts_at.data.replace(tzinfo=STATION_TZ).astimezone(UTC)
    return SessionInput(
        starts_at=starts,
        place=form.place.data,
        place_detail=form.place_detail.data or "",
        video_url=form.video_url.data or "",
        officer=_user(form.officer_id.data),
        prosecutor=_user(form.prosecutor_id.data),
        lawyer=_user(form.lawyer_id.data),
        attendees=form.attendees.data or "",
        statements=form.statements.data or "",
        private=form.private.data,
        result=form.result.data,
        terms=form.terms.data or "",
        failure_reason=form.failure_reason.data or "",
        next_step=form.next_step.data or "",
    )


@bp.route("/<int:case_id>/sessions/new", methods=["GET", "POST"])
@allow(can_see_mediation)
def new_session(case_id: int):
    case = access.mediation_case(current_user, case_id)
    if not access.can_record_session(current_user, case):
        abort(403)
    form = _session_form(case)
    status = 200
    if not form.is_submitted():
        at = utcnow().astimezone(STATION_TZ).replace(second=0, microsecond=0, tzinfo=None)
        form.starts_at.data = at
        officer, prosecutor, lawyer = services.propose_panel(case, utcnow())
        form.officer_id.data = officer.id if officer else None
        form.prosecutor_id.data = prosecutor.id if prosecutor else None
        form.lawyer_id.data = lawyer.id if lawyer else None
    elif form.validate_on_submit():
        try:
            services.record_session(case, _session_input(form), current_user)
        except MediationError as error:
            db.session.rollback()
            case = access.mediation_case(current_user, case_id)
            _apply_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(_("Session recorded; the people named are told."), "success")
            return see_other(url_for("mediation.case", case_id=case.id))
    else:
        status = 422
    response = render_page(
        "mediation/session.html", block="session_form", status=status, form=form, case=case
    )
    return never_stored(response) if case.lead.is_compartmented else response


@bp.route("/<int:case_id>/agreement", methods=["GET", "POST"])
@allow(can_see_mediation)
def agreement(case_id: int):
    case = access.mediation_case(current_user, case_id)
    editable = (
        access.can_manage_case(current_user, case)
        and case.is_open
        and not (case.agreement and case.agreement.is_signed)
    )
    if request.method == "POST" and not access.can_manage_case(current_user, case):
        abort(403)
    form = AgreementForm(obj=case.agreement) if case.agreement else AgreementForm()
    if request.method == "POST" and not editable:
        form.form_errors.append(error_text(MediationError("signed" if case.is_open else "case_closed")))
        return _agreement_page(case, form, editable, 409)
    if request.method == "GET" and case.agreement:
        form.term_lines.data = "\n".join(
            f"{t.due_on.isoformat()} {t.description}" for t in case.agreement.performance_terms
        )
    status = 200
    if form.validate_on_submit():
        try:
            services.save_agreement(
                case,
                services.AgreementInput(
                    parties=form.parties.data,
                    facts=form.facts.data,
                    issues=form.issues.data,
                    responsibilities=form.responsibilities.data,
                    terms=form.terms.data,
                    performance=form.performance.data,
                    perform_by=form.perform_by.data,
                    performance_terms=form.term_lines.parsed,
                ),
            )
        except MediationError as error:
            db.session.rollback()
            case = access.mediation_case(current_user, case_id)
            _apply_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(_("Agreement saved as a draft."), "success")
            return see_other(url_for("mediation.case", case_id=case.id))
    elif form.is_submitted():
        status = 422
    return _agreement_page(case, form, editable, status)


def _agreement_page(case: MediationCase, form: AgreementForm, editable: bool, status: int) -> Response:
    response = render_page(
        "mediation/agreement.html",
        block="agreement_form",
        status=status,
        form=form,
        case=case,
        editable=editable,
    )
    return never_stored(response) if case.lead.is_compartmented else response


@bp.route("/<int:case_id>/agreement/print")
@allow(can_see_mediation)
def agreement_print(case_id: int):
    case = access.mediation_case(current_user, case_id)
    if case.agreement is None:
        abort(404)
    return never_stored(render_page("mediation/print.html", case=case, agreement=case.agreement))


@bp.route("/<int:case_id>/agreement.pdf")
@allow(can_see_mediation)
def agreement_pdf(case_id: int):
    case = access.mediation_case(current_user, case_id)
    if case.agreement is None or not case.agreement.is_signed:
        abort(404)
    audit(current_user, "download", "mediation_agreement", case.agreement.id, request.remote_addr or "")
    db.session.commit()
    response = Response(case.agreement.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="agreement-{case.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/guides")
@allow(can_see_mediation)
def guides():
    return render_page(
        "mediation/guides.html",
        guides=services.guides(current_user.station),
        categories=CATEGORY_LABELS,
        can_edit=can_edit_guides(current_user),
    )


@bp.route("/guides/<category>", methods=["GET", "POST"])
@allow(can_see_mediation)
def guide(category: str):
    if category not in CATEGORY_LABELS:
        abort(404)
    versions = services.guide_versions(current_user.station, category)
    latest = versions[0] if versions else None
    form = GuideForm(title=latest.title if latest else "", items=latest.items if latest else "")
    if request.method == "POST" and not can_edit_guides(current_user):
        abort(403)
    status = 200
    if form.validate_on_submit():
        try:
            services.save_guide(
                current_user.station, category, form.title.data, form.items.data, current_user
            )
        except MediationError as error:
            _apply_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(_("Saved as a new version."), "success")
            return see_other(url_for("mediation.guide", category=category))
    elif form.is_submitted():
        status = 422
    return render_page(
        "mediation/guide.html",
        block="guide_form",
        status=status,
        form=form,
        category=category,
        versions=versions,
        can_edit=can_edit_guides(current_user),
    )


@bp.app_template_global()
def mediation_label(kind: str, code: str) -> str:
    """A mediation code's name in the reader's language (kind: origin, status, member, place, result)."""
    tables = {
        "origin": ORIGIN_LABELS,
        "status": CASE_STATUS_LABELS,
        "member": MEMBER_ROLE_LABELS,
        "place": PLACE_LABELS,
        "result": SESSION_RESULT_LABELS,
    }
    return str(tables[kind].get(code, code))


@bp.app_template_global()
def mediation_link(lead) -> dict | None:
    """For the lead's page: its case (to open) or, for its handler when accepted, the way to open one."""
    case = services.case_of_lead(lead)
    if case is not None and access.find_mediation_case(current_user, case.id) is not None:
        return {
            "url": url_for("mediation.case", case_id=case.id),
            "label": _("Mediation case #%(id)s", id=case.id),
        }
    if (
        (case is None or not case.is_open)
        and services.lead_can_open_case(lead)
        and access.can_open_case(current_user, lead)
    ):
        return {"url": url_for("mediation.open_case", lead_id=lead.id), "label": _("Open a mediation case")}
    return None


def _mediators_page(form: ProsecutorForm, status: int = 200) -> Response:
    station = current_user.station
    return render_page(
        "mediation/mediators.html",
        block="mediator_rows",
        status=status,
        form=form,
        mediators=people_with_role(station, Role.MEDIATOR),
        prosecutors={p.id for p in services.prosecutors(station)},
        can_edit=access.can_mark_prosecutors(current_user),
    )


def _prosecutor_form() -> ProsecutorForm:
    form = ProsecutorForm()
    form.user_id.choices = people_choices(people_with_role(current_user.station, Role.MEDIATOR), "")
    return form


@bp.route("/mediators")
@allow(can_see_mediation)
def mediators():
    """The station's mediators, and which of them are prosecutor-mediators."""
    return _mediators_page(_prosecutor_form())


@bp.route("/mediators/prosecutor", methods=["POST"])
@allow(access.can_mark_prosecutors)
def mark_prosecutor():
    """Supervisors mark a mediator as a prosecutor-mediator, or take the mark away."""
    form = _prosecutor_form()
    if not form.validate_on_submit():
        return _mediators_page(form, 422)
    services.set_prosecutor(db.session.get(User, form.user_id.data), form.prosecutor.data)
    db.session.commit()
    return see_other(url_for("mediation.mediators"))
