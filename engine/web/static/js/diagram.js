// Case diagram: bpmn-js viewer with the active and completed steps highlighted.
(function () {
  // Lane names in the BPMN are department codes (the engine reads them); people read names.
  function relabelLanes(viewer, names) {
    const registry = viewer.get("elementRegistry");
    const graphics = viewer.get("graphicsFactory");
    registry.filter((element) => element.type === "bpmn:Lane").forEach((lane) => {
      const code = (lane.businessObject.name || "").trim();
      if (!Object.prototype.hasOwnProperty.call(names, code)) return;
      lane.businessObject.name = names[code];
      graphics.update("shape", lane, registry.getGraphics(lane));
    });
  }

  for (const el of document.querySelectorAll("[data-diagram-url]")) {
    let laneNames = {};
    try { laneNames = JSON.parse(el.dataset.laneNames || "{}"); } catch (error) { laneNames = {}; }
    fetch(el.dataset.diagramUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => response.json())
      .then(async (diagram) => {
        const viewer = new BpmnJS({ container: el });
        await viewer.importXML(diagram.xml);
        relabelLanes(viewer, laneNames);
        const canvas = viewer.get("canvas");
        const registry = viewer.get("elementRegistry");
        const mark = (id, cls) => { if (registry.get(id)) canvas.addMarker(id, cls); };
        diagram.completed.forEach((id) => mark(id, "highlight-done"));
        diagram.active.forEach((id) => mark(id, "highlight-active"));
        canvas.zoom("fit-viewport");
        el.dataset.loaded = "true";
      })
      .catch((error) => { el.textContent = String(error); });
  }
})();
