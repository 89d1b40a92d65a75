"""Every route says who may use it: walk the URL map; a route without a declared rule fails.

Rules are declared with webapp.access's decorators (`@allow(rule)`, `@public`, `@guards_itself`),
or — for auth's own views — in `DECLARED_ELSEWHERE`.
"""

from __future__ import annotations

from webapp.access import DECLARED_ELSEWHERE


def _rules(app) -> dict[str, str | None]:
    return {rule.endpoint: getattr(app.view_functions[rule.endpoint], "access_rule", None)
            or DECLARED_ELSEWHERE.get(rule.endpoint) for rule in app.url_map.iter_rules()}


def test_every_route_declares_who_may_use_it(app):
    assert [endpoint for endpoint, rule in _rules(app).items() if rule is None] == []


def test_rules_declared_elsewhere_name_real_routes(app):
    assert set(DECLARED_ELSEWHERE) <= {rule.endpoint for rule in app.url_map.iter_rules()}


def test_routes_that_are_not_public_send_strangers_to_sign_in(app_ctx):
    """The declaration is not just a label: a guarded page refuses someone not signed in."""
    client = app_ctx.test_client()
    rules = _rules(app_ctx)
    checked = 0
    for rule in app_ctx.url_map.iter_rules():
        declared = rules[rule.endpoint] or ""  # an undeclared route fails the first test
        if declared.startswith(("public", "inside:")) or rule.arguments or "GET" not in rule.methods:
            continue
        response = client.get(rule.rule)
        assert response.status_code in (302, 303) and "/login" in response.location, rule.endpoint
        checked += 1
    assert checked >= 10
