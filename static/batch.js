// The batch page's small enhancements; it works without them.
(function () {
  "use strict";
  var form = document.getElementById("batch-form");
  if (!form) return;
  var box = document.getElementById("queries");
  var count = document.getElementById("queries-count");
  var most = parseInt(box.getAttribute("data-max") || "1000", 10);

  // How many queries the box holds, as the server will count them (search/batch.py): not
  // blank lines, comments, or a first line of column names ("Label<TAB>Query").
  var LABELS = ["label", "labels", "name", "names"];
  var QUERIES = ["query", "queries", "search", "searches", "search term", "search terms"];
  function isHeader(line) {
    var tab = line.indexOf("\t");
    if (tab < 0) return false;
    var label = line.slice(0, tab).trim().toLowerCase();
    var query = line.slice(tab + 1).trim().toLowerCase();
    return LABELS.indexOf(label) >= 0 && QUERIES.indexOf(query) >= 0;
  }
  function queries() {
    var lines = box.value.split(/\r\n|\r|\n/).filter(function (line) {
      var text = line.trim();
      return text !== "" && text.charAt(0) !== "#";
    });
    return lines.length - (lines.length && isHeader(lines[0]) ? 1 : 0);
  }
  function say() {
    var n = queries();
    count.textContent = n === 0 ? "" :
      n.toLocaleString("en") + (n === 1 ? " query" : " queries") +
      (n > most ? ": more than " + most.toLocaleString("en") + " cannot run at once" : "");
    count.classList.toggle("too-many", n > most);
  }
  box.addEventListener("input", say);
  say();

  // A short batch run from the form gets its shareable address, so reloading re-runs it
  // rather than asking to send the form again.
  var share = form.getAttribute("data-share-url");
  if (share && form.getAttribute("data-ran") === "post" && window.history.replaceState) {
    window.history.replaceState(null, "", share);
  }

  // Long lists of values get a box that filters them.
  form.querySelectorAll("details.batch-facet").forEach(function (details) {
    var items = details.querySelectorAll("li");
    if (items.length <= 10) return;
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "Filter " + details.querySelector("summary").firstChild.textContent.trim().toLowerCase() + "…";
    input.setAttribute("aria-label", input.placeholder);
    label.className = "batch-filter";
    label.appendChild(input);
    details.insertBefore(label, details.querySelector("ul"));
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      items.forEach(function (li) {
        li.hidden = needle !== "" && li.textContent.toLowerCase().indexOf(needle) === -1;
      });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();  // filtering, not running the batch
    });
  });
})();
