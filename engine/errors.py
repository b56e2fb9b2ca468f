"""Domain errors: values with meaning, mapped to HTTP status codes in one place (engine/api)."""

from __future__ import annotations


class PazhouError(Exception):
    status = 400
    title = "请求无效 Bad request"

    def __init__(self, detail: str = "", errors: dict[str, list[str]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or {}


class NotFound(PazhouError):
    status = 404
    title = "未找到 Not found"


class Forbidden(PazhouError):
    status = 403
    title = "无权操作 Forbidden"


class Unauthorized(PazhouError):
    status = 401
    title = "未认证 Unauthorized"


class Conflict(PazhouError):
    status = 409
    title = "状态冲突 Conflict"


class TaskNotReady(Conflict):
    """The task was completed, cancelled, or the case moved on."""

    title = "任务已不可办理 Task is no longer open"


class InvalidInput(PazhouError):
    status = 422
    title = "输入无效 Invalid input"


class InvalidDefinition(InvalidInput):
    title = "流程定义无效 Invalid process definition"


class ScriptError(PazhouError):
    """A script, condition or expression failed or broke the sandbox rules."""

    status = 422
    title = "脚本执行失败 Script failed"
