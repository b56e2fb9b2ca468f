// BPMN modeler with a small properties form: the name and English name (name_en) of any named
// element, or of the process when its pool is selected, and the SpiffWorkflow extension
// properties of a user task (department, formKey, sla_working_days, legal_basis and its English
// legal_basis_en, stage); see processes/README.md. Every edit is one step on the command stack (Ctrl+Z / Ctrl+Y), and the
// panel follows the diagram as it changes (undo, redo, a label edited on the canvas).
import { readConfig, wireActions } from "./modeler_common.js";

const SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core";
const EDITABLE = ["formKey", "sla_working_days", "legal_basis", "legal_basis_en", "stage"];
// Elements whose name a reader sees (lanes are named by department codes, not edited here).
const NAMED = /^bpmn:(\w*Task|\w*Event|\w*Gateway|CallActivity|SubProcess|Transaction|SequenceFlow|Participant)$/;

const { xml, config } = readConfig();
const modeler = new BpmnJS({ container: "#canvas", keyboard: { bindTo: document } });
const moddle = modeler.get("moddle");
const modeling = modeler.get("modeling");
const canvas = modeler.get("canvas");
const registry = modeler.get("elementRegistry");
window.pazhouModeler = modeler; // for tests and the browser console

function propertiesElement(bo, create) {
  let ext = bo.extensionElements;
  if (!ext) {
    if (!create) return null;
    ext = moddle.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    bo.extensionElements = ext;
  }
  ext.values = ext.values || [];
  let props = ext.values.find((v) => v.$type === "spiffworkflow:properties");
  if (!props && create) {
    props = moddle.createAny("spiffworkflow:properties", SPIFF_NS, {});
    props.$children = [];
    props.$parent = ext;
    ext.values.push(props);
  }
  return props || null;
}

function readProperty(bo, name) {
  const props = propertiesElement(bo, false);
  const found = props && (props.$children || []).find((p) => p.name === name);
  return found ? found.value : "";
}

function writeProperty(bo, name, value) {
  const props = propertiesElement(bo, Boolean(value));
  if (!props) return;
  props.$children = (props.$children || []).filter((p) => p.name !== name);
  if (value) {
    const prop = moddle.createAny("spiffworkflow:property", SPIFF_NS, { name, value });
    prop.$parent = props;
    props.$children.push(prop);
  }
}

// The panel's edits go through the command stack, so that Ctrl+Z / Ctrl+Y undo and redo each of
// them in one step. The SpiffWorkflow extension elements are not in bpmn-moddle (no descriptor is
// registered: they are read as generic elements with $children), so bpmn-js's own commands cannot
// change them; this command writes one property and keeps what it replaced for its revert.
class UpdateExtensionPropertyHandler {
  execute(context) {
    const { element, holder, name, value } = context;
    const ext = holder.extensionElements;
    const props = ext && (ext.values || []).find((v) => v.$type === "spiffworkflow:properties");
    context.old = {
      ext,
      values: ext && ext.values && [...ext.values],
      props,
      children: props && props.$children && [...props.$children],
    };
    writeProperty(holder, name, value);
    return element;
  }

  revert(context) {
    const { element, holder, old } = context;
    // (moddle's set removes a property given undefined, so what was missing is missing again)
    holder.set("extensionElements", old.ext);
    if (old.ext) old.ext.set("values", old.values);
    if (old.props && old.children) old.props.$children = old.children;
    else if (old.props) delete old.props.$children;
    return element;
  }
}

// One panel edit: the changes it makes are executed as parts of this command (in its preExecute),
// so they share its place on the command stack and one Ctrl+Z undoes them all.
class PanelEditHandler {
  constructor(commandStack) {
    this.commandStack = commandStack;
  }

  preExecute({ element, changes }) {
    for (const change of changes) {
      const { moddleElement, properties } = change;
      if (moddleElement) modeling.updateModdleProperties(element, moddleElement, properties);
      else if (properties) modeling.updateProperties(element, properties);
      else this.commandStack.execute("pazhou.updateExtensionProperty", { element, ...change });
    }
  }
}
PanelEditHandler.$inject = ["commandStack"];

const commandStack = modeler.get("commandStack");
commandStack.registerHandler("pazhou.updateExtensionProperty", UpdateExtensionPropertyHandler);
commandStack.registerHandler("pazhou.panelEdit", PanelEditHandler);

// A pool and its process carry one name, and a deploy stores the process's as the procedure's:
// a pool's label edited on the canvas renames its process within the same command (one undo
// takes both back), as a rename in the panel does.
modeler.on("commandStack.element.updateLabel.postExecute", ({ context }) => {
  const { element } = context;
  const process = element.type === "bpmn:Participant" && element.businessObject.processRef;
  if (process && process.name !== element.businessObject.name) {
    modeling.updateModdleProperties(element, process, { name: element.businessObject.name });
  }
});

// The department property is a Python expression; a fixed department is a quoted code.
const quoteCode = (code) => (code ? `'${code}'` : "");
const unquoteCode = (expr) => (expr || "").replace(/^\s*['"]([a-z_]+)['"]\s*$/, "$1");

const panel = document.getElementById("properties");
const form = panel.querySelector("[data-props]");
let current = null;

// A pool's English name is its process's: the definition's name on English pages.
const nameHolder = (element) =>
  element.type === "bpmn:Participant" && element.businessObject.processRef
    ? element.businessObject.processRef
    : element.businessObject;

// The value each field was last given from the diagram: a field whose value differs from it while
// it has the focus is being typed in.
const shown = new Map();
function showValue(field, value, keepTyping) {
  if (keepTyping && field === document.activeElement && field.value !== shown.get(field.name)) return;
  field.value = value;
  shown.set(field.name, field.value);
}

// Show the element's values in the panel. keepTyping: the element is the one shown already (the
// diagram changed), so a field the analyst is typing in keeps what they typed.
function showElement(element, keepTyping = false) {
  const named = Boolean(element && NAMED.test(element.type));
  const isUserTask = named && element.type === "bpmn:UserTask";
  current = named ? element : null;
  form.hidden = !named;
  form.querySelector("[data-user-task]").hidden = !isUserTask;
  panel.querySelector("[data-empty]").hidden = named;
  if (!named) return;
  const bo = element.businessObject;
  const show = (name, value) => showValue(form.elements[name], value, keepTyping);
  form.querySelector("[data-prop-id]").textContent = nameHolder(element).id;
  show("name", bo.name || "");
  show("name_en", readProperty(nameHolder(element), "name_en"));
  if (!isUserTask) return;
  show("department", unquoteCode(readProperty(bo, "department")));
  for (const name of EDITABLE) show(name, readProperty(bo, name));
}

// An edit is taken when its field is left. The value and the element are read at once, as the
// panel may show another element by the time the edit is applied.
function editFrom(input) {
  const element = current;
  const bo = element.businessObject;
  const holder = nameHolder(element);
  const { name } = input;
  let changes;
  if (name === "name") {
    const value = input.value;
    changes = [];
    if ((bo.name || "") !== value) changes.push({ properties: { name: value } });
    // a pool and its process carry one name (the shipped diagrams keep them equal)
    if (holder !== bo && (holder.name || "") !== value) {
      changes.push({ moddleElement: holder, properties: { name: value } });
    }
  } else {
    const value = name === "department" ? quoteCode(input.value) : input.value.trim();
    const target = name === "name_en" ? holder : bo;
    changes = readProperty(target, name) === value ? [] : [{ holder: target, name, value }];
  }
  return () => {
    if (changes.length) commandStack.execute("pazhou.panelEdit", { element, changes });
  };
}

// Pressing on the diagram leaves the field (change fires on mousedown). Applying the edit then
// would re-render the diagram in the middle of the click: diagram-js re-appends the edited
// element's siblings to keep their order, the pressed shape leaves the document for a moment,
// and the browser fires no click, so the first click on another element selected nothing. Such
// an edit waits until the press ends: it is applied as the click starts (before the click selects
// anything), or after a press that ends without a click (a drag).
const canvasContainer = document.getElementById("canvas");
let pressOnCanvas = false;
let pending = [];
function applyPending() {
  const edits = pending;
  pending = [];
  edits.forEach((apply) => apply());
}
window.addEventListener(
  "pointerdown",
  (event) => {
    pressOnCanvas = canvasContainer.contains(event.target);
  },
  true,
);
window.addEventListener("click", applyPending, true);
for (const type of ["pointerup", "pointercancel"]) {
  window.addEventListener(
    type,
    () => {
      pressOnCanvas = false;
      if (pending.length) setTimeout(applyPending);
    },
    true,
  );
}

form.addEventListener("change", (event) => {
  if (!current) return;
  // The edit is taken: once applied, the field shows the value as stored (trimmed, say).
  shown.set(event.target.name, event.target.value);
  const apply = editFrom(event.target);
  if (pressOnCanvas) pending.push(apply);
  else apply();
});

modeler.on("selection.changed", ({ newSelection }) => showElement(newSelection[0] || null));
// Undo, redo, a label edited on the canvas: the panel shows the element as it is now.
modeler.on("commandStack.changed", () => {
  if (!current) return;
  showElement(registry.get(current.id) === current ? current : null, true);
});

let marked = [];
function markProblems(problems) {
  marked.forEach((id) => registry.get(id) && canvas.removeMarker(id, "has-problem"));
  marked = problems.map((p) => p.element_id).filter((id) => id && registry.get(id));
  marked.forEach((id) => canvas.addMarker(id, "has-problem"));
}

async function getXml() {
  const { xml: out } = await modeler.saveXML({ format: true });
  return out;
}

// SpiffWorkflow names data by variable (loopDataInputRef = required_departments), which BPMN
// treats as an id reference; keep such unresolved references so saving does not drop them.
function keepUnresolvedReferences(warnings) {
  for (const warning of warnings || []) {
    const { element, property, value } = warning;
    if (!element || !property || !value || !String(warning.message).startsWith("unresolved reference")) continue;
    if (element.get(property)) continue;
    element.set(property, moddle.create("bpmn:DataInput", { id: value }));
  }
}

const { warnings } = await modeler.importXML(xml);
keepUnresolvedReferences(warnings);
fitBesidePalette();
document.getElementById("canvas").dataset.loaded = "true";
wireActions({ config, getXml, markProblems, onChange: (callback) => modeler.on("commandStack.changed", callback) });

// Fit the whole diagram into the part of the canvas the tool palette (top left) leaves free.
function fitBesidePalette() {
  const palette = document.querySelector("#canvas .djs-palette");
  const left = (palette ? palette.getBoundingClientRect().width : 50) + 40;
  const margin = 20;
  const { inner, outer } = canvas.viewbox();
  if (!inner.width || !inner.height) return;
  const scale = Math.min((outer.width - left - margin) / inner.width, (outer.height - 2 * margin) / inner.height, 1);
  canvas.viewbox({
    x: inner.x - left / scale,
    y: inner.y - margin / scale,
    width: outer.width / scale,
    height: outer.height / scale,
  });
}
