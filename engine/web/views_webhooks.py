"""Admin pages: webhook subscriptions, their delivery log, redelivery."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask import session as web_session

import webhooks

from ..errors import Conflict, InvalidInput
from ..services import subscriptions
from . import bp
from .context import database, now
from .i18n import gettext as _
from .session_auth import current_actor, roles


def _render(errors: dict | None = None, values: dict | None = None, status: int = 200, secret=None):
    with database().read() as session:
        subs = subscriptions.list_subscriptions(session, current_actor())
        return render_template(
            "admin_webhooks.html",
            subscriptions=subs,
            event_types=webhooks.EVENT_TYPES,
            errors=errors or {},
            values=values or {},
            new_secret=secret,
        ), status


@bp.route("/admin/webhooks")
@roles("admin")
def admin_webhooks():
    # Post/redirect/get: the new secret rides in the session for exactly one page view.
    return _render(secret=web_session.pop("new_webhook_secret", None))


@bp.route("/admin/webhooks", methods=["POST"])
@roles("admin")
def admin_create_webhook():
    form = request.form
    try:
        with database().write() as session:
            sub, secret = subscriptions.create_subscription(
                session, current_actor(), form.get("url", "").strip(), form.getlist("events"), now()
            )
    except InvalidInput as exc:
        return _render(
            exc.errors, {"url": form.get("url", ""), "events": form.getlist("events")}, 422
        )
    flash(_("订阅已创建，密钥只显示这一次"), "success")
    web_session["new_webhook_secret"] = {"id": sub.id, "secret": secret}
    return redirect(url_for("web.admin_webhooks"))


@bp.route("/admin/webhooks/<int:sub_id>/delete", methods=["POST"])
@roles("admin")
def admin_delete_webhook(sub_id: int):
    with database().write() as session:
        subscriptions.delete_subscription(session, current_actor(), sub_id)
    flash(_("订阅已删除"), "success")
    return redirect(url_for("web.admin_webhooks"))


@bp.route("/admin/webhooks/<int:sub_id>/deliveries")
@roles("admin")
def admin_webhook_deliveries(sub_id: int):
    status = request.args.get("status") or None
    with database().read() as session:
        sub = subscriptions.get_subscription(session, current_actor(), sub_id)
        rows, next_cursor = subscriptions.list_deliveries(
            session, current_actor(), sub_id, status=status, cursor=request.args.get("cursor")
        )
        return render_template(
            "admin_webhook_deliveries.html",
            subscription=sub,
            deliveries=rows,
            status=status,
            next_cursor=next_cursor,
        )


@bp.route("/admin/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@roles("admin")
def admin_redeliver(delivery_id: int):
    try:
        with database().write() as session:
            row = subscriptions.redeliver(session, current_actor(), delivery_id, now())
            sub_id = row.subscription_id
    except Conflict as exc:  # a worker is sending it right now
        flash(exc.detail, "error")
        return redirect(url_for("web.admin_webhooks"))
    flash(_("已重新排队投递"), "success")
    return redirect(url_for("web.admin_webhook_deliveries", sub_id=sub_id))
