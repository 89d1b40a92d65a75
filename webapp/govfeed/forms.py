from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField, ValidationError
from wtforms.validators import AnyOf, DataRequired, Length

from webapp.forms import AppForm
from webapp.govfeed.webhook import check_url
from webapp.notify import endpoints

MAX_URL = endpoints.MAX_ENDPOINT_LENGTH

# Why a webhook URL is refused, in the liaison's words.
URL_REFUSED = {
    endpoints.NOT_A_URL: _l("Enter a full address starting with https://, "
                            "without a user name or password."),
    endpoints.NOT_HTTPS: _l("The address must start with https:// (the feed is never sent unencrypted)."),
    endpoints.UNRESOLVABLE: _l("No server answers to this name: check the address."),
    endpoints.NOT_PUBLIC: _l("This address is inside a private network: "
                             "the feed is only sent to public servers."),
}


class TokenForm(AppForm):
    name = StringField(_l("Which system uses it"), validators=[DataRequired(), Length(max=80)])


class RevokeForm(AppForm):
    pass


class WebhookForm(AppForm):
    url = StringField(_l("Address the feed is sent to"), validators=[DataRequired(), Length(max=MAX_URL)])
    enabled = BooleanField(_l("Send the feed to this address"), default=True)

    def validate_url(self, field) -> None:
        try:
            check_url(field.data.strip())
        except endpoints.EndpointRefused as refused:
            message = URL_REFUSED.get(refused.reason, URL_REFUSED[endpoints.NOT_A_URL])
            raise ValidationError(message) from refused


class ConfirmForm(AppForm):
    """A button's POST (remove, new secret, resend): the button says what it does, so a stray or
    empty POST changes nothing."""

    confirm = HiddenField(validators=[AnyOf(["yes"])])
