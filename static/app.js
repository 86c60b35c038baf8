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

  // Timeline bars are links (they work without scripts); with scripts, a click swaps the
  // results in place, and a drag across bars picks a date range.
  function go(href) {
    if (window.htmx && document.getElementById("results")) {
      window.htmx.ajax("GET", href, { target: "#results", swap: "innerHTML" });
    } else {
      window.location.href = href;
    }
  }
  function barAt(target) {
    return target && target.closest ? target.closest("svg a.bar") : null;
  }
  var dragFrom = null;
  var dragged = false;
  function paint(to) {
    var bars = document.querySelectorAll("svg a.bar");
    var lo = dragFrom.dataset.start < to.dataset.start ? dragFrom.dataset.start : to.dataset.start;
    var hi = dragFrom.dataset.end > to.dataset.end ? dragFrom.dataset.end : to.dataset.end;
    bars.forEach(function (bar) {
      bar.classList.toggle("picked", bar.dataset.start >= lo && bar.dataset.end <= hi);
    });
    return [lo, hi];
  }
  document.addEventListener("mousedown", function (event) {
    var bar = barAt(event.target);
    if (bar && event.button === 0) {
      dragFrom = bar;
      dragged = false;
      event.preventDefault();
    }
  });
  document.addEventListener("mouseover", function (event) {
    var bar = barAt(event.target);
    if (dragFrom && bar) {
      dragged = dragged || bar !== dragFrom;
      paint(bar);
    }
  });
  document.addEventListener("mouseup", function (event) {
    if (!dragFrom) return;
    var bar = barAt(event.target) || dragFrom;
    if (dragged && bar !== dragFrom) {
      var range = paint(bar);
      var url = new URL(dragFrom.getAttribute("href"), window.location.href);
      url.searchParams.set("from", range[0]);
      url.searchParams.set("to", range[1]);
      go(url.pathname + url.search);
    }
    dragFrom = null;
  });
  document.addEventListener("click", function (event) {
    var bar = barAt(event.target);
    if (!bar) return;
    event.preventDefault();
    if (!dragged) go(bar.getAttribute("href"));
    dragged = false;
  });

  document.addEventListener("DOMContentLoaded", function () { enableFacetFilters(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enableFacetFilters(event.target); });
})();
