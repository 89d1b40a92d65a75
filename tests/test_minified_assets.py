"""Scripts and styles reach phones minified (webapp/assets.py `minified`): smaller than written, and
still valid — every served script is parsed by Node, so a minifier that broke a template literal or a
regular expression fails here, before a phone runs it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")


def _scripts(client) -> dict[str, tuple[str, Path | None]]:
    """Every script a page or the worker loads: URL → (served text, its source file if it has one)."""
    html = client.get("/login").get_data(as_text=True)
    found = {}
    for url in re.findall(r'<script[^>]+src="([^"]+)"', html):
        path = url.split("?")[0]
        source = ROOT / ("static" + path.removeprefix("/static") if path.startswith("/static/")
                         else "offline" + path.removeprefix("/offline"))
        found[url] = (client.get(url).get_data(as_text=True), source)
    found["/sw.js"] = (client.get("/sw.js").get_data(as_text=True), None)
    return found


def test_every_served_script_parses_and_ours_lose_their_comments(client, tmp_path):
    assert NODE, "Node.js is needed (make assets installs the front-end libraries with it)"
    scripts = _scripts(client)
    assert {"/sw.js"} < set(scripts) and any("offline.js" in url for url in scripts)
    for index, (url, (served, source)) in enumerate(scripts.items()):
        checked = tmp_path / f"script{index}.js"
        checked.write_text(served)
        result = subprocess.run([NODE, "--check", str(checked)], capture_output=True, text=True)
        assert result.returncode == 0, f"{url} does not parse as served:\n{result.stderr}"
        if source is not None and not source.name.endswith(".min.js"):
            written = source.read_text()
            assert len(served) < 0.85 * len(written), url
            assert "// " not in served.replace("://", ""), f"{url} still carries comments"


@pytest.mark.parametrize("path", ["/static/css/app.css"])
def test_styles_are_minified(client, path):
    served = client.get(path).get_data(as_text=True)
    written = (ROOT / "static" / path.removeprefix("/static/")).read_text()
    assert "/*" not in served and len(served) < len(written)
