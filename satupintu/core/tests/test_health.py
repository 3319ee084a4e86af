def test_health_answers_without_the_database(client):
    r = client.get("/api/v1/health")  # no django_db mark: any query would raise here
    assert r.status_code == 200 and r.json() == {"status": "ok"}
