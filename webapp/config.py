"""Configuration from the environment (a `.env` file is read when present).

Every setting has a working default for the embedded station (`make run`): SQLite in `instance/`,
secrets generated into `instance/` on first start. At scale, set DATABASE_URL, SECRET_KEY,
REDIS_URL, BEATBOOK_SEAL_PRIVATE_KEY and VAPID_* in the environment of every node so they all agree
(docs/architecture.md, "Several nodes").
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

# The browsers' push services (Chrome/Edge via FCM, Firefox, Windows, Safari): "name" is that host,
# "*.domain" any host under the domain.
DEFAULT_PUSH_HOSTS = ("fcm.googleapis.com,updates.push.services.mozilla.com,*.notify.windows.com,"
                      "web.push.apple.com,*.push.apple.com")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path, filename: str) -> str:
    """Read a secret kept in `instance/`, creating it on first start (one machine only)."""
    path = instance_path / filename
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when several gunicorn workers start together, exactly one writes the secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'beatbook.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    remember_days = _int("BEATBOOK_REMEMBER_DAYS", 30)
    # Served over TLS (directly or behind a proxy that terminates it): Secure cookies and HSTS.
    https = _bool("BEATBOOK_HTTPS", False) or _bool("BEATBOOK_SECURE_COOKIES", False)
    secure_cookies = https
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance_path, "secret_key"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Sessions must survive a whole patrol on a phone: "remember me" keeps it signed in.
        "REMEMBER_COOKIE_DURATION": timedelta(days=remember_days),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        # Not refreshed on every request: that rewrote the session cookie on every static file
        # and worker request. A phone stays signed in for the configured days from sign-in.
        "REMEMBER_COOKIE_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=remember_days),
        # Long enough for a form filled offline on patrol and sent when the phone is back in signal
        # (the outbox asks for a fresh token when an old one is refused).
        "WTF_CSRF_TIME_LIMIT": _int("BEATBOOK_CSRF_HOURS", 12) * 3600,
        "BEATBOOK_HTTPS": https,
        # Reverse proxies in front that append to X-Forwarded-For/-Proto (0: none, trust neither):
        # sign-in throttling and the audit log must see the phone's address, not the proxy's.
        "BEATBOOK_PROXIES": _int("BEATBOOK_PROXIES", 0),
        # Exports with more rows than this are prepared by a job (progress page, inbox link).
        "BEATBOOK_EXPORT_INLINE_ROWS": _int("BEATBOOK_EXPORT_INLINE_ROWS", 2000),
        # Supervisors and admins are signed out after this long without a request (phones of
        # other roles stay signed in for the patrol: BEATBOOK_REMEMBER_DAYS).
        "BEATBOOK_IDLE_MINUTES": _int("BEATBOOK_IDLE_MINUTES", 30),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BEATBOOK_LOCALES": ("zh_CN", "en"),
        "BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT": _int("BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "BEATBOOK_LOGIN_MAX_FAILURES_PER_ADDRESS": _int("BEATBOOK_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "BEATBOOK_LOGIN_THROTTLE_MINUTES": _int("BEATBOOK_LOGIN_THROTTLE_MINUTES", 15),
        "BEATBOOK_PASSWORD_METHOD": os.environ.get("BEATBOOK_PASSWORD_METHOD", "scrypt"),
        "BEATBOOK_DEMO_PASSWORD": os.environ.get("BEATBOOK_DEMO_PASSWORD", "beatbook-demo"),
        # Pages go out compressed; static files are pre-compressed in webapp/assets.py.
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_STREAMS": False,
        "COMPRESS_MIN_SIZE": 512,
        # Brotli 5, not Flask-Compress's 4: pages 7-8% smaller (an 8.7 KB home 3,481 → 3,221 bytes) for
        # the same ~0.1-0.2 ms; 7 and up cost more CPU per page for little (bench/README.md).
        "COMPRESS_BR_LEVEL": 5,
        # Pages carry no validator (files answer their own conditional requests): the check would
        # only add a second Date header to every page.
        "COMPRESS_EVALUATE_CONDITIONAL_REQUEST": False,
        # Handling deadline per risk grade: hours are exact, days end at midnight in Shanghai.
        "BEATBOOK_DEADLINES": os.environ.get("BEATBOOK_DEADLINES", "red=24h,orange=5d,yellow=30d,blue=30d"),
        # An assignment not accepted within this time escalates to the supervisors (red sooner).
        # Follow-up visits (查访) after a DV warning letter: days after the issue.
        "BEATBOOK_DV_FOLLOWUP_DAYS": os.environ.get("BEATBOOK_DV_FOLLOWUP_DAYS", "7,30,90"),
        "BEATBOOK_ESCALATE_MINUTES": _int("BEATBOOK_ESCALATE_MINUTES", 240),
        "BEATBOOK_ESCALATE_RED_MINUTES": _int("BEATBOOK_ESCALATE_RED_MINUTES", 30),
        # A dispatch offer (调解员随警出动) nobody answers in this time passes to the next on duty.
        "BEATBOOK_DISPATCH_TIMEOUT_MINUTES": _int("BEATBOOK_DISPATCH_TIMEOUT_MINUTES", 5),
        # Web Push goes only to these hosts, over https, at public addresses (webapp/notify/endpoints.py).
        "BEATBOOK_PUSH_HOSTS": os.environ.get("BEATBOOK_PUSH_HOSTS", DEFAULT_PUSH_HOSTS),
        # Tests and benchmarks only: also http and loopback, for their local push service.
        "BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL": _bool("BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL", False),
        # The audit chain's head is copied here every sweep, outside the database (webapp/audit/
        # anchors.py); at scale, a path on the worker's disk that database admins cannot write.
        "BEATBOOK_AUDIT_ANCHORS": os.environ.get("BEATBOOK_AUDIT_ANCHORS",
                                                 str(instance_path / "audit-anchors.jsonl")),
        "BEATBOOK_MAX_PHOTO_MB": _int("BEATBOOK_MAX_PHOTO_MB", 10),
        # Return visits (回访): due at the end of the station's day this many days after a lead is
        # resolved (or failed, or transferred); an unreachable household is tried again next day.
        "BEATBOOK_RETURN_VISIT_DAYS": _int("BEATBOOK_RETURN_VISIT_DAYS", 7),
        # The public online-acceptance page (网上受理): submissions and wrong case codes per
        # address and for everyone together, counted over the window (then each waits longer).
        "BEATBOOK_RESIDENT_SUBMISSIONS_PER_ADDRESS": _int("BEATBOOK_RESIDENT_SUBMISSIONS_PER_ADDRESS", 5),
        "BEATBOOK_RESIDENT_SUBMISSIONS_TOTAL": _int("BEATBOOK_RESIDENT_SUBMISSIONS_TOTAL", 300),
        "BEATBOOK_RESIDENT_CODE_GUESSES_PER_ADDRESS": _int("BEATBOOK_RESIDENT_CODE_GUESSES_PER_ADDRESS", 10),
        "BEATBOOK_RESIDENT_CODE_GUESSES_TOTAL": _int("BEATBOOK_RESIDENT_CODE_GUESSES_TOTAL", 500),
        "BEATBOOK_RESIDENT_THROTTLE_MINUTES": _int("BEATBOOK_RESIDENT_THROTTLE_MINUTES", 60),
        # Above the photo cap, so an oversized photo gets the form's clear 422, not a bare 413.
        "MAX_CONTENT_LENGTH": _int("BEATBOOK_MAX_REQUEST_MB", 48) * 1024 * 1024,
    }
