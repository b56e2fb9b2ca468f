"""A case's files: upload, list, download. Routes of the `cases` blueprint, kept apart.

Visibility is the case's (services.attachments reads through cases.get_case): staff see every
case's files, an enterprise only its own cases' files; anything else is 404.
"""

from __future__ import annotations

from flask import request

from .. import http_files
from ..models import Attachment
from ..services import attachments
from .cases import blp
from .context import current_actor, database, now, settings
from .errors import documents
from .schemas.cases import BINARY, AttachmentListSchema, AttachmentSchema, AttachmentUploadSchema

# A download carries the type stored at upload: the generic one or that of an allowed file.
DOWNLOAD_TYPES = sorted({attachments.OCTET} | {row[0] for row in attachments.ALLOWED.values()})
DOWNLOAD_DOC = {
    "description": (
        "The file's bytes with the Content-Type stored at upload; `Content-Disposition: "
        "attachment` names the original file (RFC 6266, `filename*` for non-ASCII names); "
        "`ETag` is its sha256 (If-None-Match gives 304) and `Repr-Digest` its RFC 9530 digest."
    ),
    "content": {kind: {"schema": BINARY} for kind in DOWNLOAD_TYPES},
}

# A download resumes with Range (206) and revalidates with If-None-Match (304).
PARTIAL_DOC = {
    "description": (
        "The requested byte range (`Range: bytes=first-last`) of the file; `Content-Range` "
        "says which bytes of how many."
    ),
    "content": {kind: {"schema": BINARY} for kind in DOWNLOAD_TYPES},
}
NOT_MODIFIED_DOC = {
    "description": "The client's copy (`If-None-Match` its ETag) is current; no body."
}


def attachment_payload(row: Attachment) -> dict:
    return {
        "id": row.id,
        "filename": row.filename,
        "size": row.size,
        "content_type": row.content_type,
        "sha256": row.sha256,
        "created_at": row.created_at,
        "uploaded_by": row.uploaded_by,
    }


@blp.route("/cases/<ref:ref>/attachments", methods=["POST"])
@blp.arguments(AttachmentUploadSchema, location="files")
@blp.response(201, AttachmentSchema)
@documents(blp, 401, 404, 409, 413, 422)
def upload_attachment(args, ref):
    """Attach a file (pdf, png, jpeg, docx, xlsx, dwg, ifc, zip) to a running case."""
    upload = args["file"]
    content = upload.read()
    with database().write() as session:
        attachment = attachments.add_attachment(
            session,
            current_actor(),
            ref,
            upload.filename or "",
            upload.mimetype or request.mimetype,
            content,
            now(),
            max_bytes=settings().max_upload_bytes,
        )
        return attachment_payload(attachment)


@blp.route("/cases/<ref:ref>/attachments")
@blp.response(200, AttachmentListSchema)
@documents(blp, 401, 404)
def list_attachments(ref):
    """The case's files, oldest first (metadata only; download each by its id)."""
    with database().read() as session:
        rows = attachments.list_attachments(session, current_actor(), ref)
        return {"items": [attachment_payload(row) for row in rows]}


@blp.route("/cases/<ref:ref>/attachments/<ref:attachment_id>")
@blp.response(200, BINARY, content_type=attachments.OCTET)
@blp.doc(responses={"200": DOWNLOAD_DOC, "206": PARTIAL_DOC, "304": NOT_MODIFIED_DOC})
@documents(blp, 401, 404, 416)
def download_attachment(ref, attachment_id):
    """Download one file of the case; an id of another case's file is 404."""
    with database().read() as session:
        row = attachments.get_attachment(session, current_actor(), ref, attachment_id)
        return http_files.download(row)
