"""Structural checks of every file in processes/ and forms/ (no engine import).

Covers all BPMN/DMN/form files, whoever wrote them: the processes parse with SpiffWorkflow's
SpiffBpmnParser (call activities and DMN references resolve), user tasks name an existing form
and a department, the process and every element people read carry an English name (name_en),
every legal basis its English (legal_basis_en), forms are valid draft 2020-12 schemas with
Chinese and English titles, expressions stay in the restricted subset, DMN tables use a hit
policy SpiffWorkflow supports, and every diagram is drawable: DI geometry for each flow node and
sequence flow, nodes inside their lane band, no two shapes overlapping.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

import forms
from engine import element_names
from engine.bpmn_xml import spiff_property
from forms.validation import check_schema

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
BPMN_FILES = sorted(PROCESSES.glob("*.bpmn"))
DMN_FILES = sorted(PROCESSES.glob("*.dmn"))
FORM_FILES = sorted(FORMS.glob("*.json"))

DEPARTMENTS = frozenset(
    [
        "service_center",
        "housing",
        "quality_safety",
        "fire",
        "civil_defense",
        "planning",
        "archives",
        "roads",
        "traffic_police",
        "utilities",
        "task_force",
        "leadership",
        "enterprise",
    ]
)
SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
CJK = re.compile(r"[\u3400-\u9fff]")

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {
    "bpmn": BPMN,
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODE_TAGS = frozenset(
    f"{{{BPMN}}}{tag}"
    for tag in [
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    ]
)
CONTAINER_TAGS = frozenset(
    f"{{{BPMN}}}{t}" for t in ("subProcess", "transaction", "adHocSubProcess")
)
FORBIDDEN_CALLS = frozenset(
    {"open", "eval", "exec", "compile", "__import__", "globals", "locals", "vars"}
)


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# --------------------------------------------------------------------------- parsing helpers


@cache
def _parser() -> SpiffBpmnParser:
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(p) for p in BPMN_FILES])
    parser.add_dmn_files([str(p) for p in DMN_FILES])
    return parser


@cache
def _xml(path: Path):
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


def _executable_process_ids(path: Path) -> list[str]:
    return [p.get("id") for p in _xml(path).getroot().findall("bpmn:process", NS)]


def _specs(path: Path) -> dict:
    """Every process spec defined in or called from this file, by name."""
    parser = _parser()
    specs = {}
    for pid in _executable_process_ids(path):
        specs[pid] = parser.get_spec(pid)
        specs.update(parser.get_subprocess_specs(pid))
    return specs


def _own_task_specs(path: Path):
    """Task specs of the processes (and embedded subprocesses) defined in this file."""
    own_ids = {el.get("id") for el in _xml(path).iter() if el.tag in FLOW_NODE_TAGS}
    for spec in _specs(path).values():
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) in own_ids:
                yield task_spec


def _properties(task_spec) -> dict:
    return dict((getattr(task_spec, "extensions", None) or {}).get("properties") or {})


def _department_problem(task_spec) -> str | None:
    expression = _properties(task_spec).get("department")
    if expression is None:
        if task_spec.lane not in DEPARTMENTS:
            return f"lane {task_spec.lane!r} is not a department code and no department property"
        return None
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return f"department property {expression!r} is not a Python expression"
    if isinstance(tree.body, ast.Constant) and tree.body.value not in DEPARTMENTS:
        return f"department {tree.body.value!r} is not a department code"
    return None


# --------------------------------------------------------------------------- processes


def test_there_are_process_dmn_and_form_files():
    assert BPMN_FILES and DMN_FILES and FORM_FILES


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_process_parses_and_its_references_resolve(path):
    ids = _executable_process_ids(path)
    assert ids, f"{path.name} defines no process"
    for pid in ids:
        process = _xml(path).getroot().find(f"bpmn:process[@id='{pid}']", NS)
        assert process.get("isExecutable") == "true", f"{pid} is not executable"
        assert CJK.search(process.get("name") or ""), f"{pid} needs a Chinese name"
    assert _specs(path)  # raises if a call activity or DMN decision is missing


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_user_tasks_have_an_existing_form_and_a_department(path):
    problems = []
    for task_spec in _own_task_specs(path):
        if not isinstance(task_spec, UserTask):
            continue
        where = f"{path.name}:{task_spec.bpmn_id}"
        form_key = _properties(task_spec).get("formKey")
        if not form_key:
            problems.append(f"{where}: no formKey property")
        elif not (FORMS / f"{form_key}.json").is_file():
            problems.append(f"{where}: form forms/{form_key}.json does not exist")
        problem = _department_problem(task_spec)
        if problem:
            problems.append(f"{where}: {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_start_event_forms_exist(path):
    problems = []
    for process in _xml(path).getroot().findall("bpmn:process", NS):
        for start in process.findall("bpmn:startEvent", NS):
            has_trigger = any(etree.QName(c).localname.endswith("EventDefinition") for c in start)
            keys = start.findall(".//{*}property[@name='formKey']")
            if not has_trigger and not keys:
                problems.append(f"{path.name}:{start.get('id')}: start event without a formKey")
    for task_spec in _own_task_specs(path):
        if isinstance(task_spec, StartEvent):
            form_key = _properties(task_spec).get("formKey")
            if form_key and not (FORMS / f"{form_key}.json").is_file():
                problems.append(f"{path.name}:{task_spec.bpmn_id}: forms/{form_key}.json missing")
    assert not problems, "\n".join(problems)


# Named for the engine, not for people: pools take the process's name, lanes name department
# codes, data inputs and messages name variables.
UNNAMED_FOR_PEOPLE = frozenset(
    f"{{{BPMN}}}{tag}"
    for tag in (
        "participant",
        "lane",
        "dataInput",
        "dataOutput",
        "inputDataItem",
        "outputDataItem",
        "message",
        "signal",
    )
)


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_the_process_and_every_named_element_have_an_english_name(path):
    """English pages show name_en: the procedure lists, inbox, task and case pages show the
    process's and the user tasks', the case diagram every element's. A new element cannot
    leave it out. Nor can a task with a legal basis leave out its English (legal_basis_en),
    which the inbox, task and case pages show."""
    problems = []
    for el in _xml(path).getroot().iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN}}}"):
            continue
        if (legal_basis := spiff_property(el, "legal_basis")) is not None:
            where = f"{path.name}:{el.get('id')} (legal_basis {legal_basis})"
            english = element_names.legal_basis_en_of(el)
            problems += _not_english(where, "legal_basis_en", english)
            if english and len(english) > element_names.LEGAL_BASIS_MAX_LENGTH:
                problems.append(f"{where}: legal_basis_en is too long for task.legal_basis_en")
        if el.get("name") and el.tag not in UNNAMED_FOR_PEOPLE:
            where = f"{path.name}:{el.get('id')} ({el.get('name')})"
            problems += _not_english(where, "name_en", element_names.name_en_of(el))
    assert not problems, "\n".join(problems)


def _not_english(where: str, prop: str, value: str | None) -> list[str]:
    if not value:
        return [f"{where}: no {prop} property"]
    if CJK.search(value):
        return [f"{where}: {prop} {value!r} is not English"]
    return []


def _restricted_problems(source: str, mode: str) -> list[str]:
    try:
        tree = ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        return [f"syntax error: {exc.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            problems.append("import")
        elif isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_CALLS):
            problems.append(f"name {node.id!r}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            problems.append(f"attribute {node.attr!r}")
    return problems


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_scripts_conditions_and_timers_stay_in_the_restricted_subset(path):
    root = _xml(path).getroot()
    sources = [(el, "exec") for el in root.iter(f"{{{BPMN}}}script")]
    sources += [
        (el, "eval")
        for tag in ("conditionExpression", "timeDuration", "timeDate", "timeCycle")
        for el in root.iter(f"{{{BPMN}}}{tag}")
    ]
    sources += [
        (el, "exec")
        for el in root.iter()
        if etree.QName(el).localname in ("preScript", "postScript")
    ]
    problems = []
    for el, mode in sources:
        for problem in _restricted_problems(el.text or "", mode):
            problems.append(f"{path.name} line {el.sourceline}: {problem}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- DMN


@pytest.mark.parametrize("path", DMN_FILES, ids=_ids(DMN_FILES))
def test_dmn_uses_supported_hit_policies_and_restricted_expressions(path):
    root = _xml(path).getroot()
    problems = []
    for table in root.iter():
        if etree.QName(table).localname == "decisionTable":
            policy = table.get("hitPolicy", "UNIQUE").upper()
            if policy not in ("UNIQUE", "COLLECT"):
                problems.append(
                    f"{table.get('id')}: hit policy {policy} (SpiffWorkflow: UNIQUE, COLLECT)"
                )
    for el in root.iter():
        name = etree.QName(el).localname if isinstance(el.tag, str) else ""
        if name != "text" or not (el.text or "").strip() or el.text.strip() == "-":
            continue
        parent = etree.QName(el.getparent()).localname
        text = el.text.strip().replace("?", "dmn_input")
        if parent == "inputEntry" and _restricted_problems(text, "eval"):
            text = "dmn_input " + text  # operator-prefixed entries such as "> 20000"
        for problem in _restricted_problems(text, "eval"):
            problems.append(f"{path.name} line {el.sourceline}: {problem}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- forms


def _walk_properties(schema: dict, prefix: str = ""):
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        yield path, sub
        if isinstance(sub, dict):
            yield from _walk_properties(sub, path + ".")
            items = sub.get("items")
            if isinstance(items, dict):
                yield from _walk_properties(items, path + ".")


@pytest.mark.parametrize("path", FORM_FILES, ids=_ids(FORM_FILES))
def test_form_is_a_valid_2020_12_schema_with_chinese_titles(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert check_schema(schema) == []
    assert schema.get("$schema") == SCHEMA_URI
    assert schema.get("type") == "object"
    assert CJK.search(schema.get("title", "")), "form title must be Chinese"
    title_en = schema.get("x-title-en")
    assert isinstance(title_en, str) and title_en.strip(), "x-title-en (English title) missing"
    assert not CJK.search(title_en), f"x-title-en is not English: {title_en!r}"
    labels = schema.get("x-labels-en")
    assert isinstance(labels, dict) and labels, "x-labels-en map missing"
    required = schema.get("required", [])
    assert isinstance(required, list)
    assert set(required) <= set(schema.get("properties", {})), "required names an unknown field"
    untitled = [p for p, sub in _walk_properties(schema) if not CJK.search(sub.get("title", ""))]
    assert not untitled, f"properties without a Chinese title: {untitled}"


@pytest.mark.parametrize("path", FORM_FILES, ids=_ids(FORM_FILES))
def test_every_option_of_a_form_has_an_english_title(path):
    """Choices (enum, oneOf const/title) are shown in English from x-options-en on ?lang=en
    pages: a form cannot leave one out."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    titles = forms.english_option_titles(schema)
    missing = [
        f"{key}={forms.option_key(value)}"
        for key, options in forms.option_fields(schema)
        for value, _ in options
        if not titles.get(key, {}).get(forms.option_key(value), "").strip()
    ]
    assert not missing, f"options without an English title in x-options-en: {missing}"
    chinese = [
        f"{key}={option}: {title}"
        for key, by_value in titles.items()
        for option, title in by_value.items()
        if CJK.search(title)
    ]
    assert not chinese, f"English option titles with Chinese in them: {chinese}"


def test_the_joint_acceptance_start_form_states_its_conditional_fields():
    schema = json.loads((FORMS / "jca_apply.json").read_text(encoding="utf-8"))
    assert forms.conditional_requirements(schema) == {
        "fire_commissioning_report": [
            forms.Requirement((forms.Condition("fire_track", ("special", "filing")),))
        ],
        "civil_defense_area_m2": [
            forms.Requirement((forms.Condition("civil_defense_required", (True,)),))
        ],
    }


# --------------------------------------------------------------------------- diagrams


def _bounds(shape):
    b = shape.find("dc:Bounds", NS)
    if b is None:
        return None
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _diagram(path: Path):
    root = _xml(path).getroot()
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    return root, shapes, edges


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_every_flow_node_and_sequence_flow_has_geometry(path):
    root, shapes, edges = _diagram(path)
    problems = []
    for el in root.iter():
        if el.tag in FLOW_NODE_TAGS:
            shape = shapes.get(el.get("id"))
            bounds = None if shape is None else _bounds(shape)
            if bounds is None or bounds[2] <= 0 or bounds[3] <= 0:
                problems.append(f"{el.get('id')}: no BPMNShape with Bounds")
        elif el.tag == f"{{{BPMN}}}sequenceFlow":
            edge = edges.get(el.get("id"))
            if edge is None or len(edge.findall("di:waypoint", NS)) < 2:
                problems.append(f"{el.get('id')}: no BPMNEdge with waypoints")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_lanes_are_horizontal_bands_holding_their_nodes(path):
    root, shapes, _ = _diagram(path)
    problems = []
    for lane in root.iter(f"{{{BPMN}}}lane"):
        shape = shapes.get(lane.get("id"))
        if shape is None or _bounds(shape) is None:
            problems.append(f"lane {lane.get('name')}: no BPMNShape")
            continue
        lx, ly, lw, lh = _bounds(shape)
        if lw <= lh:
            problems.append(f"lane {lane.get('name')}: not a horizontal band")
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            node_shape = shapes.get(ref.text)
            if node_shape is None or _bounds(node_shape) is None:
                continue
            x, y, w, h = _bounds(node_shape)
            cx, cy = x + w / 2, y + h / 2
            if not (lx <= cx <= lx + lw and ly <= cy <= ly + lh):
                problems.append(f"{ref.text} is drawn outside its lane {lane.get('name')}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", BPMN_FILES, ids=_ids(BPMN_FILES))
def test_no_two_shapes_overlap(path):
    root, shapes, _ = _diagram(path)
    problems = []
    for process in root.findall("bpmn:process", NS):
        nodes = [el for el in process.iter() if el.tag in FLOW_NODE_TAGS]
        inside = {  # (container, descendant) pairs are drawn nested on purpose
            (c.get("id"), d.get("id"))
            for c in nodes
            if c.tag in CONTAINER_TAGS
            for d in c.iter()
            if d is not c and d.tag in FLOW_NODE_TAGS
        }
        attached = {(n.get("id"), n.get("attachedToRef")) for n in nodes if n.get("attachedToRef")}
        boxes = [
            (n.get("id"), _bounds(shapes[n.get("id")])) for n in nodes if n.get("id") in shapes
        ]
        for i, (a, (ax, ay, aw, ah)) in enumerate(boxes):
            for b, (bx, by, bw, bh) in boxes[i + 1 :]:
                if {(a, b), (b, a)} & (inside | attached):
                    continue
                if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                    problems.append(f"{a} overlaps {b}")
    assert not problems, "\n".join(problems)
