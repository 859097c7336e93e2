// The customer list and selection: small enhancements; every page works without them.
(() => {
  const reveal = (root) => {
    root.querySelectorAll("[data-check-all], [data-print]").forEach((el) => { el.hidden = false; });
  };

  document.addEventListener("DOMContentLoaded", () => reveal(document));
  // The results partial is swapped in by htmx: its "tick all" box needs revealing too.
  document.addEventListener("htmx:afterSwap", (event) => reveal(event.target));

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.matches("[data-check-all]")) return;
    box.closest("table").querySelectorAll('tbody input[type="checkbox"][name="customer"]')
      .forEach((row) => { row.checked = box.checked; });
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
