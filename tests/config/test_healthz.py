def test_healthz_reports_database_redis_and_worker(live_db, celery_worker, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": True, "redis": True, "worker": True},
    }


def test_healthz_without_a_worker_is_degraded(db, client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["database"] is True and body["checks"]["redis"] is True
    assert body["checks"]["worker"] is False
