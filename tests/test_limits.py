"""Rate limits on sign-in and join-code guessing; shared through Redis between workers."""
import uuid

import redis

from tests.conftest import csrf_token

REDIS = "redis://127.0.0.1:6379/15"


def wrong_codes(client, n):
    page = client.get("/")
    return [client.post("/", data={"csrf_token": csrf_token(page.text), "code": "QQQ777"})
            .status_code for _ in range(n)]


def test_join_code_guessing_is_limited_but_right_codes_never_count(app, client, setup):
    assert all(client.get(f"/s/{setup['pre']}").status_code == 200 for _ in range(30))
    token = csrf_token(client.get("/").text)
    assert set(wrong_codes(client, 20)) == {200}
    blocked = client.post("/", data={"csrf_token": token, "code": setup["pre"]})
    assert blocked.status_code == 429
    assert "Too many wrong codes from this network" in blocked.text
    assert client.get("/s/QQQ777").status_code == 429  # links count against the same limit


def test_failed_sign_ins_are_limited(app, client, auth, setup):
    for _ in range(3):
        assert auth.login(setup["trainer_email"]).status_code == 302  # successes never count
        auth.logout()
    for _ in range(10):
        assert auth.login(setup["trainer_email"], "wrong").status_code == 200
    reply = auth.login(setup["trainer_email"])
    assert reply.status_code == 429 and "Too many failed sign-ins" in reply.text


def test_limits_are_per_client(app, setup):
    one, two = app.test_client(), app.test_client()
    two.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    wrong_codes(one, 20)
    assert one.get("/s/QQQ777").status_code == 429
    assert two.get("/s/QQQ777").status_code == 404


def test_gunicorn_workers_share_limits_through_redis_which_never_holds_an_address(tmp_path):
    """Four real workers: with counters in each worker's memory, 24 wrong codes spread over
    them would never reach 20 in one; shared through Redis, the 21st is refused."""
    from flask_migrate import upgrade

    from tests.conftest import fresh_database
    from tests.servers import Browser, free_port, gunicorn
    server = redis.Redis.from_url(REDIS)
    server.ping()  # Redis is a real part of the deployment: it must be running here
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    with fresh_database(url, create_tables=False) as app:
        with app.app_context():
            upgrade()
        port = free_port()
        prefix = f"test-{uuid.uuid4().hex}"
        try:
            with gunicorn(url, port, workers=4, REDIS_URL=REDIS, RATELIMIT_KEY_PREFIX=prefix):
                statuses = [Browser(port).request("GET", "/s/QQQ777")[0] for _ in range(24)]
            assert statuses[:20] == [404] * 20 and set(statuses[20:]) == {429}
            keys = [k.decode() for k in server.keys(f"*{prefix}*")]
            assert keys and not [k for k in keys if "127.0.0.1" in k]
        finally:
            for key in server.keys(f"*{prefix}*"):
                server.delete(key)
