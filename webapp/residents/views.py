"""The public pages: file a dispute, see its progress with the case code. No sign-in, no JS needed.

Both are throttled per address and for everyone together with the sign-in's atomic counter
(webapp/auth/services.py: count_attempt), so parallel requests cannot slip past the limit.
"""

from __future__ import annotations

from datetime import timedelta

import segno
from flask import current_app, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from webapp.access import public
from webapp.auth.services import Throttled, ThrottlePolicy, count_attempt, give_back_attempt
from webapp.extensions import db
from webapp.leads.intake import intake_error_text
from webapp.leads.services import IntakeError
from webapp.org.models import Community
from webapp.org.services import the_station
from webapp.rendering import render_page
from webapp.residents import bp
from webapp.residents.forms import build_resident_form
from webapp.residents.services import State, Submission, progress, submit

# A resident's whole submission is a few KB of text: anything much bigger is refused (413) before
# the form is read. Set here, before the request hooks (the first of which reads the form).
MAX_REQUEST_BYTES = 64 * 1024


@bp.url_value_preprocessor
def _small_requests_only(endpoint, values) -> None:
    request.max_content_length = MAX_REQUEST_BYTES


def state_words(state: State) -> str:
    return {
        State.RECEIVED: _("Received — waiting for the community officer"),
        State.BEING_HANDLED: _("Being handled"),
        State.MEDIATION: _("Being mediated"),
        State.RESOLVED: _("Resolved"),
        State.REFERRED: _("Handed to the right channel (court, arbitration or another office)"),
        State.CLOSED: _("Closed — the matter is finished"),
    }[state]


def _policy() -> ThrottlePolicy:
    config = current_app.config
    return ThrottlePolicy(max_per_account=0, max_per_address=0,
                          window=timedelta(minutes=config["BEATBOOK_RESIDENT_THROTTLE_MINUTES"]),
                          first_delay=timedelta(minutes=1))


def _throttled(what: str) -> Throttled | None:
    """Count one attempt at `what` for this address and for everyone; None while under the limits."""
    config = current_app.config
    limits = {"submit": ("BEATBOOK_RESIDENT_SUBMISSIONS_PER_ADDRESS", "BEATBOOK_RESIDENT_SUBMISSIONS_TOTAL"),
              "code": ("BEATBOOK_RESIDENT_CODE_GUESSES_PER_ADDRESS", "BEATBOOK_RESIDENT_CODE_GUESSES_TOTAL")}
    per_address, total = (config[name] for name in limits[what])
    try:
        count_attempt(f"resident-{what}:address:{request.remote_addr or ''}", per_address, _policy())
        count_attempt(f"resident-{what}:all", total, _policy())
    except Throttled as throttled:
        return throttled
    return None


def _give_back(what: str) -> None:
    give_back_attempt(f"resident-{what}:address:{request.remote_addr or ''}")
    give_back_attempt(f"resident-{what}:all")


def qr_svg(url: str) -> Markup:
    """The progress link as an SVG QR code, drawn with attributes only (no style: strict CSP)."""
    return Markup(segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff",
                                                        omitsize=True, svgclass="qr", lineclass=None))


@bp.route("/", methods=["GET", "POST"])
@public
def file_dispute():
    station = the_station()
    form = build_resident_form(station)
    if form.is_submitted():
        throttled = _throttled("submit")
        if throttled is not None:
            form.form_errors.append(_("Too many submissions from here. Try again in %(minutes)d minutes.",
                                      minutes=throttled.minutes))
            return render_page("residents/file.html", block="resident_form", status=429, form=form)
    if form.validate_on_submit():
        community = db.session.get(Community, form.community_id.data) if form.community_id.data else None
        try:
            lead, code = submit(station, Submission(
                category=form.category.data, description=form.description.data, name=form.name.data.strip(),
                phone=form.phone.data.strip(), community=community, address=(form.address.data or "").strip(),
                expert_id=form.expert_id.data if "expert_id" in form else None))
        except IntakeError as error:
            form.form_errors.append(intake_error_text(error.code))
        else:
            db.session.commit()
            link = url_for("residents.progress_page", code=code, _external=True)
            response = render_page("residents/received.html", code=code, link=link, qr=qr_svg(link),
                                   received_on=lead.received_at)
            response.headers["Cache-Control"] = "no-store, private"
            return response
    status = 422 if form.is_submitted() else 200
    return render_page("residents/file.html", block="resident_form", status=status, form=form)


@bp.route("/progress")
@public
def progress_page():
    code = (request.args.get("code") or "").strip()
    if not code:
        return render_page("residents/progress.html", block="progress", view=None, asked=False)
    throttled = _throttled("code")
    if throttled is not None:
        return render_page("residents/progress.html", block="progress", status=429, view=None, asked=True,
                           error=_("Too many wrong codes from here. Try again in %(minutes)d minutes.",
                                   minutes=throttled.minutes))
    if len(code) > 200:
        return render_page("residents/progress.html", block="progress", status=400, view=None, asked=True,
                           error=_("This is not a case code."))
    view = progress(code)
    if view is None:
        return render_page("residents/progress.html", block="progress", status=404, view=None, asked=True,
                           error=_("No case has this code. Check it and try again."))
    _give_back("code")
    response = render_page("residents/progress.html", block="progress", view=view, asked=True,
                           words=state_words(view.state))
    response.headers["Cache-Control"] = "no-store, private"
    return response
