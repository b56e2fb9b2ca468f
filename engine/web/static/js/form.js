// Lists of objects in task forms: add a row from the <template>, remove a row.
(function () {
  document.addEventListener("click", (event) => {
    const add = event.target.closest(".add-row");
    if (add) {
      const fieldset = add.closest("fieldset.rows");
      const index = Number(add.dataset.next || 0);
      const html = fieldset.querySelector(":scope > template").innerHTML.replaceAll("__index__", String(index));
      fieldset.querySelector(":scope > .row-list").insertAdjacentHTML("beforeend", html);
      add.dataset.next = String(index + 1);
      refreshRequired();
      return;
    }
    const remove = event.target.closest(".remove-row");
    if (remove) remove.closest(".row-item").remove();
  });

  // Fields required only under a condition (data-required-if, from the schema's if/then):
  // the class is-required turns their marker into a real asterisk while the condition holds.
  function inputValues(form, name) {
    const values = [];
    for (const input of form.querySelectorAll(`[name="${CSS.escape(name)}"], [name="${CSS.escape(name)}__file"]`)) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) continue;
      if (input.type === "file") { if (input.files && input.files.length) values.push("file"); continue; }
      if (input.value.trim() !== "") values.push(input.value);
    }
    return values;
  }

  function holds(form, test) {
    const values = inputValues(form, test.name);
    return test.values === null ? values.length > 0 : values.some((v) => test.values.includes(v));
  }

  function refreshRequired() {
    for (const field of document.querySelectorAll("[data-required-if]")) {
      const form = field.closest("form");
      if (!form) continue;
      let alternatives;
      try { alternatives = JSON.parse(field.dataset.requiredIf); } catch (e) { continue; }
      const required = alternatives.some((alt) => alt.all.every((t) => holds(form, t)) !== alt.unless);
      field.classList.toggle("is-required", required);
    }
  }

  document.addEventListener("change", refreshRequired);
  document.addEventListener("DOMContentLoaded", refreshRequired);
  if (document.readyState !== "loading") refreshRequired();
})();
