// IGNY8 client behaviour: toasts from HX-Trigger, confirmation of destructive forms, menus.
// No inline scripts anywhere (the CSP forbids them); everything lives here.
(function () {
  "use strict";

  function showToast(level, message) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level === "error" ? "error" : "success");
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = message;
    region.appendChild(el);
    setTimeout(function () { el.classList.add("toast-hide"); }, 5000);
    setTimeout(function () { el.remove(); }, 5600);
  }

  function fadeExisting() {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.classList.add("toast-hide"); }, 5000);
      setTimeout(function () { el.remove(); }, 5600);
    });
  }

  // HX-Trigger: {"toast": {"level": "...", "message": "..."}}
  document.body.addEventListener("toast", function (evt) {
    var d = evt.detail || {};
    showToast(d.level, d.message || "");
  });

  // Forms with data-confirm ask before they submit (removals, revocations).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  // Destructive bulk actions (data-confirm-actions on the bulk form) say how many rows they take and ask first;
  // past 1,000 rows the number must be typed, so "all N matching" is never deleted by a stray click.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var actions = form && form.getAttribute && form.getAttribute("data-confirm-actions");
    var action = actions && form.querySelector("select[name=action]");
    if (!action || actions.split(" ").indexOf(action.value) < 0) return;
    var all = form.querySelector("[data-select-matching]");
    var n = all && all.checked
      ? parseInt(all.getAttribute("data-total"), 10) || 0
      : Array.from(form.elements).filter(function (e) { return e.name === "ids" && e.checked; }).length;
    if (n === 0) return; // nothing selected: the server says so
    var what = n + " " + (form.getAttribute("data-noun") || "row") + (n === 1 ? "" : "s");
    var ok;
    if (n > 1000) {
      var typed = window.prompt("This deletes " + what + " and cannot be undone. Type " + n + " to confirm.");
      ok = typed !== null && typed.replace(/[\s,.]/g, "") === String(n);
      if (typed !== null && !ok) showToast("error", "Nothing was deleted: the number typed was not " + n + ".");
    } else {
      ok = window.confirm("Delete " + what + "? This cannot be undone.");
    }
    if (!ok) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  // Close open menus when clicking elsewhere.
  document.addEventListener("click", function (evt) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(evt.target)) d.removeAttribute("open");
    });
  });

  // Select the whole secret on focus, so it can be copied at once.
  document.addEventListener("focusin", function (evt) {
    if (evt.target.classList && evt.target.classList.contains("copy")) evt.target.select();
  });

  // Bulk selection: a header checkbox ticks every row checkbox of its form on this page; ticking
  // "all matching" makes the ticked rows irrelevant, so they are cleared to avoid a mixed message.
  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (!t.matches) return;
    if (t.matches("[data-select-page]")) {
      var table = t.closest("table");
      if (table) table.querySelectorAll("input[name=ids]").forEach(function (b) { b.checked = t.checked; });
    }
  });

  // Live length counters beside meta fields: "42 / 60", red past the limit.
  function updateCounters() {
    document.querySelectorAll("[data-counter-for]").forEach(function (c) {
      var input = document.getElementById(c.getAttribute("data-counter-for"));
      if (!input) return;
      var max = parseInt(c.getAttribute("data-max"), 10) || 0;
      var n = Array.from(input.value).length;
      c.textContent = n + " / " + max;
      c.classList.toggle("over", n > max);
    });
  }
  document.addEventListener("input", function (evt) {
    if (evt.target.hasAttribute && evt.target.hasAttribute("data-count")) updateCounters();
  });
  updateCounters();
  document.body.addEventListener("htmx:afterSettle", updateCounters);

  // A form shown again with errors: focus its first invalid field (the page's own load, or a boosted swap).
  function focusFirstError() {
    var el = document.querySelector('main [aria-invalid="true"]');
    if (el) el.focus();
  }
  focusFirstError();
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    if (evt.detail && evt.detail.target === document.body) focusFirstError();
  });

  fadeExisting();
  document.body.addEventListener("htmx:afterSettle", fadeExisting);
})();
