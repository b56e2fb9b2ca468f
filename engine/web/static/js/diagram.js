// Case diagram: bpmn-js viewer with the active and completed steps highlighted.
(function () {
  for (const el of document.querySelectorAll("[data-diagram-url]")) {
    fetch(el.dataset.diagramUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => response.json())
      .then(async (diagram) => {
        const viewer = new BpmnJS({ container: el });
        await viewer.importXML(diagram.xml);
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
