"""Locale selection (Flask-Babel) and the English catalogue of the web UI.

Chinese is the source language: templates write `_("待办任务")`; English comes from CATALOGUE_EN.
A Python dict instead of .po/.mo files, so no compile step is needed by `make run`.
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import Babel, get_locale

from . import bp

LOCALES = ("zh", "en")
COOKIE = "pazhou_lang"

CATALOGUE_EN: dict[str, str | tuple[str, str]] = {
    "琶洲工作流": "Pazhou Flow",
    "待办任务": "Inbox",
    "我的案件": "My cases",
    "案件": "Cases",
    "流程建模": "Modeler",
    "用户管理": "Users",
    "Webhook 订阅": "Webhooks",
    "发起申请": "New application",
    "暂无可发起的流程": "No procedure to start",
    "提交申请": "Submit application",
    "申请已提交": "Application submitted",
    "订阅地址": "URL",
    "事件类型": "Event types",
    "新建订阅": "New subscription",
    "订阅已创建，密钥只显示这一次": "Subscription created; the secret is shown only this once",
    "签名密钥（只显示一次）": "Signing secret (shown once)",
    "订阅已删除": "Subscription deleted",
    "投递记录": "Deliveries",
    "已重新排队投递": "Queued for redelivery",
    "重新投递": "Redeliver",
    "尝试次数": "Attempts",
    "响应码": "HTTP status",
    "耗时": "Latency",
    "错误": "Error",
    "事件": "Event",
    "暂无订阅": "No subscriptions",
    "暂无投递": "No deliveries",
    "时间": "Time",
    "待投递": "Pending",
    "已投递": "Delivered",
    "已失败": "Failed",
    "登录": "Log in",
    "退出": "Log out",
    "您已退出登录": "You have logged out",
    "用户名": "Username",
    "密码": "Password",
    "请登录": "Please log in",
    "部门": "Department",
    "状态": "Status",
    "全部": "All",
    "待认领": "Unclaimed",
    "已认领": "Claimed",
    "已办结": "Completed",
    "已取消": "Cancelled",
    "只看我的": "Mine only",
    "搜索案件编号或项目名称": "Search case number or project",
    "搜索": "Search",
    "筛选": "Filter",
    "案件编号": "Case no.",
    "项目": "Project",
    "项目名称": "Project name",
    "任务": "Task",
    "办理人": "Assignee",
    "收件时间": "Received",
    "办理期限": "Due",
    "等待企业，计时暂停": "Waiting on the enterprise: clock paused",
    "认领": "Claim",
    "办理": "Open",
    "下一页": "Next page",
    "没有待办任务": "No open tasks",
    "已超期": "Overdue",
    "天": "days",
    "无法定时限": "No legal limit",
    "提交": "Submit",
    "办结": "Complete",
    "请修正以下错误": "Please correct the errors below",
    "表单有错误，请修改后重新提交": "The form has errors; correct them and submit again",
    "任务已办结": "Task completed",
    "任务已认领": "Task claimed",
    "是": "Yes",
    "否": "No",
    "请选择": "Choose…",
    "每行一项": "One item per line",
    "添加一行": "Add a row",
    # A field required only under a condition (engine/web/formfields.py builds the hint).
    "条件必填": "Required under a condition",
    "（%(conditions)s必填）": "(required %(conditions)s)",
    "当%(condition)s时": "when %(condition)s",
    "除%(condition)s外": "unless %(condition)s",
    "，或": "; or ",
    "且": " and ",
    "“%(field)s”为“%(value)s”": "“%(field)s” is “%(value)s”",
    "”或“": "” or “",
    "“%(field)s”已填写": "“%(field)s” is filled in",
    "（视其他填写内容可能必填）": "(may be required, depending on other answers)",
    "删除": "Remove",
    "已上传": "Uploaded",
    "未知附件": "Unknown attachment",
    "文件未保存，请重新选择": "File not kept: choose it again",
    "所选文件未保存（表单退回时不保留任何文件），请重新选择文件后再提交": (
        "The chosen files were not kept (a returned form keeps no file): "
        "choose them again before submitting"
    ),
    "上传文件": "Upload file",
    "案件信息": "Case",
    "项目信息": "Project data",
    "此前的审查意见": "Earlier decisions",
    "流程图": "Diagram",
    "当前环节": "Current step",
    "已完成环节": "Completed steps",
    "拖动平移，滚轮或双指缩放": "Drag to pan; scroll or pinch to zoom",
    "全图": "Whole diagram",
    "企业": "Enterprise",
    "阶段": "Stage",
    "办理进度": "Progress",
    "谁在办理我的案件": "Who is handling my case",
    "谁在办理此案件": "Who is handling this case",
    "经办部门": "Department",
    "起始时间": "Since",
    "办理时限": "Until",
    "法律依据": "Legal basis",
    "办理记录": "Timeline",
    "需要我办理的事项": "My tasks",
    "没有需要您办理的事项": "Nothing for you to do",
    "没有案件": "No cases",
    "案件不存在": "No such case",
    "页面不存在": "Page not found",
    "无权访问": "Forbidden",
    "返回": "Back",
    "提交的内容过大": "The submission is too large",
    "一次提交最多 %(total)s MB，每个文件最多 %(each)s MB。请删减或压缩文件后重新提交。": (
        "A submission may hold at most %(total)s MB, and each file at most %(each)s MB. "
        "Remove or compress files and submit again."
    ),
    "运行中": "Running",
    "已完成": "Completed",
    "已撤销": "Cancelled",
    "流程定义": "Process definitions",
    "版本": "Version",
    "版本记录": "Versions",
    "部署时间": "Deployed at",
    "部署人": "Deployed by",
    "变更摘要": "Changes",
    "校验": "Validate",
    "部署新版本": "Deploy new version",
    "校验通过": "Valid",
    "问题": "Problems",
    "已部署": "Deployed",
    "元素属性": "Element properties",
    "选择一个元素以编辑名称；用户任务还可编辑部门和表单": (
        "Select an element to edit its name; a user task also its department and form"
    ),
    "名称": "Name",
    "英文名称": "English name",
    "英文法律依据": "English legal basis",
    "表单": "Form",
    "办理时限（工作日）": "Time limit (working days)",
    "按泳道": "From the lane",
    "编辑": "Edit",
    "决策表": "Decision tables",
    "保存": "Save",
    "角色": "Role",
    "新建用户": "New user",
    "创建": "Create",
    "用户已创建": "User created",
    "部门列表": "Departments",
    "办事员": "Officer",
    "分析员": "Analyst",
    "企业用户": "Enterprise",
    "管理员": "Administrator",
    "用户名或密码错误": "Wrong username or password",
    "完成": "Completed",
    "进行中": "In progress",
    "企业办理": "Enterprise",
    "等待外部回复": "Waiting for",
    "等待至": "Waiting until",
    "等待外部回复：": "Waiting for: ",
    "等待至：": "Waiting until: ",
    "暂无办理中的环节": "No step is in progress",
    "CIM平台 BIM 模型审查": "CIM platform BIM model check",
    "人防易地建设费缴纳": "Civil air defense relocation fee payment",
    "企业报告开工": "Enterprise's report of construction start",
    "专家评审意见": "Expert review opinion",
    "企业补正材料": "Enterprise's supplementary documents",
    "办理人未认领": "Not yet claimed",
    "全部案件": "All cases",
    "案件已结束": "The case has ended",
    "首次部署": "First version",
    "已部署 %(key)s 版本 %(version)s": "Deployed %(key)s version %(version)s",
    "新增": "added",
    "删除了": "removed",
    "修改": "changed",
    "无变化": "no change",
    "条件": "Condition",
    "脚本": "Script",
    "定时": "Timer",
    "流程逻辑无变化（布局或所用决策表有变化）": "Same logic (layout or a decision table it uses changed)",
    "类型": "Type",
    "连线起点": "Flow source",
    "连线终点": "Flow target",
    "调用流程": "Called process",
    "默认路径": "Default flow",
    "附着于": "Attached to",
    "中断活动": "Interrupting",
    "所用决策表": "Decision table used",
    "前置脚本": "Pre-script",
    "后置脚本": "Post-script",
    "内容未变化，仍是版本": "Unchanged, still version",
    "使用它的流程均无变化，未产生新版本": "No process using it changed: no new version",
    "决策关系图": "Decision diagram (DRD)",
    "查看": "View",
    "发起时间": "Started",
    "（由 %(name)s 认领）": " by %(name)s",
    "释放": "Release",
    "任务已释放，其他人可以认领": "Task released; others can claim it now",
    "他人": "someone else",
    "认领未成功": "Not claimed",
    "释放未成功": "Not released",
    "提交未成功": "Not submitted",
    "此任务已由 %(name)s 认领。": "This task is claimed by %(name)s.",
    "此任务已办结或已取消，无需再办理。": "This task has been completed or cancelled already.",
    "此任务已由 %(name)s 认领，只有认领人可以提交。": (
        "This task is claimed by %(name)s; only they can submit it."
    ),
    "您填写的内容已保留在下方；请与认领人协调，待其释放任务后再提交。": (
        " What you entered is kept below; agree with them, and submit again once they"
        " release the task."
    ),
    "需要您办理": "Your action needed",
    "您访问的地址不存在，请检查网址，或从上方菜单进入。": (
        "There is no page at this address. Check the address, or use the menu above."
    ),
    "不支持此操作": "Not allowed here",
    "此页面不支持这种请求方式，请从页面上的按钮或链接操作。": (
        "This page does not accept this kind of request; use the page's buttons and links."
    ),
    "案件发起": "Case started",
    "阶段变更": "Stage changed",
    "案件办结": "Case completed",
    "案件撤销": "Case cancelled",
    "任务到达": "Task received",
    "任务办结": "Task completed",
    "任务取消": "Task cancelled",
    "办理时限预警": "Deadline warning",
    "办理超期": "Deadline missed",
    "计时恢复": "Clock resumed",
    "办理时限重新计算": "Deadline recalculated",
    "定时节点触发": "Timer fired",
    "收到外部消息": "Message received",
    "下发整改通知": "Rectification issued",
    # Counted phrases: Chinese has one form, English (singular, plural); see ngettext.
    "剩余 %(num)s 个工作日": ("%(num)s working day left", "%(num)s working days left"),
    "%(num)s 个工作日": ("%(num)s working day", "%(num)s working days"),
    "法定时限 %(num)s 个工作日": (
        "statutory limit %(num)s working day",
        "statutory limit %(num)s working days",
    ),
    "系统": "System",
    "待您办理": "Awaiting you",
    "待企业办理": "Awaiting the enterprise",
}

STAGES = (
    "onboarding",
    "permit_p1",
    "permit_p2",
    "permit_p3",
    "under_construction",
    "rectifying",
    "completion_precheck",
    "joint_acceptance",
    "completed",
)
STAGE_NAMES: dict[str, tuple[str, str]] = {
    "onboarding": ("项目落地", "Onboarding"),
    "permit_p1": ("施工许可一阶段", "Permit P1"),
    "permit_p2": ("施工许可二阶段", "Permit P2"),
    "permit_p3": ("施工许可三阶段", "Permit P3"),
    "under_construction": ("施工中", "Under construction"),
    "rectifying": ("整改中", "Rectifying"),
    "completion_precheck": ("竣工预检", "Completion pre-check"),
    "joint_acceptance": ("联合验收", "Joint acceptance"),
    "completed": ("已办结", "Completed"),
}


def select_locale() -> str:
    lang = request.args.get("lang") or request.cookies.get(COOKIE)
    return lang if lang in LOCALES else "zh"


def is_en() -> bool:
    return str(get_locale() or "zh").startswith("en")


def gettext(text: str, **params) -> str:
    translated = CATALOGUE_EN.get(text, text) if is_en() else text
    if isinstance(translated, tuple):  # a counted phrase used without a count: the plural
        translated = translated[1]
    return translated % params if params else translated


# dmn-js's own interface, which it passes through a `translate` service (English source).
DMN_JS_ZH: dict[str, str] = {
    "View DRD": "查看决策关系图",
    "Hit policy": "命中策略",
    "Hit policy:": "命中策略：",
    "When": "当",
    "And": "且",
    "Then": "则",
    "Annotation": "注释",
    "Annotations": "注释",
    "Input": "输入",
    "Output": "输出",
    "Input label": "输入标签",
    "Output label": "输出标签",
    "Output name": "输出名称",
    "Input expression": "输入表达式",
    "Expression language": "表达式语言",
    "Type": "类型",
    "Value": "值",
    "Values": "值",
    "Yes": "是",
    "No": "否",
    "Delete": "删除",
    "Edit": "编辑",
    "Add rule": "添加规则",
    "Add rule above": "在上方添加规则",
    "Add rule below": "在下方添加规则",
    "Remove rule": "删除规则",
    "Copy rule": "复制规则",
    "Cut rule": "剪切规则",
    "Paste rule above": "粘贴到上方",
    "Paste rule below": "粘贴到下方",
    "Add input": "添加输入",
    "Add output": "添加输出",
    "Remove input column": "删除输入列",
    "Remove output column": "删除输出列",
    "Decision name": "决策名称",
    "Unique": "唯一",
    "First": "首个",
    "Priority": "优先级",
    "Any": "任一",
    "Collect": "收集",
    "Rule order": "规则顺序",
    "Output order": "输出顺序",
    "Create decision": "新建决策",
    "Create input data": "新建输入数据",
    "Create knowledge source": "新建知识来源",
    "Create knowledge model": "新建业务知识模型",
    "Activate hand tool": "平移工具",
    "Activate lasso tool": "框选工具",
    "Connect to other element": "连接到其他元素",
}

# Messages raised by the services carry both languages: "案件不存在 (no such case)", titles
# "未找到 Not found". A page shows the part of its own language.
_ZH_THEN_EN_IN_PARENS = re.compile(r"^(?P<zh>.*[^\x00-\x7f].*?)\s*\((?P<en>[\x20-\x7e]+)\)$", re.S)
_ZH_THEN_EN_TITLE = re.compile(r"^(?P<zh>[^\x00-\x7f][^ ]*) (?P<en>[A-Za-z][\x20-\x7e]*)$")


def one_language(text: str | None) -> str:
    """The page's language of a bilingual service message; other text as it is."""
    if not text:
        return text or ""
    text = str(text)
    match = _ZH_THEN_EN_IN_PARENS.match(text) or _ZH_THEN_EN_TITLE.match(text)
    if match is None:
        return text
    return page_half(match["zh"], match["en"])


def page_half(zh: str, en: str) -> str:
    """The page's half of a message written in both languages; the English half is written
    lower-case to follow the Chinese, and shown as a sentence."""
    if not is_en():
        return zh
    return en[:1].upper() + en[1:]


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    """A counted phrase; ``%(num)s`` (and ``%(n)s``) is the count. Chinese has one form, so a
    catalogue entry may hold both English forms: ``"剩余 %(num)s 个工作日": (one, many)``."""
    params.setdefault("num", n)
    params.setdefault("n", n)
    key = singular if n == 1 else plural
    if not is_en():
        return key % params
    entry = CATALOGUE_EN.get(key, key)
    if isinstance(entry, tuple):
        entry = entry[0] if n == 1 else entry[1]
    return entry % params


def stage_name(stage: str | None) -> str:
    if not stage:
        return "—"
    zh, en = STAGE_NAMES.get(stage, (stage, stage))
    return en if is_en() else zh


def init_i18n(app) -> None:
    Babel(app, locale_selector=select_locale, default_timezone="Asia/Shanghai")
    # Flask-Babel installs gettext callables that read .mo files; ours read the dict above.
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)


@bp.after_request
def remember_locale(response):
    lang = request.args.get("lang")
    if lang in LOCALES and request.cookies.get(COOKIE) != lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response
