// DMN editor (dmn-js): switch between the DRD and decision tables, validate and deploy.
import { readConfig, wireActions } from "./modeler_common.js";

const { xml, config } = readConfig();
const modeler = new DmnJS({ container: "#canvas", common: { keyboard: { bindTo: window } } });
window.pazhouDmn = modeler;
const nav = document.querySelector("[data-dmn-views]");

function renderViews() {
  const active = modeler.getActiveView();
  nav.replaceChildren(
    ...modeler.getViews().map((view) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = view.element.name || view.element.id;
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
