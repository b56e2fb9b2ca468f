// Validate and deploy the edited XML through the page endpoints; mark problems on elements.
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

export async function postXml(url, filename, xml) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify({ filename, xml }),
  });
  const body = await response.json();
  return { ok: response.ok, body };
}

export function readConfig() {
  return {
    xml: JSON.parse(document.getElementById("diagram-xml").textContent),
    config: JSON.parse(document.getElementById("modeler-config").textContent),
  };
}

// Leaving the page with edits not deployed asks first (the browser's own confirmation).
function guardUnsavedEdits(onChange) {
  let dirty = false;
  onChange(() => {
    dirty = true;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
  return () => {
    dirty = false;
  };
}

export function wireActions({ config, getXml, markProblems, onChange }) {
  const deployed = guardUnsavedEdits(onChange);
  const status = document.querySelector("[data-testid=modeler-status]");
  const list = document.querySelector("[data-testid=problems]");
  const show = (problems) => {
    list.replaceChildren(
      ...problems.map((p) => {
        const li = document.createElement("li");
        li.dataset.elementId = p.element_id || "";
        li.textContent = `${p.element_id ? p.element_id + ": " : ""}${p.message}`;
        return li;
      }),
    );
    markProblems(problems);
  };
  const say = (text, good) => {
    status.textContent = text;
    status.className = `modeler-status ${good ? "ok" : "bad"}`;
  };
  document.querySelector("[data-action=validate]").addEventListener("click", async () => {
    const { body } = await postXml(config.validateUrl, config.filename, await getXml());
    const problems = body.problems || [];
    show(problems);
    say(problems.length ? `${config.texts.problems}: ${problems.length}` : config.texts.valid, !problems.length);
  });
  document.querySelector("[data-action=deploy]").addEventListener("click", async () => {
    const { ok, body } = await postXml(config.deployUrl, config.filename, await getXml());
    const problems = body.problems || [];
    show(problems);
    if (!ok) {
      say(`${config.texts.problems}: ${problems.length || body.detail || ""}`, false);
      return;
    }
    deployed();
    const processes = body.deployed || [];
    const named = (d) => `${d.key} ${config.texts.version} ${d.version}`;
    if (!config.key) {
      // A DMN file: the processes that use it get a new version, or none changed.
      const fresh = processes.filter((d) => d.new);
      if (processes.length && !fresh.length) say(config.texts.unchangedAll, true);
      else say(`${config.texts.deployed} ${fresh.map(named).join(", ")}`, true);
      return;
    }
    const mine = processes.find((d) => d.key === config.key);
    if (mine && !mine.new) {
      say(`${config.texts.unchanged} ${mine.version}`, true);
      return;
    }
    say(`${config.texts.deployed} ${mine ? named(mine) : ""}`, true);
    if (mine) window.location.assign(`${config.pageUrl}?deployed=${mine.version}`);
  });
}
