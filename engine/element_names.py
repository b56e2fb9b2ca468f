"""English texts of BPMN elements: the SpiffWorkflow extension properties ``name_en`` and
``legal_basis_en``.

Names in the BPMN are Chinese (``name``); an element or a process may carry its English name
beside it, and a user task the English of its ``legal_basis``, so analysts edit both languages
in one place::

    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="name_en" value="Fire protection design review"/>
      <spiffworkflow:property name="legal_basis" value="《建设工程消防设计审查验收管理暂行规定》第十五条"/>
      <spiffworkflow:property name="legal_basis_en" value="Interim Provisions on ..., Art. 15"/>
    </spiffworkflow:properties></bpmn:extensionElements>

English pages show them and fall back to the Chinese text when there is none.
"""

from __future__ import annotations

from lxml import etree

from .bpmn_xml import SPIFF_NS, spiff_property

NAME_EN = "name_en"
LEGAL_BASIS_EN = "legal_basis_en"
# task.title_en holds 300 characters, process_definition.name_en 200
MAX_LENGTH = 200
# task.legal_basis_en holds 500: a citation in English runs two to three times its Chinese
# (task.legal_basis, 300), e.g. "Interim Provisions on the Administration of Fire Protection
# Design Review and Acceptance of Construction Projects" for 《建设工程消防设计审查验收管理暂行规定》.
LEGAL_BASIS_MAX_LENGTH = 500

# property -> (its longest value, what it is called in a deploy problem)
_CHECKED = {
    NAME_EN: (MAX_LENGTH, "英文名称"),
    LEGAL_BASIS_EN: (LEGAL_BASIS_MAX_LENGTH, "英文法律依据"),
}


def name_en_of(element) -> str | None:
    """The element's own ``name_en`` (not a child element's); None when it has none."""
    return _text(spiff_property(element, NAME_EN))


def legal_basis_en_of(element) -> str | None:
    """The element's own ``legal_basis_en``; None when it has none."""
    return _text(spiff_property(element, LEGAL_BASIS_EN))


def english(properties: dict, name: str = NAME_EN) -> str | None:
    """``name_en`` (or another English property, ``legal_basis_en``) from a task spec's parsed
    extension properties (SpiffWorkflow's dict)."""
    return _text(properties.get(name))


def _text(value: str | None) -> str | None:
    """A property's value as shown: blank counts as none."""
    return (value or "").strip() or None


def problems(process) -> list[tuple[object, str]]:
    """(element, message) for every ``name_en`` or ``legal_basis_en`` in the process that is
    empty, too long or the element's second."""
    found = []
    given = set()
    for prop in process.iter(f"{{{SPIFF_NS}}}property"):
        name = prop.get("name")
        if name not in _CHECKED:
            continue
        limit, called = _CHECKED[name]
        owner = _owner(prop)
        owner = process if owner is None else owner
        value = _text(prop.get("value"))
        if (owner, name) in given:
            found.append((owner, f"{name} 重复：每个元素只写一个{called} ({name} given twice)"))
        given.add((owner, name))
        if not value:
            found.append((owner, f"{name} 为空：请填写{called}，或删除该属性 (empty {name})"))
        elif len(value) > limit:
            found.append((owner, f"{name} 超过 {limit} 个字符 ({name} is over {limit} characters)"))
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
