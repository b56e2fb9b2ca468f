"""Starting a case from the browser: pick a procedure, fill its start form, attach files."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..errors import InvalidInput
from ..http_files import several_files_allowed
from ..models import Enterprise
from ..services import cases, deployments, start_files
from . import bp
from .context import database, now, settings
from .formfields import build_fields, field_paths, parse, upload_paths
from .i18n import gettext as _
from .i18n import is_en
from .session_auth import current_actor, roles


@bp.route("/cases/new")
@roles("enterprise", "officer", "admin")
def new_case_index():
    with database().read() as session:
        actor = current_actor()
        startable = [
            d
            for d in deployments.list_definitions(session)
            if d.start_form_key and cases.may_start(actor, d)
        ]
        return render_template("new_case_index.html", definitions=startable)


def _render(key: str, data=None, errors=None, values=None, status: int = 200, reselect=()):
    """The start form; ``reselect``: the field paths whose chosen files a refusal dropped."""
    actor = current_actor()
    errors = errors or {}
    with database().read() as session:
        definition = deployments.get_definition(session, key)
        cases.starting_enterprise(session, actor, None, definition)  # 403 for who may not
        form = deployments.start_form(definition)
        enterprises = (
            []
            if actor.role == "enterprise"
            else list(session.scalars(select(Enterprise).order_by(Enterprise.name)))
        )
        fields = build_fields(form["schema"], data, errors, is_en()) if form else []
        shown = field_paths(fields) | {"project_name", "enterprise_id"}
        return render_template(
            "new_case.html",
            definition=definition,
            form=form,
            fields=fields,
            enterprises=enterprises,
            errors=errors,
            general_errors=[
                message for path, texts in errors.items() if path not in shown for message in texts
            ],
            values=values or {},
            reselect=set(reselect),
        ), status


@bp.route("/cases/new/<key>")
@roles("enterprise", "officer", "admin")
def new_case(key: str):
    return _render(key)


def _posted_files() -> dict[str, list[start_files.UploadedFile]]:
    """The files of the form post by field path (empty file inputs left out)."""
    return {
        path: [
            start_files.UploadedFile(storage.filename, storage.mimetype, storage.read())
            for storage in files
        ]
        for path, files in upload_paths(request.files).items()
    }


@bp.route("/cases/new/<key>", methods=["POST"])
@roles("enterprise", "officer", "admin")
# The same room as POST /api/v1/cases/with-files; the parts stay at the app's default, as a
# browser form posts every field (and every empty file input) as a part.
@several_files_allowed(max_parts=None)
def start_case(key: str):
    """Check the files and the start form, then in one transaction open the case, store its
    files and run it. A refused form writes nothing; it comes back with the typed values and
    all its errors next to the fields, its file inputs empty (files must be chosen again)."""
    actor = current_actor()
    at = now()
    project_name = request.form.get("project_name", "")
    enterprise = request.form.get("enterprise_id") or None
    enterprise_id = int(enterprise) if enterprise and enterprise.isdigit() else None
    values = {"project_name": project_name, "enterprise_id": enterprise}
    posted = _posted_files()
    data: dict = {}
    try:
        # Who may start for whom is said first; then the name, the files and the form are
        # checked together, before the write transaction (the database is not held meanwhile).
        with database().read() as session:
            definition = deployments.get_definition(session, key)
            form = deployments.start_form(definition)
            enterprise_id = cases.starting_enterprise(session, actor, enterprise_id, definition)
        schema = form["schema"] if form else {"type": "object", "properties": {}}
        # What the form shows again if refused: no file, as a refusal keeps none.
        data = parse(schema, request.form, {})
        checked, refused = start_files.check_uploads(posted, settings().max_upload_bytes)
        uploaded = {path: [upload.id for upload in files] for path, files in checked.items()}
        filled = parse(schema, request.form, uploaded)
        file_ids = [file_id for ids in uploaded.values() for file_id in ids]
        cases.validate_start_files(
            definition.start_form_key,
            filled,
            file_ids,
            project_name=project_name,
            refused_files=refused,
            locale="en" if is_en() else "zh-CN",
        )
        with database().write() as session:
            # the version just validated against, even if a newer one was deployed meanwhile
            definition = deployments.get_definition(session, key, definition.version)
            case = start_files.open_with_files(
                session, actor, definition, project_name, filled, checked, at, enterprise_id
            )
            case_number = case.case_number
    except InvalidInput as exc:
        flash(_("表单有错误，请修改后重新提交"), "error")
        if posted:
            flash(_("所选文件未保存（表单退回时不保留任何文件），请重新选择文件后再提交"), "error")
        return _render(key, data, dict(exc.errors), values, 422, reselect=posted)
    flash(_("申请已提交"), "success")
    return redirect(url_for("web.case_page", ref=case_number))
