"""Files over HTTP, shared by the API and the web pages: upload size limits and downloads.

Flask plumbing, so it lives beside engine.api and engine.web rather than in engine.services
(which stay free of Flask); it imports neither, so both can import it.
"""

from __future__ import annotations

import base64
import io

from flask import Response, current_app, request, send_file

from .models import Attachment

# Room for multipart framing (boundaries, part headers, small text fields) around the files.
MULTIPART_FRAMING = 64 * 1024
# A form that takes files (a start form, a task form) may carry this many files of the
# largest allowed size in one request (the joint completion acceptance asks for four
# documents); each file is still limited on its own.
FILES_PER_REQUEST = 4
# The API's multipart start body is `case` plus file parts: 50 parts is plenty there.
API_FORM_PARTS = 50


def default_max_content_length(max_upload_bytes: int) -> int:
    """The app-wide body limit: one file of the largest allowed size."""
    return max_upload_bytes + MULTIPART_FRAMING


def several_files_allowed(*, max_parts: int | None = API_FORM_PARTS):
    """Mark a view whose request may carry FILES_PER_REQUEST files of the largest size.

    The limit must be in place before anything reads the body, and the web pages read the
    form (for the CSRF token) in a blueprint before_request; so this only marks the view, and
    `apply_upload_limits`, an app-wide before_request that runs first, sets the limit.
    """

    def mark(view):
        view.upload_max_parts = max_parts  # None: keep the app's MAX_FORM_PARTS
        return view

    return mark


def apply_upload_limits() -> None:
    """before_request: raise the body limit of views marked with `several_files_allowed`."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if not hasattr(view, "upload_max_parts"):
        return
    max_upload_bytes = current_app.extensions["pazhou"]["settings"].max_upload_bytes
    # Beside the files, the text parts (the API's `case` JSON, the browser's fields) may take
    # what Flask allows text parts in memory.
    text_parts = current_app.config.get("MAX_FORM_MEMORY_SIZE") or 500_000
    request.max_content_length = (
        FILES_PER_REQUEST * max_upload_bytes + MULTIPART_FRAMING + text_parts
    )
    if view.upload_max_parts is not None:
        request.max_form_parts = view.upload_max_parts


def download(attachment: Attachment) -> Response:
    """The stored file as a download, under its original (possibly Chinese) filename.

    send_file writes Content-Disposition per RFC 6266/5987 (an ASCII fallback plus
    filename*=UTF-8''…) and answers If-None-Match (304) and Range (206) from the ETag.
    """
    response = send_file(
        io.BytesIO(attachment.content),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        etag=attachment.sha256,
        last_modified=attachment.created_at,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    digest = base64.b64encode(bytes.fromhex(attachment.sha256)).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"  # RFC 9530
    response.cache_control.private = True
    return response
