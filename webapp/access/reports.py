"""Who may read the station's figures, and who may follow a count to the records behind it.

- Supervisors: the whole station, with drill-down links to the filtered lead list.
- Officers: their own communities' leads (no DV or minor leads), with drill-down links.
- The liaison: the whole station's de-identified counts only — never a link to a record.
- A DV or minor count links to records only for people inside that compartment, and never when
  the count is below SMALL_COUNT (a small count next to a community could point at one family).
"""

from __future__ import annotations

from webapp.org.models import Role, User

SMALL_COUNT = 5


def can_see_reports(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.SUPERVISOR, Role.OFFICER, Role.LIAISON)


def can_drill_down(user: User) -> bool:
    """Links from a count to the lead list: for people who work the cases, not the liaison."""
    return user.is_authenticated and user.has_role(Role.SUPERVISOR, Role.OFFICER)


def can_drill_into_flag(user: User, flag: str, count: int) -> bool:
    """A DV ("dv") or minor ("minor") count as a link: inside the compartment and not a small count."""
    if not can_drill_down(user) or count < SMALL_COUNT:
        return False
    if flag == "dv":
        return user.has_role(Role.SUPERVISOR, Role.DV_TEAM)
    if flag == "minor":
        return user.has_role(Role.SUPERVISOR, Role.YOUTH_TEAM)
    return False
