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

  // An element's English name: its SpiffWorkflow property name_en (see processes/README.md).
  function englishName(bo) {
    const values = (bo && bo.extensionElements && bo.extensionElements.values) || [];
    for (const ext of values) {
      if (ext.$type !== "spiffworkflow:properties") continue;
      const prop = (ext.$children || []).find((p) => p.name === "name_en");
      if (prop && String(prop.value || "").trim()) return String(prop.value).trim();
    }
    return null;
  }

  // English pages name steps in English where the diagram gives an English name; a pool is
  // named by its process. External labels (events, gateways, flows) share the element's
  // business object, so they are redrawn too.
  function relabelInEnglish(viewer) {
    const registry = viewer.get("elementRegistry");
    const graphics = viewer.get("graphicsFactory");
    const redraw = (element) =>
      graphics.update(element.waypoints ? "connection" : "shape", element, registry.getGraphics(element));
    registry.filter((element) => element.type !== "label").forEach((element) => {
      const bo = element.businessObject;
      const name = englishName(element.type === "bpmn:Participant" ? bo.processRef : bo);
      if (!name) return;
      bo.name = name;
      redraw(element);
      if (element.label) redraw(element.label);
    });
  }

  // Below this scale a task's name cannot be read (a whole procedure fitted on a phone).
  const READABLE = 0.6;
  const FOCUSED = 0.85;

  // Centre the view on the current steps at a readable scale; the whole diagram stays a pan
  // (drag) or a pinch away.
  function focus(canvas, registry, ids) {
    const shapes = ids.map((id) => registry.get(id)).filter((shape) => shape && shape.width);
    if (!shapes.length) return;
    const left = Math.min(...shapes.map((s) => s.x));
    const top = Math.min(...shapes.map((s) => s.y));
    const right = Math.max(...shapes.map((s) => s.x + s.width));
    const bottom = Math.max(...shapes.map((s) => s.y + s.height));
    const outer = canvas.viewbox().outer;
    const width = outer.width / FOCUSED;
    const height = outer.height / FOCUSED;
    canvas.viewbox({
      x: (left + right) / 2 - width / 2,
      y: (top + bottom) / 2 - height / 2,
      width,
      height,
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
        if (el.dataset.english === "true") relabelInEnglish(viewer);
        const canvas = viewer.get("canvas");
        const registry = viewer.get("elementRegistry");
        const mark = (id, cls) => { if (registry.get(id)) canvas.addMarker(id, cls); };
        diagram.completed.forEach((id) => mark(id, "highlight-done"));
        diagram.active.forEach((id) => mark(id, "highlight-active"));
        canvas.zoom("fit-viewport");
        if (canvas.zoom() < READABLE && diagram.active.length) {
          focus(canvas, registry, diagram.active);
          // Zoomed in on the current steps: one click back to the whole procedure and again.
          const views = el.closest(".diagram-card").querySelector(".diagram-views");
          if (views) {
            views.hidden = false;
            views.querySelector("[data-diagram-view=fit]").addEventListener("click", () => canvas.zoom("fit-viewport"));
            views.querySelector("[data-diagram-view=focus]").addEventListener("click", () => focus(canvas, registry, diagram.active));
          }
        }
        el.dataset.loaded = "true";
      })
      .catch((error) => { el.textContent = String(error); });
  }
})();
