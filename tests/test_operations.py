"""Health check and request logs."""

import logging


def test_healthz_answers_without_signing_in(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_one_log_line_per_request_without_query_strings(app, caplog):
    with caplog.at_level(logging.INFO, logger="tracore.request"):
        app.test_client().get("/healthz?token=secret-value", headers={"Authorization": "x"})
    lines = [r.getMessage() for r in caplog.records if r.name == "tracore.request"]
    assert len(lines) == 1
    method, path, status, duration = lines[0].split()
    assert (method, path, status) == ("GET", "/healthz", "200")
    assert duration.endswith("ms")
    assert "secret-value" not in caplog.text
