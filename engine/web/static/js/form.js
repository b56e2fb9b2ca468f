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
      return;
    }
    const remove = event.target.closest(".remove-row");
    if (remove) remove.closest(".row-item").remove();
  });
})();
