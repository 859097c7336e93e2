// Progressive enhancement only: every form works without JavaScript.
// The "js" class lets app.css fold the phone menu only when this script can open it again.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  document.querySelectorAll(".js-hidden").forEach((el) => el.classList.add("visually-hidden"));
  // A table wider than its box scrolls inside it: make that box reachable by keyboard
  // (WCAG 2.1.1), but only where it scrolls, so wide screens get no extra tab stops.
  const focusableScrollers = (root) => {
    root.querySelectorAll(".table-wrap, .table-responsive, main .table").forEach((el) => {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
      }
    });
  };
  // A tab strip that scrolls sideways (a phone) shows its current tab, not only the first ones.
  const centreCurrentTabs = (root) => {
    root.querySelectorAll(".tabs ul, .settings-menu ul").forEach((strip) => {
      const current = strip.querySelector('[aria-current="page"]');
      if (current && strip.scrollWidth > strip.clientWidth) {
        strip.scrollLeft = current.offsetLeft - (strip.clientWidth - current.offsetWidth) / 2;
      }
    });
  };
  focusableScrollers(document);
  centreCurrentTabs(document);
  document.body.addEventListener("htmx:afterSettle", (event) => {
    focusableScrollers(event.target);
    centreCurrentTabs(event.target);
  });
  // The phone menu's toggler (templates/base.html): opens and closes the main navigation.
  document.querySelectorAll("[data-nav-toggle]").forEach((toggle) => {
    const target = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!target) return;
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      target.classList.toggle("is-open", open);
    });
  });
});
