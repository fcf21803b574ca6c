from tests.support.clients import logged_in_client


def test_workspace_dashboard(make_workspace):
    tenant = make_workspace("acme", business_name="Acme")
    response = logged_in_client(tenant).get("/")
    assert response.status_code == 200
    assert b"Acme" in response.content
