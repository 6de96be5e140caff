"""`/healthz`: whether this server reaches the database, for a load balancer."""
from tests.conftest import make_app
from tests.servers import free_port


def test_healthz_says_ok_when_the_database_answers(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.get_json() == {"database": "ok"}
    assert reply.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in reply.headers


def test_healthz_says_unreachable_when_postgresql_is_not_there():
    """A PostgreSQL port nothing listens on: 503 within seconds, the same tiny reply."""
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/survey")
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 503 and reply.get_json() == {"database": "unreachable"}
    assert reply.headers["Cache-Control"] == "no-store"

