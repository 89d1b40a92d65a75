"""The audit log: every view of a sensitive record, every sign-in and every role or password change
leaves a hash-chained entry; supervisors read it at /audit/."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
