"""English names of BPMN elements: the SpiffWorkflow extension property ``name_en``.

Names in the BPMN are Chinese (``name``); an element or a process may carry its English name
beside it, so analysts edit both in one place::

    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="name_en" value="Fire protection design review"/>
    </spiffworkflow:properties></bpmn:extensionElements>

English pages show it and fall back to the Chinese name when there is none.
"""

from __future__ import annotations

from lxml import etree

from .bpmn_xml import SPIFF_NS, spiff_property

NAME_EN = "name_en"
# task.title_en holds 300 characters, process_definition.name_en 200
MAX_LENGTH = 200


def name_en_of(element) -> str | None:
    """The element's own ``name_en`` (not a child element's); None when it has none."""
    return (spiff_property(element, NAME_EN) or "").strip() or None


def english(properties: dict) -> str | None:
    """``name_en`` from a task spec's parsed extension properties (SpiffWorkflow's dict)."""
    return (properties.get(NAME_EN) or "").strip() or None


def problems(process) -> list[tuple[object, str]]:
    """(element, message) for every ``name_en`` in the process that is empty, too long or
    the element's second."""
    found = []
    named = set()
    for prop in process.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") != NAME_EN:
            continue
        owner = _owner(prop)
        owner = process if owner is None else owner
        value = (prop.get("value") or "").strip()
        if owner in named:
            found.append((owner, "name_en 重复：每个元素只写一个英文名称 (name_en given twice)"))
        named.add(owner)
        if not value:
            found.append((owner, "name_en 为空：请填写英文名称，或删除该属性 (empty name_en)"))
        elif len(value) > MAX_LENGTH:
            found.append(
                (
                    owner,
                    f"name_en 超过 {MAX_LENGTH} 个字符 (name_en is over {MAX_LENGTH} characters)",
                )
            )
    return found


def _owner(prop):
    """The BPMN element a property belongs to: the first ancestor above extensionElements."""
    owner = prop.getparent()
    while owner is not None and (
        etree.QName(owner).namespace == SPIFF_NS
        or etree.QName(owner).localname == "extensionElements"
    ):
        owner = owner.getparent()
    return owner
