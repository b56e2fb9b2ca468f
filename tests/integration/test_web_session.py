"""Logging out of the web app ends the session's token, not just the cookie."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.models import ApiToken


def test_logout_revokes_the_token(app, factory):
    client, csrf = factory.web_login(factory.user("officer", "fire"))
    with client.session_transaction() as web_session:
        token = web_session["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=True)
    assert "您已退出登录" in response.get_data(as_text=True)

    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/inbox").status_code in (302, 401)
    db = app.extensions["pazhou"]["db"]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_case_address_no_database_can_compare_is_a_plain_not_found(app, factory):
    """A NUL or a 101-character case reference: PostgreSQL refuses to compare NUL in text,
    so such addresses must be turned away before any query (404 page, not a server error)."""
    client, _ = factory.web_login(factory.user("officer", "fire"))
    for ref in ("%00", "HZ-%00", "x" * 101):
        for suffix in ("", "/diagram.json", "/attachments/abc"):
            response = client.get(f"/cases/{ref}{suffix}")
            assert response.status_code == 404, (ref, suffix, response.status_code)


def test_redelivering_a_delivery_being_sent_says_so_on_the_admin_page(app, factory, now):
    from tests.factories import delivery_being_sent

    db = app.extensions["pazhou"]["db"]
    # claimed on the real clock the admin page uses, for ten minutes
    delivery_id = delivery_being_sent(db, now, datetime.now(UTC), lease_seconds=600)
    client, csrf = factory.web_login(factory.user("admin"))
    response = client.post(
        f"/admin/webhooks/deliveries/{delivery_id}/redeliver",
        data={"csrf_token": csrf},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "正在投递，请稍后再试" in response.get_data(as_text=True)


def test_error_pages_speak_the_page_language_only(app, factory):
    """Service messages carry both languages ("案件不存在 (no such case)"); a page shows one."""
    client, _ = factory.web_login(factory.user("officer", "fire"))
    chinese = client.get("/cases/HZ-2099-999999").get_data(as_text=True)
    assert "404 · 未找到" in chinese and "案件不存在" in chinese
    assert "Not found" not in chinese and "no such case" not in chinese

    english = client.get("/cases/HZ-2099-999999?lang=en").get_data(as_text=True)
    assert "404 · Not found" in english and "<p>No such case</p>" in english
    assert "未找到" not in english and "案件不存在" not in english
