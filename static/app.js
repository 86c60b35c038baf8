// Small enhancements; the site works without them (and without htmx).
(function () {
  "use strict";

  // "/" jumps to the search box, as on most search sites.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var box = document.getElementById("q");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    }
  });

  // Long facets (sources run into thousands) get a box that filters their values.
  function enableFacetFilters(root) {
    root.querySelectorAll("input[data-filter-for]").forEach(function (input) {
      input.hidden = false;
      input.addEventListener("input", function () {
        var section = input.closest(".facet");
        var needle = input.value.trim().toLowerCase();
        var details = section.querySelector("details.more");
        if (details && needle) details.open = true;
        section.querySelectorAll(".facet-values li").forEach(function (li) {
          var link = li.querySelector("a");
          var value = link ? link.getAttribute("data-value") || "" : "";
          li.hidden = needle !== "" && value.indexOf(needle) === -1;
        });
      });
      // Keep typing in the filter box from submitting the search form.
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enableFacetFilters(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enableFacetFilters(event.target); });
})();
