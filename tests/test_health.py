def test_healthz_reports_database_and_job_queue(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "ok"
    assert data["database"] == {"ok": True, "engine": app.extensions["sqlalchemy"].engine.dialect.name}
    assert data["jobs"]["ok"] is True
    assert data["jobs"]["backend"] == "sqlite"
    assert isinstance(data["jobs"]["pending"], int)


def test_healthz_says_unavailable_when_the_database_is_gone(app):
    """A node whose database cannot be reached must say so (503), not claim health."""
    from webapp import create_app

    broken = create_app({"TESTING": True, "SECRET_KEY": "x",
                         "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent-dir/beatbook.db"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    data = response.get_json()
    assert data["status"] == "unavailable"
    assert data["database"]["ok"] is False
