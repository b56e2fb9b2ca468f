// DMN editor (dmn-js): switch between the DRD and decision tables, validate and deploy.
import { readConfig, wireActions } from "./modeler_common.js";

const { xml, config } = readConfig();
// dmn-js's own labels ("Hit policy", "When", "Then"…) through its translate service.
const labels = config.dmnLabels || {};
const translate = (template, replacements = {}) =>
  (labels[template] || template).replace(/{([^}]+)}/g, (_, key) => replacements[key] ?? `{${key}}`);
// Per view: dmn-js replaces, not merges, the additionalModules of its `common` options.
const translated = { additionalModules: [{ translate: ["value", translate] }] };
const modeler = new DmnJS({
  container: "#canvas",
  common: { keyboard: { bindTo: window } },
  drd: translated,
  decisionTable: translated,
  literalExpression: translated,
  boxedExpression: translated,
});
window.pazhouDmn = modeler;
const nav = document.querySelector("[data-dmn-views]");

function renderViews() {
  const active = modeler.getActiveView();
  nav.replaceChildren(
    ...modeler.getViews().map((view) => {
      const button = document.createElement("button");
      button.type = "button";
      // The diagram of decisions and a decision's table may share a name: say which is which.
      button.textContent = view.type === "drd" ? config.texts.drd : view.element.name || view.element.id;
      if (active && active.element === view.element) button.className = "primary";
      button.addEventListener("click", () => modeler.open(view));
      return button;
    }),
  );
}
modeler.on("views.changed", renderViews);

await modeler.importXML(xml);
const table = modeler.getViews().find((view) => view.type === "decisionTable");
if (table) await modeler.open(table);
document.getElementById("canvas").dataset.loaded = "true";
wireActions({
  config,
  getXml: async () => (await modeler.saveXML({ format: true })).xml,
  markProblems: () => {},
  // Every dmn-js view (DRD, decision table) has a command stack of its own.
  onChange: (callback) => {
    const watched = new WeakSet();
    const watch = () => {
      const viewer = modeler.getActiveViewer();
      if (!viewer || watched.has(viewer)) return;
      watched.add(viewer);
      viewer.on("commandStack.changed", callback);
    };
    watch();
    modeler.on("views.changed", watch);
  },
});
