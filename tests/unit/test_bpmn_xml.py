"""Reading SpiffWorkflow extension properties from parsed BPMN, as the runtime will see them."""

from __future__ import annotations

from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser

from engine.bpmn_xml import parse_secure, spiff_property

TASK = b"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:userTask id="Task_review" name="review">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="fire_opinion" />
        <spiffworkflow:property name="formKey" value="permit_review" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="stage" value="permit_p1" />
        </spiffworkflow:properties></bpmn:extensionElements>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_property_given_twice_reads_as_the_runtime_reads_it():
    task = parse_secure(TASK).find(".//{*}userTask")
    runtime = SpiffTaskParser._parse_extensions(task)["properties"]
    assert spiff_property(task, "formKey") == runtime["formKey"] == "permit_review"


def test_only_the_elements_own_properties_are_read():
    task = parse_secure(TASK).find(".//{*}userTask")
    assert spiff_property(task, "stage") is None
    assert spiff_property(task, "department") is None
