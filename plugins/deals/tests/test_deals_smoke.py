def test_smoke(register, login_as, portal_world):
    registration = register()
    assert registration.status.value == "submitted"
    client = login_as("partner_user")
    for path in ("/p/deals/", f"/p/deals/{registration.id}", "/p/deals/new", "/", "/p/deals/export.csv"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:3000])
    staff = login_as("channel_manager")
    for path in ("/p/deals/review", f"/p/deals/{registration.id}", "/", "/p/deals/"):
        r = staff.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:3000])
    admin = login_as("vendor_admin")
    for path in ("/p/deals/rules", f"/p/deals/rules/{portal_world.reseller.id}", "/p/deals/products", "/"):
        r = admin.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:3000])
    r = staff.post(f"/p/deals/{registration.id}/approve", data={})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
