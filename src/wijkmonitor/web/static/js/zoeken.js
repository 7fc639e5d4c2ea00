/* Autocomplete for the search boxes of the wijkmonitor (progressive enhancement).
 *
 * Without this file every search form simply submits to /zoeken. With it, typing two or more
 * letters asks /api/v1/suggest (JSON) for at most eight places and puts them in a native
 * <datalist>, which browsers make usable by keyboard, touch and screen readers. Choosing a
 * suggestion (or submitting the exact text of one) opens that place's page; anything else
 * still goes to the results page. No inline script or style: the site's CSP allows only
 * files like this one.
 */
(function () {
  "use strict";
  if (!window.fetch || !document.querySelectorAll) { return; }
  var forms = document.querySelectorAll('form[action="/zoeken"]');
  Array.prototype.forEach.call(forms, function (form, n) {
    var input = form.querySelector('input[name="q"]');
    if (!input) { return; }
    var list = document.createElement("datalist");
    list.id = "wm-suggesties-" + n;
    form.appendChild(list);
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    var urls = {};
    var timer = null;
    var asked = "";

    function fill(items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      urls = {};
      items.forEach(function (it) {
        var option = document.createElement("option");
        option.value = it.label;
        list.appendChild(option);
        urls[it.label] = it.url;
      });
    }

    input.addEventListener("input", function (ev) {
      var picked = urls[input.value];
      if (picked && (!ev.inputType || ev.inputType === "insertReplacementText")) {
        window.location.href = picked;   // a suggestion was chosen from the list
        return;
      }
      var q = input.value.trim();
      window.clearTimeout(timer);
      if (q.length < 2 || q === asked) { return; }
      timer = window.setTimeout(function () {
        asked = q;
        fetch("/api/v1/suggest?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) { if (input.value.trim() === q) { fill(items); } })
          .catch(function () { /* no suggestions: the form still works */ });
      }, 150);
    });

    form.addEventListener("submit", function (ev) {
      var url = urls[input.value];
      if (url) {
        ev.preventDefault();
        window.location.href = url;
      }
    });
  });
}());

/* A list field (Vergelijken: 'Den Haag, Overvecht, BU03440300'): suggestions for the part after
 * the last comma; choosing one puts "Name (id)" in its place, which the server resolves
 * exactly. Without this file the field still takes names and codes. */
(function () {
  "use strict";
  if (!window.fetch || !document.querySelectorAll) { return; }
  var inputs = document.querySelectorAll('input[data-suggest="lijst"]');
  Array.prototype.forEach.call(inputs, function (input, n) {
    var list = document.createElement("datalist");
    list.id = "wm-lijst-suggesties-" + n;
    input.parentNode.appendChild(list);
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      var text = input.value;
      var cut = Math.max(text.lastIndexOf(","), text.lastIndexOf(";"));
      var before = cut >= 0 ? text.slice(0, cut + 1) + " " : "";
      var q = text.slice(cut + 1).trim();
      window.clearTimeout(timer);
      if (q.length < 2 || q === asked || /\)\s*$/.test(q)) { return; }
      timer = window.setTimeout(function () {
        asked = q;
        // data-suggest-kind="gemeente": only places of that kind (asked from a longer list)
        var kind = input.getAttribute("data-suggest-kind");
        fetch("/api/v1/suggest?q=" + encodeURIComponent(q) + (kind ? "&limit=20" : ""),
              {headers: {"Accept": "application/json"}})
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            while (list.firstChild) { list.removeChild(list.firstChild); }
            if (kind) { items = items.filter(function (it) { return it.kind === kind; }).slice(0, 8); }
            items.forEach(function (it) {
              var option = document.createElement("option");
              option.value = before + it.name + " (" + it.id + ")";
              option.label = it.label;
              list.appendChild(option);
            });
          })
          .catch(function () { /* no suggestions: the field still works */ });
      }, 150);
    });
  });
}());
