"""`pazhou` console script: serve, worker, db, deploy, demo, users, cases, tasks, audit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .clock import system_clock
from .errors import InvalidInput, PazhouError


def _database(args):
    from .db import Database
    from .settings import Settings

    settings = Settings.from_env(
        **({"database_url": args.database_url} if args.database_url else {})
    )
    return settings, Database(settings.database_url)


def _upgraded(args):
    from . import migrate

    settings, database = _database(args)
    migrate.upgrade(database)
    return settings, database


def cmd_db_upgrade(args) -> int:
    _, database = _upgraded(args)
    print(
        f"数据库已升级到最新版本 (database upgraded): {database.engine.url.render_as_string(hide_password=True)}"
    )
    return 0


def _bundle_files(paths: list[str]) -> list[tuple[str, bytes]]:
    files = []
    for raw in paths:
        path = Path(raw)
        candidates = (
            sorted(path.glob("*.bpmn")) + sorted(path.glob("*.dmn")) if path.is_dir() else [path]
        )
        for candidate in candidates:
            files.append((candidate.name, candidate.read_bytes()))
    return files


def cmd_deploy(args) -> int:
    from .services import deployments
    from .services.actors import SYSTEM

    settings, database = _upgraded(args)
    files = _bundle_files(args.paths)
    with database.write() as session:
        deployment, definitions = deployments.deploy_bundle(
            session, SYSTEM, files, system_clock.now(), settings.max_bpmn_bytes
        )
        for definition in definitions:
            print(f"{definition.key}\tv{definition.version}\t{definition.name}")
    return 0


def cmd_demo(args) -> int:
    from .services import demo

    _, database = _upgraded(args)
    with database.write() as session:
        summary = demo.seed(session, system_clock.now())
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    print(
        "警告：演示账号（admin、analyst、<部门>.officer、enterprise.a、enterprise.b）的密码均为 "
        "pazhou-demo，仅供演示，切勿用于生产。\n"
        "WARNING: every demo account (admin, analyst, <department>.officer, enterprise.a, "
        "enterprise.b) has the password pazhou-demo. Demo only, never in production.",
        file=sys.stderr,
    )
    return 0


def cmd_users_create(args) -> int:
    from .services import users

    _, database = _upgraded(args)
    with database.write() as session:
        user = users.create_user(
            session,
            args.username,
            args.password,
            args.role,
            department=args.department,
            enterprise_id=args.enterprise,
        )
        print(f"已创建用户 (created) {user.username} [{user.role}]")
    return 0


def cmd_cases_start(args) -> int:
    import mimetypes

    from .services import start_files
    from .services.actors import SYSTEM

    _, database = _upgraded(args)
    data = json.loads(args.data) if args.data else {}
    files = []
    for spec in args.file or []:
        field, sep, path = spec.partition("=")
        if not sep or not field or not path:
            raise InvalidInput(f"--file 应为 字段=文件路径 (--file takes FIELD=PATH): {spec}")
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise InvalidInput(f"无法读取文件 (cannot read file) {path}: {exc.strerror}") from None
        content_type = mimetypes.guess_type(path)[0]
        files.append((field, start_files.UploadedFile(Path(path).name, content_type, content)))
    with database.write() as session:
        case = start_files.start_case_with_files(
            session,
            SYSTEM,
            args.key,
            args.project_name or data.get("project_name") or args.key,
            data,
            files,
            system_clock.now(),
            enterprise_id=args.enterprise,
        )
        print(f"{case.case_number}\t{case.status}\t{case.stage or '-'}")
    return 0


def cmd_tasks_list(args) -> int:
    from .services import tasks
    from .services.actors import SYSTEM

    _, database = _upgraded(args)
    with database.read() as session:
        rows, _ = tasks.list_tasks(
            session, SYSTEM, department=args.department, page_size=args.limit
        )
        for task in rows:
            due = task.due_at.strftime("%Y-%m-%d") if task.due_at else "-"
            print(
                f"{task.id}\t{task.case.case_number}\t{task.department}\t{task.status}\t{due}\t{task.title}"
            )
    return 0


def cmd_audit_verify(args) -> int:
    from .services import cases

    _, database = _upgraded(args)
    with database.read() as session:
        count, broken = cases.verify_audit(session, args.case)
    if broken is None:
        print(f"审计链完整 (audit chain intact): {count} events")
        return 0
    print(
        f"审计链在第 {broken} 条事件处断裂 (audit chain broken at event {broken})", file=sys.stderr
    )
    return 1


def cmd_calendar_import(args) -> int:
    from .services import calendar_admin
    from .services.actors import SYSTEM

    _, database = _upgraded(args)
    text = Path(args.file).read_text(encoding="utf-8")
    with database.write() as session:
        result = calendar_admin.import_year(session, SYSTEM, text, system_clock.now())
    print(
        f"已导入 {result.year} 年工作日历 (imported): {len(result.holidays)} 个节假日, "
        f"{len(result.workdays)} 个调休工作日; 重算 {len(result.recomputed_tasks)} 个待办期限"
    )
    return 0


def cmd_serve(args) -> int:
    from . import create_app

    app = create_app({"EMBEDDED_WORKER": args.worker} if args.worker else None)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def cmd_worker(args) -> int:
    from . import worker

    settings, database = _upgraded(args)
    return worker.run_forever(database, settings, once=args.once)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pazhou", description="琶洲 Flow 审批流程引擎 (Pazhou Flow)"
    )
    parser.add_argument(
        "--database-url", help="默认读取 PAZHOU_DATABASE_URL (defaults to PAZHOU_DATABASE_URL)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="启动 Web 服务 (run the web server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument(
        "--worker", action="store_true", help="同时在进程内运行后台任务 (embedded worker)"
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="运行后台任务：定时器、Webhook 投递 (run due jobs)")
    worker.add_argument("--once", action="store_true")
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="数据库 (database)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="升级数据库结构 (migrate to the newest schema)").set_defaults(
        func=cmd_db_upgrade
    )

    deploy = sub.add_parser("deploy", help="部署 BPMN/DMN 文件或目录 (deploy files or folders)")
    deploy.add_argument("paths", nargs="+")
    deploy.set_defaults(func=cmd_deploy)

    sub.add_parser("demo", help="写入演示数据 (seed demo data)").set_defaults(func=cmd_demo)

    users = sub.add_parser("users", help="用户 (users)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument(
        "--role", required=True, choices=["officer", "analyst", "enterprise", "admin"]
    )
    create.add_argument("--department")
    create.add_argument("--enterprise", type=int)
    create.set_defaults(func=cmd_users_create)

    cases_parser = sub.add_parser("cases", help="案件 (cases)")
    cases_sub = cases_parser.add_subparsers(dest="cases_command", required=True)
    start = cases_sub.add_parser("start")
    start.add_argument("key")
    start.add_argument("--data", help="JSON")
    start.add_argument("--project-name")
    start.add_argument("--enterprise", type=int)
    start.add_argument(
        "--file",
        action="append",
        metavar="FIELD=PATH",
        help="发起表单的文件字段 (a file for a start-form file field; repeat for a list)",
    )
    start.set_defaults(func=cmd_cases_start)

    tasks_parser = sub.add_parser("tasks", help="待办 (tasks)")
    tasks_sub = tasks_parser.add_subparsers(dest="tasks_command", required=True)
    listing = tasks_sub.add_parser("list")
    listing.add_argument("--department")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=cmd_tasks_list)

    calendar = sub.add_parser("calendar", help="工作日历 (working calendar)")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    calendar_import = calendar_sub.add_parser(
        "import", help="导入某年节假日与调休安排 (import a year's holidays and adjusted workdays)"
    )
    calendar_import.add_argument("file", help='JSON: {"year", "holidays", "workdays", "source"}')
    calendar_import.set_defaults(func=cmd_calendar_import)

    audit = sub.add_parser("audit", help="审计 (audit trail)")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify")
    verify.add_argument("case", help="案件编号或 id (case number or id)")
    verify.set_defaults(func=cmd_audit_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PazhouError as exc:
        print(f"错误 (error): {exc.detail}", file=sys.stderr)
        for field, messages in exc.errors.items():
            for message in messages:
                print(f"  {field}: {message}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"错误 (error): --data 不是有效的 JSON: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
