"""Every page, for every role that looks at it, made for a thumb on a phone, in both languages.

For each (page, role) of tests/test_page_shapes.py's PAGES — so a new page is checked as soon as it
is listed there — plus the pages anyone reaches without signing in, at a 412×915 phone viewport:
- every visible control offers a tappable box of at least 44×44 CSS px (its own, or that of the
  label, link or button around it);
- nothing scrolls sideways;
- axe-core finds no `serious` or `critical` violation.

Cost: one server and one browser (the session's), one signed-in phone per role reused for all its
pages; the language is the `lang` cookie the language switch sets, so nobody's saved choice changes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.browser.conftest import REPO_ROOT, sign_in
from tests.test_page_shapes import PAGES, page_ids

AXE_SOURCE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
MIN_TARGET = 44  # CSS px: platform guidance for a thumb (WCAG 2.5.5), stricter than 2.5.8's 24
LANGUAGES = ("zh_CN", "en")
PHONE = {
    "viewport": {"width": 412, "height": 915},
    "screen": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
}
# Pages anyone can open without signing in, besides PAGES' own anonymous entries.
ANONYMOUS_EXTRA = ["/no-such-page"]  # the error page a mistyped link shows

# Finds controls whose tappable box is too small. A control's tappable box is its own, or that
# of a label, link, button or summary around it (a checkbox inside a 44 px label row), or for a
# checkbox or radio button, its own box joined with its <label for> beside it.
# The one exemption — WCAG 2.5.8's inline exception — is a link inside running text: an inline
# link in a paragraph that has at least INLINE_TEXT characters of its own words around it.
SMALL_TARGETS_JS = """
([minSize, inlineText]) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
                 + ' [role=button], label:has(> input[type=checkbox]), label:has(> input[type=radio])';
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && el.getClientRects().length > 0;
  };
  const inRunningText = (el) => {
    if (el.localName !== 'a' || getComputedStyle(el).display !== 'inline') return false;
    const sentence = el.closest('p');
    if (!sentence) return false;
    let ownText = sentence.textContent;
    for (const link of sentence.querySelectorAll('a')) ownText = ownText.replace(link.textContent, '');
    return ownText.replace(/\\s+/g, '').length >= inlineText;
  };
  const describe = (el) => {
    let path = el.localName;
    if (el.id) return path + '#' + el.id;
    if (el.getAttribute('class')) path += '.' + el.getAttribute('class').trim().split(/\\s+/).join('.');
    const parent = el.parentElement;
    if (parent) {
      let up = parent.localName;
      if (parent.id) up += '#' + parent.id;
      else if (parent.getAttribute('class')) up += '.' + parent.getAttribute('class').trim().split(/\\s+/)[0];
      path = up + ' > ' + path;
    }
    return path;
  };
  const offenders = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!visible(el) || inRunningText(el)) continue;
    let best = el.getBoundingClientRect();
    // A checkbox or radio button next to its own label (<label for>) is tapped through the label too.
    for (const label of (/^(checkbox|radio)$/.test(el.type) && el.labels) || []) {
      const box = label.getBoundingClientRect();
      const left = Math.min(best.left, box.left), top = Math.min(best.top, box.top);
      const union = new DOMRect(left, top, Math.max(best.right, box.right) - left,
                                Math.max(best.bottom, box.bottom) - top);
      if (union.width >= best.width && union.height >= best.height) best = union;
    }
    for (let around = el.parentElement?.closest('label, a[href], button, summary'); around;
         around = around.parentElement?.closest('label, a[href], button, summary')) {
      const box = around.getBoundingClientRect();
      if (box.width >= best.width && box.height >= best.height) best = box;
    }
    if (best.width + 0.5 < minSize || best.height + 0.5 < minSize) {
      const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '')
        .replace(/\\s+/g, ' ').trim().slice(0, 40);
      offenders.push(`${describe(el)} "${text}" ${Math.round(best.width)}×${Math.round(best.height)}`);
    }
  }
  return offenders;
}
"""
INLINE_TEXT = 12  # characters of a paragraph's own words that make a link part of a sentence

SIDEWAYS_JS = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"

AXE_RUN_JS = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
  }));
}
"""


def _pages() -> list[tuple[str | None, str, object]]:
    """(role, endpoint, path builder) for every page to check."""
    pages = [(role, endpoint, path_for) for endpoint, role, path_for in PAGES]
    pages += [(None, "(anonymous)", lambda ids, path=path: path) for path in ANONYMOUS_EXTRA]
    return pages


def _roles() -> list[str | None]:
    return list(dict.fromkeys(role for role, _, _ in _pages()))


@pytest.fixture(scope="module")
def record_ids(live_server):
    """PAGES' ids, read (and completed) in the live server's own demo database."""
    from webapp import create_app
    from webapp.extensions import db

    with pytest.MonkeyPatch.context() as env:
        for name in ("DATABASE_URL", "BEATBOOK_INSTANCE_PATH", "SECRET_KEY", "REDIS_URL"):
            env.setenv(name, live_server.env[name])
        app = create_app()
        with app.app_context():
            ids = page_ids()
            db.session.remove()
            db.engine.dispose()
    return ids


@pytest.fixture(scope="module")
def phones(browser, live_server):
    """One signed-in phone (browser context + page) per role, opened on first use."""
    contexts, pages = [], {}

    def phone_for(role: str | None):
        if role not in pages:
            context = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                          base_url=live_server.url)
            context.set_default_timeout(15_000)
            contexts.append(context)
            page = context.new_page()
            if role:
                assert sign_in(page, role, remember=False).ok, f"{role} could not sign in"
            pages[role] = page
        return pages[role]

    try:
        yield phone_for
    finally:
        for context in contexts:
            context.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    assert AXE_SOURCE.exists(), f"{AXE_SOURCE} is missing: run `make assets` (npm ci)"
    return AXE_SOURCE.read_text()


def _use_language(page, live_server, language: str) -> None:
    """The cookie the language switch sets (the demo people have no saved choice of their own)."""
    page.context.add_cookies([{"name": "lang", "value": language, "url": live_server.url}])


def _check_page(page, axe_source: str, url: str) -> tuple[list[str], Counter]:
    """Problems on one page and its axe counts per impact."""
    response = page.goto(url)
    problems = []
    if response is None or response.status >= 500:
        return [f"answered {response and response.status}"], Counter()
    page.wait_for_load_state("load")
    for offender in page.evaluate(SMALL_TARGETS_JS, [MIN_TARGET, INLINE_TEXT]):
        problems.append(f"small target: {offender}")
    # Against the phone's width, not innerWidth: a mobile browser widens its layout viewport to
    # content that overflows (and shows the page zoomed out), so the two always agree.
    scroll_width, _inner_width = page.evaluate(SIDEWAYS_JS)
    phone_width = PHONE["viewport"]["width"]
    if scroll_width > phone_width:
        problems.append(f"scrolls sideways: {scroll_width} px wide on a {phone_width} px phone")
    # Injected through the DevTools protocol, not a <script>: the app's CSP stays as it is.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    impacts = Counter()
    for violation in page.evaluate(AXE_RUN_JS):
        impacts[violation["impact"]] += 1
        if violation["impact"] in ("serious", "critical"):
            problems.append(f"axe {violation['impact']} {violation['id']}: {violation['help']} "
                            f"at {'; '.join(violation['nodes'])}")
    return problems, impacts


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", _roles(), ids=lambda role: role or "anonymous")
def test_every_page_fits_a_thumb_and_passes_axe(phones, live_server, record_ids, axe_source,
                                                role, language, artifacts_dir):
    page = phones(role)
    _use_language(page, live_server, language)
    failures, impacts, checked = {}, Counter(), 0
    for page_role, endpoint, path_for in _pages():
        if page_role != role:
            continue
        url = path_for(record_ids)
        problems, page_impacts = _check_page(page, axe_source, url)
        checked += 1
        impacts += page_impacts
        if problems:
            failures[f"{endpoint} {url}"] = problems
    lang = page.evaluate("() => document.documentElement.lang")
    assert lang == ("zh-CN" if language == "zh_CN" else "en"), f"the pages were in {lang}"
    print(f"{role or 'anonymous'} [{language}]: {checked} pages; axe violations by impact: "
          f"{dict(sorted(impacts.items()))}")
    Path(artifacts_dir / "problems.json").write_text(json.dumps(failures, ensure_ascii=False, indent=1))
    count = sum(len(problems) for problems in failures.values())
    report = "\n".join(f"{where}\n  " + "\n  ".join(problems) for where, problems in failures.items())
    assert not failures, f"{count} problems on {len(failures)} of {checked} pages:\n{report}"
