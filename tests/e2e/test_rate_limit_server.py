"""Black box: a real server (the live server thread, real HTTP) under the global limit of 100 requests per
client address per 15 minutes."""

import pytest
import requests

from tests.support.browser import in_thread


@pytest.fixture
def limited_server(live_server_url, settings, clock_still):
    settings.RATE_LIMIT_GLOBAL = "100/15m"
    return live_server_url


def test_the_101st_request_from_one_address_gets_429_with_retry_after_and_static_files_still_answer(
    limited_server, make_committed_workspace
):
    in_thread(make_committed_workspace, "busy")
    host = limited_server.removeprefix("http://")
    port = host.split(":")[1]
    session = requests.Session()
    answers = []
    for n in range(100):
        page = "/terms/" if n % 2 else "/"
        answers.append(session.get(f"http://127.0.0.1:{port}{page}", headers={"Host": host}, timeout=10).status_code)
    workspace = session.get(f"http://127.0.0.1:{port}/login/", headers={"Host": f"busy.{host}"}, timeout=10)
    assert set(answers) == {200}
    assert workspace.status_code == 429  # the 101st, on another host: the limit is per client, not per host
    assert int(workspace.headers["Retry-After"]) > 0
    assert "Too many attempts" in workspace.text
    api = session.get(f"http://127.0.0.1:{port}/api/v1/me", headers={"Host": f"busy.{host}"}, timeout=10)
    assert api.status_code == 429 and api.json()["error"] == "too_many_requests"
    static = session.get(f"http://127.0.0.1:{port}/static/css/portal.css", headers={"Host": host}, timeout=10)
    assert static.status_code == 200
