"""Lead pages: report, desk intake, the lead with its timeline, lifecycle steps, lists."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from webapp import access
from webapp.access import (
    allow,
    can_handle_lead,
    can_list_leads,
    can_report_leads,
    can_reveal_identities,
    can_see_branch,
    can_see_queues,
    can_see_reporter,
    can_use_desk_intake,
    case_scope,
    signed_in,
)
from webapp.audit.services import record as audit
from webapp.audit.services import record_list as audit_list
from webapp.extensions import db
from webapp.fields import db_int, query_day
from webapp.leads import bp, queries
from webapp.leads.codes import CATEGORY_LABELS, RISK_SHORT_LABELS, STATUS_LABELS, Risk, Source
from webapp.leads.forms import SUMMARY_DESK_MAX, SUMMARY_QUICK_MAX, ActionForm
from webapp.leads.intake import build_desk_form, build_report_form, submit_lead_form
from webapp.leads.labels import STEP_LABELS
from webapp.leads.lifecycle import STEPS, available_steps, step_already_taken
from webapp.leads.models import Lead, LeadEvent, LeadPhoto, compartmented
from webapp.leads.services import possible_duplicates
from webapp.leads.steps import build_action_form, submit_step_form
from webapp.org import services as org
from webapp.rendering import never_stored, offline_stamp, readable_offline, render_page, see_other
from webapp.timeutil import STATION_TZ, utcnow
from webapp.visits.models import Visit


def _visit_for_prefill() -> Visit | None:
    """`?visit=<id>`: a lead made from one of my visits' findings (404 for anyone else's)."""
    visit_id = request.args.get("visit", type=db_int)
    return access.own_visit(current_user, visit_id) if visit_id else None


def _prefill_from_visit(form) -> Visit | None:
    """"Create lead from this finding": the visit's place and findings fill the empty form."""
    visit = _visit_for_prefill()
    if visit is None:
        return None
    if not form.visit_id.data:
        form.visit_id.data = visit.id
    if not form.is_submitted():
        desk = hasattr(form, "grid_id")
        form.summary.data = visit.findings[:SUMMARY_DESK_MAX if desk else SUMMARY_QUICK_MAX]
        form.community_id.data = visit.community_id
        form.address.data = visit.household
        if desk:
            form.grid_id.data = visit.grid_id
            form.source.data = Source.VISIT.value
    return visit


def _register(form) -> Response | None:
    result = submit_lead_form(form, current_user)
    if result is None:
        return None
    db.session.commit()
    if result.created:
        flash(_("Report saved. Thank you."), "success")
        # The next page offers a fresh form in one tap (a volunteer's round has several reports).
        another = "another_registration" if request.endpoint == "leads.desk" else "another_report"
        flash(url_for(request.endpoint), another)
    return see_other(url_for("leads.detail", lead_id=result.lead.id))


def _intake_page(form, template: str, block: str) -> Response:
    """Both intake forms: prefill from a visit, register through the one service, or show errors.

    The empty form is kept on the phone (readable offline): reporting must work with no signal.
    """
    visit = _prefill_from_visit(form)
    if form.validate_on_submit():
        done = _register(form)
        if done is not None:
            return done
    status = 422 if form.is_submitted() else 200
    return readable_offline(render_page(template, block=block, status=status, form=form, visit=visit))


@bp.route("/new", methods=["GET", "POST"])
@allow(can_report_leads)
def report():
    return _intake_page(build_report_form(current_user), "leads/report.html", "report_form")


@bp.route("/desk", methods=["GET", "POST"])
@allow(can_use_desk_intake)
def desk():
    return _intake_page(build_desk_form(current_user), "leads/desk.html", "desk_form")


def _detail_context(lead: Lead, action_form: ActionForm | None = None, revealed: bool = False) -> dict:
    handler = can_handle_lead(current_user, lead)
    return {
        "lead": lead,
        "now": utcnow(),
        "steps": available_steps(current_user, lead),
        "form": action_form or build_action_form(current_user, lead),
        "revealed": revealed,
        "can_reveal": can_reveal_identities(current_user, lead),
        "show_reporter": can_see_reporter(current_user),
        "duplicates": possible_duplicates(lead, case_scope(current_user)) if handler and lead.is_open
        else [],
        "photo_ids": db.session.scalars(select(LeadPhoto.id).where(LeadPhoto.lead_id == lead.id)).all(),
    }


@bp.route("/<int:lead_id>")
@allow(signed_in)
def detail(lead_id: int):
    lead = access.seen_lead(current_user, lead_id)
    if not access.is_case_for(current_user, lead):
        # The reporter follows their report in plain words; the case itself is not theirs to see.
        return readable_offline(render_page("leads/progress.html", lead=lead))
    if request.args.get("masked"):
        # What a phone may keep of a compartmented lead: where, how urgent, no people, no story.
        return readable_offline(render_page("leads/masked.html", lead=lead, now=utcnow()),
                                _kept_stamp(lead, _last_events([lead.id])))
    if lead.is_compartmented:
        audit(current_user, "view", "lead", lead.id, request.remote_addr or "",
              dv=lead.flag_dv, minor=lead.flag_minor)
        db.session.commit()
        return never_stored(render_page("leads/detail.html", **_detail_context(lead)))
    return readable_offline(render_page("leads/detail.html", **_detail_context(lead)),
                            _kept_stamp(lead, _last_events([lead.id])))


def _last_events(lead_ids: list[int]) -> dict[int, int]:
    """Each lead's newest timeline event: a step, an escalation… (one query for a whole list)."""
    if not lead_ids:
        return {}
    rows = db.session.execute(select(LeadEvent.lead_id, func.max(LeadEvent.id))
                              .where(LeadEvent.lead_id.in_(lead_ids)).group_by(LeadEvent.lead_id))
    return {lead_id: event_id for lead_id, event_id in rows}


def _kept_stamp(lead: Lead, last_events: dict[int, int]) -> str:
    """The version of a lead's page the phone keeps: its row (the version counter moves with every
    change of the lead) and its timeline. The page's other parts (possible duplicates) are not
    followed: they are fetched again on the next change of the lead, or the next day."""
    return offline_stamp("lead", lead.id, lead.version, last_events.get(lead.id, 0))


def offline_copies(leads: list[Lead]) -> list[dict[str, str]]:
    """My leads' pages for the phone to keep, each with its stamp (the worker fetches only those
    whose kept copy has another): compartmented ones only in their masked form."""
    last_events = _last_events([lead.id for lead in leads])
    return [{"url": url_for("leads.detail", lead_id=lead.id, masked=1) if lead.is_compartmented
             else url_for("leads.detail", lead_id=lead.id), "stamp": _kept_stamp(lead, last_events)}
            for lead in leads]


@bp.route("/<int:lead_id>/reveal", methods=["POST"])
@allow(signed_in)
def reveal(lead_id: int):
    lead = access.lead_to_reveal(current_user, lead_id)
    audit(current_user, "reveal_identities", "lead", lead.id, request.remote_addr or "")
    db.session.commit()
    # Full phones and ID numbers: never in a cache, on the phone or between.
    return never_stored(render_page("leads/detail.html", block="parties",
                                    **_detail_context(lead, revealed=True)))


@bp.route("/<int:lead_id>/photos/<int:photo_id>")
@allow(signed_in)
def photo(lead_id: int, photo_id: int):
    lead, picture = access.lead_photo(current_user, lead_id, photo_id)
    if lead.is_compartmented:
        audit(current_user, "view_photo", "lead", lead.id, request.remote_addr or "", photo=photo_id)
        db.session.commit()
    response = Response(picture.data, mimetype=picture.content_type)
    # Never cached on a shared device or proxy: photos can show people and homes.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:lead_id>/steps/<step>", methods=["POST"])
@allow(signed_in)
def act(lead_id: int, step: str):
    lead = access.case_lead(current_user, lead_id)
    if step not in STEPS:
        abort(404)
    form = build_action_form(current_user, lead)
    replay = form.uuid.data and step_already_taken(form.uuid.data)
    if replay:  # the same tap sent twice (or from the outbox after a lost answer): done already
        return see_other(url_for("leads.detail", lead_id=lead.id))
    outcome = (submit_step_form(lead, current_user, step, form, step_uuid=form.uuid.data or None)
               if form.validate_on_submit() else None)
    if outcome is not None and outcome.done:
        db.session.commit()
        flash(_("Done: %(step)s.", step=step_label(step)), "success")
        return see_other(url_for("leads.detail", lead_id=lead.id))
    if outcome is not None and outcome.status == 403:
        abort(403)
    return render_page("leads/detail.html", block="actions", status=outcome.status if outcome else 422,
                       **_detail_context(lead, form), failed_step=step)


def step_label(step: str) -> str:
    return str(STEP_LABELS.get(step, step))



def _filters_from_args() -> queries.LeadFilters:
    args = request.args
    filters = queries.LeadFilters(
        q=args.get("q", "")[:100], category=args.get("category", ""), risk=args.get("risk", ""),
        status=args.get("status", ""), community_id=args.get("community_id", type=db_int),
        flag=args.get("flag", ""), queue=args.get("queue", ""),
        source=args.get("source", ""), grid_id=args.get("grid_id", type=db_int),
        received_from=query_day(args.get("from", "")), received_to=query_day(args.get("to", "")),
        originals=args.get("originals") == "1", reached=args.get("reached", ""), mine=args.get("mine") == "1",
    )
    if filters.reached not in queries.REACHABLE:
        filters.reached = ""
    if filters.source not in {s.value for s in Source}:
        filters.source = ""
    if filters.category not in CATEGORY_LABELS:
        filters.category = ""
    if filters.risk not in {r.value for r in Risk}:
        filters.risk = ""
    if filters.status not in {s.value for s in STATUS_LABELS}:
        filters.status = ""
    if filters.queue not in queries.QUEUES:
        filters.queue = ""
    return filters


@bp.route("/")
@allow(can_list_leads)
def index():
    filters = _filters_from_args()
    page = queries.lead_list(current_user, filters, utcnow(), before=request.args.get("before", type=db_int))
    kept = {k: v for k, v in request.args.items() if k != "before" and v}
    next_url = url_for("leads.index", before=page.next_cursor, **kept) if page.next_cursor else None
    response = render_page(
        "leads/index.html", block="lead_rows", page=page, filters=filters, now=utcnow(), next_url=next_url,
        communities=org.places(current_user.station_id), risk_labels=RISK_SHORT_LABELS,
        queue_counts=queries.queue_counts(current_user, utcnow())
        if can_see_queues(current_user) else None,
        monthly_export=access.can_export_monthly(current_user),
        this_month=utcnow().astimezone(STATION_TZ).strftime("%Y-%m"),
    )
    # A list or search that showed DV or minor leads is in the audit log, with its filters; committed
    # after the page is drawn, so the rows it shows are not read again.
    unset = asdict(queries.LeadFilters())
    if audit_list(current_user, request.remote_addr or "", {"lead": compartmented(page.leads)},
                  page=request.endpoint,
                  filters={k: str(v) for k, v in asdict(filters).items() if v != unset[k]}):
        db.session.commit()
    return response


@bp.route("/mine")
@allow(signed_in)
def mine():
    page = queries.my_reports(current_user, before=request.args.get("before", type=db_int))
    response = readable_offline(render_page("leads/mine.html", block="report_rows", page=page))
    if audit_list(current_user, request.remote_addr or "", {"lead": compartmented(page.leads)},
                  page=request.endpoint):
        db.session.commit()
    return response


@bp.route("/branch")
@allow(can_see_branch)
def branch():
    return render_page("leads/branch.html",
                       members=queries.branch_contributions(current_user.station_id))
