from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.forms import AppForm


class LoginForm(AppForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    # Off by default: a station phone is shared, and the next person must not find the last one
    # still signed in. An officer on their own phone ticks it once per sign-in.
    remember = BooleanField(_l("Keep me signed in on this phone"), default=False)
    next = HiddenField()


class LanguageForm(AppForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class CodeForm(AppForm):
    code = StringField(_l("6-digit code from your authenticator app"),
                       validators=[DataRequired(), Length(min=6, max=8)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})


class PasswordForm(AppForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                        render_kw={"autocomplete": "new-password"})
