"""Form fields every form a phone can make offline shares: its phone-made id and its clock."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.validators import Regexp

UUID_PATTERN = Regexp(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                      message=_l("Not a valid report id."))


class RecordedAtField(HiddenField):
    """The phone's clock when the report was made (ISO 8601); missing means "now"."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = valuelist[0].strip() if valuelist else ""
        if not raw:
            return
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as error:
            raise ValueError(_l("Not a valid time.")) from error
        self.data = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def optional_int(value) -> int | None:
    """A select's value as an id, or None for the empty choice."""
    return int(value) if value not in (None, "", "None") else None
