"""Hardened XML parsing for uploaded BPMN/DMN (no DTDs, no entities, no network), and the
SpiffWorkflow extension properties of a parsed element."""

from __future__ import annotations

from dataclasses import dataclass

import defusedxml.ElementTree as defused
from defusedxml import DefusedXmlException
from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


_OWN_PROPERTIES = f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"


def spiff_property(element, name: str) -> str | None:
    """The element's own SpiffWorkflow property ``name`` (not a child element's), None when it
    has none. Of a name given twice, the last, as SpiffWorkflow reads it: what a deploy checks
    is what the runtime uses."""
    value = None
    for prop in element.findall(_OWN_PROPERTIES):
        if prop.get("name") == name:
            value = prop.get("value")
    return value


@dataclass
class XmlProblem(Exception):
    message: str
    line: int | None = None
    halves: tuple[str, str] | None = None  # (Chinese, English): a detail may hold either

    @classmethod
    def bilingual(cls, zh: str, en: str, line: int | None = None) -> XmlProblem:
        return cls(f"{zh} ({en})", line, (zh, en))


def parse_secure(content: bytes) -> etree._Element:
    """Parse untrusted XML; any DOCTYPE (so any entity or DTD trick) is refused outright."""
    try:
        defused.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XmlProblem.bilingual(
            f"禁止使用 DTD/实体：{exc}", f"DTD and entities are not allowed: {exc}"
        ) from None
    except defused.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise XmlProblem.bilingual(f"XML 格式错误：{exc}", f"malformed XML: {exc}", line) from None
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlProblem.bilingual(
            f"XML 格式错误：{exc.msg}", f"malformed XML: {exc.msg}", exc.lineno
        ) from None
    if root.getroottree().docinfo.doctype:
        raise XmlProblem("禁止使用 DTD (DTD is not allowed)")
    return root


def kind_of(root: etree._Element) -> str | None:
    """'bpmn', 'dmn' or None, from the root element's namespace."""
    qname = etree.QName(root)
    if qname.localname != "definitions":
        return None
    if qname.namespace == BPMN_NS:
        return "bpmn"
    if qname.namespace in DMN_NAMESPACES:
        return "dmn"
    return None


def element_at_line(root: etree._Element, line: int | None) -> str | None:
    """The id of the innermost element with an id that starts on or before `line`."""
    if not line:
        return None
    found = None
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.sourceline and element.sourceline > line:
            break
        if element.get("id"):
            found = element.get("id")
    return found
