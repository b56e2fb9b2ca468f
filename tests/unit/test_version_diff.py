"""What a new process version changed, as the modeler's version list tells an analyst."""

from __future__ import annotations

from engine.web.version_diff import summarize

BEFORE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs">
  <bpmn:process id="review" name="审查">
    <bpmn:laneSet id="Lanes">
      <bpmn:lane id="Lane_fire" name="fire"><bpmn:flowNodeRef>Task_a</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="housing"><bpmn:flowNodeRef>Task_b</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:userTask id="Task_a" name="甲" />
    <bpmn:userTask id="Task_b" name="乙" />
    <bpmn:callActivity id="Call_permit" name="施工许可" calledElement="permit_v1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Task_a" targetRef="Task_b" />
  </bpmn:process>
  <bpmn:process id="other" name="另一流程">
    <bpmn:userTask id="Task_other" name="丙" />
  </bpmn:process>
</bpmn:definitions>"""


def changes(after: str, process: str = "review") -> dict[str, list[tuple]]:
    (_first, summary) = summarize([BEFORE, after], process)
    assert not summary.added and not summary.removed
    return {change.element.id: change.settings for change in summary.changed}


def test_moving_a_task_to_another_lane_is_a_change_of_department():
    after = BEFORE.replace(
        '<bpmn:flowNodeRef>Task_a</bpmn:flowNodeRef></bpmn:lane>\n      <bpmn:lane id="Lane_housing" name="housing">',
        '</bpmn:lane>\n      <bpmn:lane id="Lane_housing" name="housing"><bpmn:flowNodeRef>Task_a</bpmn:flowNodeRef>',
    )
    assert changes(after) == {"Task_a": [("department", "fire", "housing")]}


def test_a_department_property_replaces_the_lane_and_reads_as_its_code():
    after = BEFORE.replace(
        '<bpmn:userTask id="Task_a" name="甲" />',
        '<bpmn:userTask id="Task_a" name="甲"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="department" value="\'civil_defense\'" />'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>",
    )
    assert changes(after) == {"Task_a": [("department", "fire", "civil_defense")]}


def test_an_interrupting_boundary_event_saved_without_its_default_is_unchanged():
    before = BEFORE.replace(
        '<bpmn:sequenceFlow id="Flow_1"',
        '<bpmn:boundaryEvent id="Timer" attachedToRef="Task_a" cancelActivity="true" />'
        '<bpmn:sequenceFlow id="Flow_1"',
    )
    after = before.replace(' cancelActivity="true"', "")
    (_first, summary) = summarize([before, after], "review")
    assert summary.empty


def test_rewiring_a_flow_and_calling_another_process_are_changes():
    after = BEFORE.replace('targetRef="Task_b"', 'targetRef="Call_permit"').replace(
        'calledElement="permit_v1"', 'calledElement="permit_v2"'
    )
    assert changes(after) == {
        "Call_permit": [("calledElement", "permit_v1", "permit_v2")],
        "Flow_1": [("targetRef", "Task_b", "Call_permit")],
    }


def test_a_process_is_compared_without_the_other_processes_of_its_file():
    after = BEFORE.replace('name="丙"', 'name="丁"')
    assert changes(after) == {}
    assert changes(after, "other") == {"Task_other": [("name", "丙", "丁")]}


def test_a_task_whose_type_changed_under_the_same_id_says_so():
    after = BEFORE.replace(
        '<bpmn:userTask id="Task_b" name="乙" />', '<bpmn:manualTask id="Task_b" name="乙" />'
    )
    # ... and a manual task is nobody's inbox: it has no department any more
    assert changes(after) == {
        "Task_b": [("department", "housing", None), ("type", "userTask", "manualTask")]
    }
