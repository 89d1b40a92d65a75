"""Make sure a Chromium that Playwright can drive is present (used by `make test`).

Order: the system Chromium (Debian's `chromium`, what CI installs), else a Playwright-managed one.
On a machine without either: as root with apt-get, install Debian's chromium and CJK fonts;
otherwise fall back to `python -m playwright install chromium` (needs internet).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str | None:
    configured = os.environ.get("BEATBOOK_CHROMIUM")
    if configured and Path(configured).exists():
        return configured
    for candidate in SYSTEM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache/ms-playwright"))
    found = sorted(cache.glob("chromium-*/chrome-linux*/chrome"))
    return str(found[-1]) if found else None


def main() -> int:
    if find_chromium():
        return 0
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium", "fonts-noto-cjk"], check=True, env=env
        )
    else:
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)
    if not find_chromium():
        print("No Chromium found after installing one; browser tests cannot run.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
