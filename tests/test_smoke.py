def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Log in" in response.data


def test_partner_logs_in_and_sees_home(client, world):
    client.login(world.user_a)
    response = client.get("/")
    assert response.status_code == 200
    assert world.user_a.name.encode() in response.data
