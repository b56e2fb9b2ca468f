"""Deploy and validate BPMN/DMN bundles, version them, and cache their parsed specs."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from . import bpmn_xml, element_names, scripting
from .departments import is_assignable

NS = {
    "bpmn": bpmn_xml.BPMN_NS,
    "spiffworkflow": bpmn_xml.SPIFF_NS,
}

SPEC_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)


@dataclass
class Problem:
    file: str
    message: str
    line: int | None = None
    element_id: str | None = None
    # (Chinese, English) when the message was written as both: a detail in it (a lane named in
    # Chinese, a SyntaxError with parentheses) can make ``message`` impossible to split back.
    halves: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def bilingual(
        cls,
        file: str,
        zh: str,
        en: str,
        line: int | None = None,
        element_id: str | None = None,
    ) -> Problem:
        """A problem said in both languages; ``message`` is ``zh (en)``, as the API gives it."""
        return cls(file, f"{zh} ({en})", line, element_id, (zh, en))

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "element_id": self.element_id,
            "message": self.message,
        }

    def as_text(self) -> str:
        where = []
        if self.line:
            where.append(f"第{self.line}行 line {self.line}")
        if self.element_id:
            where.append(f"元素 element {self.element_id}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ParsedProcess:
    key: str
    name: str
    filename: str
    spec: dict
    called_keys: list[str]
    decision_refs: list[str]
    start_form_key: str | None
    content_hash: str
    starters: list[str] | None = None
    name_en: str | None = None


@dataclass
class BundleAnalysis:
    problems: list[Problem] = field(default_factory=list)
    processes: list[ParsedProcess] = field(default_factory=list)
    dmn_files: dict[str, bytes] = field(default_factory=dict)
    bpmn_files: dict[str, bytes] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class DeployedContext:
    """What earlier deployments provide to a bundle: process keys and DMN decisions."""

    process_keys: set[str] = field(default_factory=set)
    # decision id -> (filename, content) of the newest deployed DMN holding it
    decisions: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def starters_of(start) -> list[str] | None:
    """The start event's ``starters`` property: who may start the process (department codes,
    ``enterprise``), comma separated; None when it has none."""
    value = bpmn_xml.spiff_property(start, "starters") if start is not None else None
    if value is None:
        return None
    return [token.strip() for token in value.split(",") if token.strip()]


def _lane_of(process, element) -> str | None:
    ids = {element.get("id")}
    parent = element.getparent()
    while parent is not None and parent is not process:
        if parent.get("id"):
            ids.add(parent.get("id"))
        parent = parent.getparent()
    for lane in process.iter(f"{{{bpmn_xml.BPMN_NS}}}lane"):
        refs = {ref.text.strip() for ref in lane.findall("bpmn:flowNodeRef", NS) if ref.text}
        if refs & ids:
            return (lane.get("name") or "").strip()
    return None


def _decision_ids(root) -> list[str]:
    return [
        d.get("id")
        for d in root.iter()
        if isinstance(d.tag, str) and etree.QName(d).localname == "decision"
    ]


def _check_process_xml(
    filename: str,
    process,
    form_exists: Callable[[str], bool],
    available_keys: set[str],
    problems: list[Problem],
) -> tuple[list[str], list[str]]:
    """Checks SpiffWorkflow does not make: departments, forms, call targets, script syntax."""

    def problem(element, message, english=None):
        where = (element.sourceline, element.get("id"))
        if english is None:
            problems.append(Problem(filename, message, *where))
        else:
            problems.append(Problem.bilingual(filename, message, english, *where))

    reserved = {"Start", "End", "Root", f"{process.get('id')}.EndJoin"}
    for element in process.iter():
        if isinstance(element.tag, str) and element.get("id") in reserved:
            problem(
                element,
                f"元素 id '{element.get('id')}' 是引擎保留名，请改名",
                f"id '{element.get('id')}' is reserved by the engine: rename it",
            )

    for task in process.iter(f"{{{bpmn_xml.BPMN_NS}}}userTask"):
        department_expr = bpmn_xml.spiff_property(task, "department")
        lane = _lane_of(process, task)
        if department_expr:
            error = scripting.check_expression(department_expr)
            if error:
                problem(
                    task,
                    f"department 表达式无效：{error}",
                    f"invalid department expression: {error}",
                )
        elif not lane:
            problem(
                task,
                "人工任务不在任何泳道中，也没有 department 属性 (user task has no lane and no department property)",
            )
        elif not is_assignable(lane):
            problem(
                task,
                f"泳道名 '{lane}' 不是部门代码",
                f"lane name '{lane}' is not a department code",
            )
        form_key = bpmn_xml.spiff_property(task, "formKey")
        if form_key and not form_exists(form_key):
            problem(task, f"表单 '{form_key}' 不存在于 forms/", f"no form '{form_key}' in forms/")
        sla = bpmn_xml.spiff_property(task, "sla_working_days")
        if sla is not None and not sla.isdigit():
            problem(
                task,
                f"sla_working_days 必须是整数：{sla}",
                f"the sla_working_days property must be an integer: {sla}",
            )
    for start in process.findall("bpmn:startEvent", NS):
        form_key = bpmn_xml.spiff_property(start, "formKey")
        if form_key and not form_exists(form_key):
            problem(start, f"表单 '{form_key}' 不存在于 forms/", f"no form '{form_key}' in forms/")
        starters = starters_of(start)
        if starters == []:
            problem(start, "starters 为空：请列出可以发起的部门，或删除该属性 (empty starters)")
        unknown = [code for code in starters or [] if not is_assignable(code)]
        if unknown:
            problem(
                start,
                f"starters 中有未知的部门代码：{', '.join(unknown)}",
                f"unknown department in starters: {', '.join(unknown)}",
            )

    for element, message in element_names.problems(process):
        problem(element, message)

    called = []
    for activity in process.iter(f"{{{bpmn_xml.BPMN_NS}}}callActivity"):
        target = activity.get("calledElement")
        if not target:
            problem(activity, "调用活动缺少 calledElement (call activity has no calledElement)")
        elif target not in available_keys:
            problem(
                activity,
                f"被调用的流程 '{target}' 未部署且不在本次上传中",
                f"called process '{target}' is neither deployed nor in this upload",
            )
        else:
            called.append(target)

    decisions = []
    for rule_task in process.iter(f"{{{bpmn_xml.BPMN_NS}}}businessRuleTask"):
        ref = rule_task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        if ref is not None and ref.text:
            decisions.append(ref.text.strip())

    for script_task in process.iter(f"{{{bpmn_xml.BPMN_NS}}}scriptTask"):
        script = script_task.find("bpmn:script", NS)
        if script is not None and script.text:
            error = scripting.check_script(script.text)
            if error:
                problem(script_task, f"脚本不允许：{error}", f"script rejected: {error}")
    for flow in process.iter(f"{{{bpmn_xml.BPMN_NS}}}sequenceFlow"):
        condition = flow.find("bpmn:conditionExpression", NS)
        if condition is not None and condition.text and condition.text.strip():
            error = scripting.check_expression(condition.text)
            if error:
                problem(flow, f"条件表达式不允许：{error}", f"condition rejected: {error}")
    return called, decisions


def analyse_bundle(
    files: Iterable[tuple[str, bytes]],
    context: DeployedContext,
    form_exists: Callable[[str], bool],
    max_bytes: int = 5 * 1024 * 1024,
) -> BundleAnalysis:
    """Parse and validate a bundle; nothing is stored. Problems name file, line and element."""
    result = BundleAnalysis()
    roots: dict[str, etree._Element] = {}
    for filename, content in files:
        if len(content) > max_bytes:
            result.problems.append(
                Problem.bilingual(
                    filename, f"文件超过 {max_bytes} 字节", f"file is over {max_bytes} bytes"
                )
            )
            continue
        try:
            root = bpmn_xml.parse_secure(content)
        except bpmn_xml.XmlProblem as exc:
            result.problems.append(Problem(filename, exc.message, exc.line, halves=exc.halves))
            continue
        kind = bpmn_xml.kind_of(root)
        if kind is None:
            result.problems.append(
                Problem(
                    filename,
                    "不是 BPMN 或 DMN 文件 (not a BPMN or DMN definitions document)",
                    root.sourceline,
                )
            )
            continue
        if kind == "bpmn":
            try:
                VALIDATOR.validate(root, filename)
            except ValidationException as exc:
                line = exc.line_number or None
                result.problems.append(
                    Problem.bilingual(
                        filename,
                        f"BPMN 模式错误：{exc}",
                        f"schema error: {exc}",
                        line,
                        bpmn_xml.element_at_line(root, line),
                    )
                )
                continue
            result.bpmn_files[filename] = content
        else:
            result.dmn_files[filename] = content
        roots[filename] = root
    if result.problems:
        return result

    parser = SpiffBpmnParser(validator=None)
    bundle_decisions: dict[str, str] = {}
    for filename in result.dmn_files:
        try:
            parser.add_dmn_xml(roots[filename], filename)
        except SpiffWorkflowException as exc:
            result.problems.append(_problem_from_spiff(filename, roots[filename], exc))
            continue
        for decision_id in _decision_ids(roots[filename]):
            bundle_decisions[decision_id] = filename

    bundle_keys = set()
    for filename in result.bpmn_files:
        for process in roots[filename].findall("bpmn:process", NS):
            bundle_keys.add(process.get("id"))
    available = bundle_keys | context.process_keys

    per_process: list[tuple[str, etree._Element, list[str], list[str]]] = []
    extra_dmn: dict[str, bytes] = {}
    for filename in result.bpmn_files:
        for process in roots[filename].findall("bpmn:process", NS):
            called, decisions = _check_process_xml(
                filename, process, form_exists, available, result.problems
            )
            for decision_id in decisions:
                if decision_id in bundle_decisions:
                    continue
                if decision_id in context.decisions:
                    dmn_name, dmn_content = context.decisions[decision_id]
                    extra_dmn[dmn_name] = dmn_content
                else:
                    rule = next(
                        (
                            t
                            for t in process.iter(f"{{{bpmn_xml.BPMN_NS}}}businessRuleTask")
                            if (
                                t.findtext(
                                    "bpmn:extensionElements/spiffworkflow:calledDecisionId",
                                    None,
                                    NS,
                                )
                                or ""
                            ).strip()
                            == decision_id
                        ),
                        process,
                    )
                    result.problems.append(
                        Problem.bilingual(
                            filename,
                            f"DMN 决策 '{decision_id}' 未部署且不在本次上传中",
                            f"decision '{decision_id}' is neither deployed nor in this upload",
                            rule.sourceline,
                            rule.get("id"),
                        )
                    )
            per_process.append((filename, process, called, decisions))
    for dmn_name, dmn_content in extra_dmn.items():
        if dmn_name not in result.dmn_files:
            parser.add_dmn_xml(bpmn_xml.parse_secure(dmn_content), dmn_name)
    if result.problems:
        return result

    for filename in result.bpmn_files:
        try:
            parser.add_bpmn_xml(roots[filename], filename)
        except SpiffWorkflowException as exc:
            result.problems.append(_problem_from_spiff(filename, roots[filename], exc))
    if result.problems:
        return result

    dmn_hashes = {
        decision_id: hashlib.sha256(result.dmn_files[name]).hexdigest()
        for decision_id, name in bundle_decisions.items()
    }
    for content in extra_dmn.values():
        for decision_id in _decision_ids(bpmn_xml.parse_secure(content)):
            dmn_hashes.setdefault(decision_id, hashlib.sha256(content).hexdigest())

    for filename, process, called, decisions in per_process:
        key = process.get("id")
        if process.get("isExecutable") == "false":
            continue
        try:
            spec = parser.get_spec(key)
            embedded_ids = {
                element.get("id")
                for element in process.iter()
                if isinstance(element.tag, str)
                and etree.QName(element).localname
                in ("subProcess", "transaction", "adHocSubProcess")
            }
            embedded = {
                name: SPEC_REGISTRY.convert(sub)
                for name, sub in parser.get_subprocess_specs(
                    key, require_call_activity_specs=False
                ).items()
                if name in embedded_ids and sub is not None
            }
            # Called processes are pinned per case when it starts; embedded ones belong to this spec.
            spec_dict = {"process": SPEC_REGISTRY.convert(spec), "embedded": embedded}
        except SpiffWorkflowException as exc:
            result.problems.append(_problem_from_spiff(filename, roots[filename], exc))
            continue
        digest = hashlib.sha256()
        digest.update(key.encode())
        digest.update(result.bpmn_files[filename])
        for decision_id in sorted(set(decisions)):
            digest.update(dmn_hashes.get(decision_id, "").encode())
        start = process.find("bpmn:startEvent", NS)
        result.processes.append(
            ParsedProcess(
                key=key,
                name=process.get("name") or key,
                filename=filename,
                spec=spec_dict,
                called_keys=sorted(set(called)),
                decision_refs=sorted(set(decisions)),
                start_form_key=bpmn_xml.spiff_property(start, "formKey")
                if start is not None
                else None,
                content_hash=digest.hexdigest(),
                starters=starters_of(start),
                name_en=element_names.name_en_of(process),
            )
        )
    if not result.processes and not result.problems and not result.dmn_files:
        result.problems.append(
            Problem("", "上传中没有可执行的流程 (no executable process in the bundle)")
        )
    return result


def _problem_from_spiff(filename: str, root, exc: SpiffWorkflowException) -> Problem:
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or None
    if element_id and not line:
        found = root.xpath("//*[@id=$id]", id=element_id)
        line = found[0].sourceline if found else None
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Problem(filename, message, line, element_id)


def decisions_in(content: bytes) -> list[str]:
    return _decision_ids(bpmn_xml.parse_secure(content))


class SpecCache:
    """Restored specs keyed by content hash: a deployed definition never changes, and the hash
    (not the row id) stays right when one process serves several databases, as tests do."""

    def __init__(self, max_entries: int = 512):
        self._specs: dict[str, object] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, content_hash: str, spec_dict: Callable[[], dict]):
        """(process spec, {embedded subprocess id: spec}) of one deployed definition."""
        spec = self._specs.get(content_hash)
        if spec is None:
            stored = _copy(spec_dict())
            spec = (
                SPEC_REGISTRY.restore(stored["process"]),
                {name: SPEC_REGISTRY.restore(sub) for name, sub in stored["embedded"].items()},
            )
            with self._lock:
                if len(self._specs) >= self.max_entries:
                    self._specs.pop(next(iter(self._specs)))
                self._specs[content_hash] = spec
        return spec

    def __len__(self) -> int:
        return len(self._specs)


def _copy(value):
    import copy

    return copy.deepcopy(value)


spec_cache = SpecCache()
