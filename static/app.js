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
  function go(href, link) {
    carried.link = link;
    href = carried(href);
    carried.link = null;
    if (window.htmx && document.getElementById("results")) {
      window.htmx.ajax("GET", href, { target: "#results", swap: "innerHTML" });
    } else {
      window.location.href = href;
    }
  }
  function madeHref(link) {  // as the page made it, before carry() put the box's words in
    return link.getAttribute("data-made-href") || link.getAttribute("href");
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
      var url = new URL(madeHref(dragFrom), window.location.href);
      url.searchParams.set("from", range[0]);
      url.searchParams.set("to", range[1]);
      go(url.pathname + url.search, dragFrom);
    }
    dragFrom = null;
  });
  document.addEventListener("click", function (event) {
    var bar = barAt(event.target);
    if (!bar) return;
    event.preventDefault();
    if (!dragged) go(madeHref(bar), bar);
    dragged = false;
  });

  // -- The form is the one source of truth ---------------------------------------------
  // Whatever changed the search (a distinctive word, a bar, a facet, a chip, paging), the
  // answer's URL says what was searched; the form's controls are set from it, except the
  // one the user is in, so the next keystroke searches the same thing plus the keystroke.
  function form() { return document.getElementById("search-form"); }
  function search() { if (window.htmx && form()) window.htmx.trigger(form(), "refresh"); }

  function syncForm(url) {
    var f = form();
    if (!f || !url) return;
    var params = new URL(url, window.location.href).searchParams;
    var active = document.activeElement;
    var set = function (name, value) {
      var field = f.elements.namedItem(name);
      if (!field || field === active || field.type === "hidden") return;
      if (field.type === "checkbox") field.checked = params.get(name) === field.value;
      else field.value = value;
      if (field.type === "date") field.dataset.sent = field.value;
    };
    set("q", params.get("q") || "");
    set("sort", params.get("sort") || "relevance");
    set("from", params.get("from") || "");
    set("to", params.get("to") || "");
    set("match", "");
    set("group", params.get("group") || "story");
  }

  // Date fields search once a whole date is in them (a year of four digits, or emptied), on
  // change or when left: not at every digit, which Chromium reports as years 0001, 0019 and
  // 0198 on the way to 1987.
  function dateChanged(field) {
    var year = parseInt((field.value || "").slice(0, 4), 10);
    var whole = field.value === "" || year >= 1000;
    if (whole && field.value !== (field.dataset.sent || "")) {
      field.dataset.sent = field.value;
      search();
    }
  }
  ["change", "focusout"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target.matches && event.target.matches("#search-form input[type=date]")) dateChanged(event.target);
    });
  });
  // -- The box's words go with every link ---------------------------------------------------
  // A link in the results was made for the words the results answer. Followed while newer
  // words are in the box (clicked right after typing), it takes the box's words; a long
  // paste is not repeated in every link (data-q-kept: the links leave it out), so the box
  // puts it in. data-append: a distinctive word to add to them.
  var shownQ = null;  // the words the results on screen answer
  function carried(href) {
    var box = document.getElementById("q");
    if (!box || !href) return href;
    var url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin) return href;
    var q = url.searchParams.get("q");
    var link = carried.link;
    var kept = link && link.closest && link.closest("[data-q-kept]");
    var append = link && link.getAttribute && link.getAttribute("data-append");
    var words = box.value;
    if (kept && append) q = (words + " " + append).trim();
    else if (kept && q === null) q = words;
    else if (shownQ !== null && q !== null && words !== shownQ && q.indexOf(shownQ) === 0) q = words + q.slice(shownQ.length);
    else return href;
    if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
    return url.pathname + url.search + url.hash;
  }
  function carry(event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || !link.closest("#results")) return;
    // From the href the page made, however many times the link was focused or clicked: a
    // rewritten one would take the newer words twice.
    if (!link.hasAttribute("data-made-href")) link.setAttribute("data-made-href", link.getAttribute("href"));
    carried.link = link;
    var href = carried(link.getAttribute("data-made-href"));
    carried.link = null;
    if (href !== link.getAttribute("href")) link.setAttribute("href", href);
  }
  // Links htmx does not take (downloads, records) are followed as rewritten; a link copied
  // (the context menu), opened in a new tab (middle click, Ctrl+Enter) or shared carries the
  // words too, so "the API" of a pasted paragraph's results is that paragraph's.
  ["click", "auxclick", "contextmenu", "focusin"].forEach(function (type) {
    document.addEventListener(type, carry, true);
  });

  // A search means its words as written. Only a keystroke's search says the last word may
  // be unfinished (typing=1): the server then also counts its completions and says so. Enter,
  // a facet, a chip or paging send the search as written. The URL pushed carries the marker,
  // so opened again it shows what the page showed.
  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    var trigger = detail.triggeringEvent;
    if (trigger && trigger.type === "input" && trigger.target && trigger.target.id === "q") {
      detail.parameters["typing"] = "1";
    }
    // The address can hold a pasted paragraph: it is not sent again as a header (a 431).
    delete detail.headers["HX-Current-URL"];
    detail.errors = [];  // a half-typed date is said beside it (dateNote), not a silent stop
    dateNote();
    // A boosted link's address was read when it was boosted: the box's words go in here.
    var elt = detail.elt;
    if (elt && elt.tagName === "A") {
      carried.link = elt;
      detail.path = carried(detail.path);
      carried.link = null;
    }
    // The research views, words and facet values of a long paste's results: its words.
    if (elt && elt.closest && elt.closest("[data-q-kept]") && !/[?&]q=/.test(detail.path) && !("q" in detail.parameters)) {
      detail.parameters["q"] = shownQ || "";
    }
  });
  // A correction refused ("search instead for") holds until the words change.
  document.addEventListener("input", function (event) {
    if (event.target.id !== "q") return;
    var literal = document.querySelector("#form-filters [data-until-typed]");
    if (literal) literal.remove();
  });

  // -- Focus stays where the user is ---------------------------------------------------------
  // Controls inside the results carry a data-key; after the results are swapped, focus
  // returns to the control with the same key, or to the count of results.
  var focusKey = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var results = document.getElementById("results");
    if (event.detail.target !== results) return;  // the research views arriving keep the key
    focusKey = null;
    if (results && active && results.contains(active)) {
      var keyed = active.closest("[data-key]");
      focusKey = keyed ? keyed.getAttribute("data-key") : "";
    }
  });
  // Keys of controls in the research views, which arrive after the results.
  var LATER = /^(bar|scale|interval|span|count):/;
  function restoreFocus(researchArrived) {
    if (focusKey === null) return;
    var results = document.getElementById("results");
    var target = null;
    if (focusKey) {
      results.querySelectorAll("[data-key]").forEach(function (el) {
        if (!target && el.getAttribute("data-key") === focusKey) target = el;
      });
    }
    if (!target && LATER.test(focusKey) && !researchArrived && results.querySelector("details.research[open] .research-loading")) {
      return;  // wait for the research views
    }
    target = target || results.querySelector(".count");
    if (target) target.focus({ preventScroll: true });
    focusKey = null;
  }

  // -- Failures are said, with a retry -------------------------------------------------------
  function problem(message) {
    var box = document.getElementById("problem");
    if (!box) return;
    box.hidden = !message;
    box.querySelector(".problem-text").textContent = message || "";
  }
  function stale(on) {
    var results = document.getElementById("results");
    if (results) {
      results.classList.toggle("stale", on);
      results.setAttribute("aria-busy", on ? "true" : "false");
    }
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "results") stale(true);
  });
  // A failed search is said above the results; the research views and the distinctive words,
  // which follow in requests of their own, say it in their place.
  function searchFailed(event) {
    var target = event.detail.target;
    var asker = event.detail.elt;
    if (target && target.id !== "results" && asker && asker.hasAttribute("hx-get") && target.closest("#results")) {
      target.innerHTML = '<p class="muted small">These could not be loaded; search again to retry.</p>';
      target.removeAttribute("hx-indicator");
    }
    return target && target.id === "results";
  }
  document.addEventListener("htmx:responseError", function (event) {
    if (!searchFailed(event)) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    problem(status === 503 ? "The server is busy or restarting (503): these results are from the search before."
      : "The search failed (the server answered " + status + "): these results are from the search before.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (searchFailed(event)) problem("The server could not be reached: these results are from the search before.");
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (searchFailed(event)) problem("The search took too long to answer: these results are from the search before.");
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#problem button")) {
      problem("");
      search();
    }
  });

  // On a phone the filters fold behind a "Filters" button, open only when asked for.
  var PHONE = window.matchMedia ? window.matchMedia("(max-width: 760px)") : null;
  var filtersOpen = false;
  function foldFilters(root) {
    var details = (root || document).querySelector("details.filters");
    if (!details) return;
    if (PHONE && PHONE.matches) details.open = filtersOpen;
    details.addEventListener("toggle", function () { if (PHONE && PHONE.matches) filtersOpen = details.open; });
  }
  document.documentElement.classList.add("js");

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.classList && event.target.classList.contains("research-body")) {
      rovingBars(event.target);
      restoreFocus(true);
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    enableFacetFilters(event.target);
    var facet = event.target.closest && event.target.closest(".facet");
    var filter = facet && facet.querySelector("input[data-filter-for]");
    if (filter && filter.value) filter.dispatchEvent(new Event("input"));  // values just loaded
    if (event.target.id !== "results") return;
    foldFilters(event.target);
    var xhr = event.detail.xhr;
    var answered = (xhr && xhr.getResponseHeader("HX-Push-Url")) || (event.detail.pathInfo || {}).finalRequestPath;
    syncForm(answered);
    if (answered) shownQ = new URL(answered, window.location.href).searchParams.get("q") || "";
    openResearch(event.target);
    freshBaseline();
    problem("");
    stale(false);
    rovingBars(event.target);
    restoreFocus();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful && event.detail.target && event.detail.target.id === "results") {
      stale(false);
      document.getElementById("results").classList.add("stale");
    }
  });

  // -- Keyboard ------------------------------------------------------------------------------
  // The chart is one tab stop: arrow keys move between its bars, Home and End to the ends.
  function rovingBars(root) {
    var bars = (root || document).querySelectorAll("svg a.bar");
    bars.forEach(function (bar, i) { bar.setAttribute("tabindex", i === bars.length - 1 ? "0" : "-1"); });
  }
  document.addEventListener("keydown", function (event) {
    var bar = barAt(event.target);
    if (bar) {
      var bars = Array.prototype.slice.call(bar.ownerSVGElement.querySelectorAll("a.bar"));
      var i = bars.indexOf(bar);
      var next = { ArrowRight: i + 1, ArrowUp: i + 1, ArrowLeft: i - 1, ArrowDown: i - 1, Home: 0, End: bars.length - 1 }[event.key];
      if (next !== undefined && bars[next]) {
        event.preventDefault();
        bar.setAttribute("tabindex", "-1");
        bars[next].setAttribute("tabindex", "0");
        bars[next].focus();
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        go(madeHref(bar), bar);
      }
      return;
    }
    // Links that act as toggles (facet values) answer Space as buttons do.
    if (event.key === " " && event.target.matches && event.target.matches("a[role=button]")) {
      event.preventDefault();
      event.target.click();
    }
  });

  // -- History follows searches, not keys ----------------------------------------------------
  // While typing, the address is replaced: the first key of a new search makes its entry,
  // the next keys rewrite it. The search settles (a history entry of its own) on Enter, a
  // filter, a click or a pause of SETTLE_MS; Enter after typing rewrites the typed entry.
  var SETTLE_MS = 1000;
  var typingEntry = false;
  var settleTimer = null;
  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var history = event.detail.history;
    var config = event.detail.requestConfig || {};
    var trigger = config.triggeringEvent;
    var typing = trigger && trigger.type === "input";
    var path = history.path;
    if (typing) {
      history.type = typingEntry ? "replace" : "push";
      typingEntry = true;
      window.clearTimeout(settleTimer);
      settleTimer = window.setTimeout(function () { typingEntry = false; }, SETTLE_MS);
    } else {
      var sameSearch = typingEntry && trigger && trigger.type === "submit";
      history.type = sameSearch || path === here() ? "replace" : "push";
      typingEntry = false;
      window.clearTimeout(settleTimer);
    }
  });

  // -- Going back ----------------------------------------------------------------------------
  // Back and forward between searches reload the page (htmx keeps no copies of old pages):
  // where the list was scrolled is kept for each search as it is left, and put back.
  var SCROLL = "searchapp:scroll:";
  var RESTORE = "searchapp:restore-scroll";
  function here() { return window.location.pathname + window.location.search; }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "results") {
      sessionStorage.setItem(SCROLL + here(), String(window.scrollY));
    }
  });
  window.addEventListener("popstate", function () { sessionStorage.setItem(RESTORE, here()); });
  window.addEventListener("load", function () {
    if (sessionStorage.getItem(RESTORE) !== here()) return;
    sessionStorage.removeItem(RESTORE);
    var y = parseInt(sessionStorage.getItem(SCROLL + here()) || "", 10);
    if (!isNaN(y)) window.requestAnimationFrame(function () { window.scrollTo(0, y); });
  });

  // "Back to search" on a record returns to the exact search it was opened from: through
  // history when that is the page before (the list comes back scrolled where it was).
  var LAST = "searchapp:last-search";
  var OPENED = "searchapp:opened-from-search";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='/doc/']");
    if (link && document.getElementById("results")) {
      sessionStorage.setItem(LAST, window.location.pathname + window.location.search);
      sessionStorage.setItem(OPENED, "1");
    } else if (link && document.body.dataset.chain === "1") {
      sessionStorage.setItem(OPENED, "2");  // a record reached from one opened from a search
    }
    var back = event.target.closest && event.target.closest("a[data-back]");
    if (back && document.body.dataset.fromSearch === "1") {
      event.preventDefault();
      window.history.back();
    }
  });

  // -- Research views: folded until asked for; opened once, they stay open in this tab --------
  var RESEARCH = "searchapp:research-open";
  function openResearch(root) {
    var details = (root || document).querySelector("details.research");
    if (!details) return;
    if (sessionStorage.getItem(RESEARCH) === "1") details.open = true;
    details.addEventListener("toggle", function () {
      sessionStorage.setItem(RESEARCH, details.open ? "1" : "0");
      if (details.open) rovingBars(details);
    });
  }

  // -- A half-typed date is said, not a silent stop --------------------------------------------
  function dateNote() {
    var note = document.getElementById("date-note");
    if (!note) return;
    var half = [];
    document.querySelectorAll("#search-form input[type=date]").forEach(function (f) {
      if (f.validity && f.validity.badInput) half.push(f.name === "from" ? "From" : "To");
    });
    note.textContent = half.length ? half.join(" and ") + ": not a whole date yet, searching without it." : "";
  }
  ["input", "change", "focusout", "keyup"].forEach(function (type) {  // a part typed: keyup only
    document.addEventListener(type, function (event) {
      if (event.target.matches && event.target.matches("#search-form input[type=date]")) dateNote();
    });
  });

  // -- An open page notices new records ---------------------------------------------------------
  // Every FRESH_MS (while the tab is shown) one small GET of /fresh, a 304 from memory while
  // the index is the one the page has; after a reindex, the footer is brought up to date and
  // "N new records match" offers the search again.
  var FRESH_MS = 2000;
  var freshTotal = null;
  function freshBaseline() {
    var count = document.querySelector("#results .summary[data-total]");
    freshTotal = count ? parseInt(count.getAttribute("data-total"), 10) : null;
    var note = document.getElementById("fresh");
    if (note) note.hidden = true;
  }
  function freshUrl() {
    var params = new URLSearchParams(window.location.search);
    if ((params.get("q") || "").length > 200) return "/fresh";  // the footer only
    params.delete("page");
    params.set("total", "1");
    return "/fresh?" + params.toString();
  }
  function poll() {
    var foot = document.querySelector("footer[data-generation]");
    if (!foot || document.hidden || !window.fetch) return;
    var generation = foot.getAttribute("data-generation");
    window.fetch(freshUrl(), { headers: { "If-None-Match": '"' + generation + '"' }, cache: "no-store" })
      .then(function (response) { return response.status === 200 ? response.json() : null; })
      .then(function (fresh) {
        if (!fresh) return;
        foot.setAttribute("data-generation", fresh.generation);
        var records = document.getElementById("foot-records");
        if (records) records.textContent = fresh.records.toLocaleString("en-US") + " records";
        var updated = document.querySelector("#foot-updated time");
        if (updated && fresh.updated) { updated.textContent = fresh.updated_ago; updated.setAttribute("datetime", fresh.updated); }
        var note = document.getElementById("fresh");
        if (note && typeof fresh.total === "number" && freshTotal !== null && fresh.total > freshTotal) {
          var n = fresh.total - freshTotal;
          note.querySelector(".fresh-text").textContent = n.toLocaleString("en-US") + " new record" + (n === 1 ? "" : "s") + " match —";
          note.hidden = false;
        }
      })
      .catch(function () {});
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#fresh button")) {
      document.getElementById("fresh").hidden = true;
      search();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("q");
    if (document.getElementById("results")) {
      shownQ = new URL(window.location.href).searchParams.get("q") || "";
      openResearch(document);
      freshBaseline();
      window.setInterval(poll, FRESH_MS);
    }
    enableFacetFilters(document);
    foldFilters(document);
    rovingBars(document);
    var back = document.querySelector("a[data-back]");
    // Only a record opened from a search (or from records opened from it) in this tab goes
    // back to that search: one opened from an address goes to the search its address says.
    var opened = sessionStorage.getItem(OPENED);
    var last = opened ? sessionStorage.getItem(LAST) : null;
    if (back && last) {
      document.body.dataset.chain = "1";
      back.setAttribute("href", last);
      // the search the record was opened from
      if (box && !box.value) box.value = new URL(last, window.location.href).searchParams.get("q") || "";
    }
    if (back && opened === "1" && window.history.length > 1) {
      document.body.dataset.fromSearch = "1";
    }
    sessionStorage.removeItem(OPENED);
    document.querySelectorAll("#search-form input[type=date]").forEach(function (f) { f.dataset.sent = f.value; });
  });

  // -- The record page's "Next match": each press goes to the next marked word of the
  // text, round to the first after the last (without JavaScript the link goes to the first).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-next-match]");
    if (!link) return;
    var count = parseInt(link.dataset.matches, 10) || 0;
    var at = parseInt(link.dataset.at || "0", 10);
    var next = at >= count ? 1 : at + 1;
    var mark = document.getElementById("match-" + next);
    if (!mark) return;
    event.preventDefault();
    document.querySelectorAll("mark.current-match").forEach(function (m) { m.classList.remove("current-match"); });
    mark.classList.add("current-match");
    mark.scrollIntoView({block: "center"});  // the focus stays on the link: press it again
    link.dataset.at = String(next);
    link.textContent = "Next match ↓ (" + next + " of " + count + ")";
    history.replaceState(history.state, "", "#match-" + next);
  });
})();
