/* Interactive maps of the wijkmonitor (progressive enhancement of the server-side SVG maps).
 *
 * Every element with data-wm-kaart="<GeoJSON URL of /api/v1/kaart/...>" becomes a MapLibre GL
 * map (vendored from npm: /static/vendor/maplibre-gl) when the browser has WebGL; otherwise the
 * SVG map next to it stays. No inline script or style: the Content-Security-Policy of the site
 * needs none (MapLibre's worker starts from a blob: URL, allowed by worker-src blob:).
 *
 *  - zoom and pan (mouse, touch, keyboard on the focused map, +/- buttons);
 *  - click a region: open its page; hover: tooltip; tap (touch): tooltip with a link;
 *  - the list or table named by data-wm-lijst is tied to the map: focusing or hovering a link
 *    to /gebied/<code> highlights that region and shows its tooltip; Enter opens the page.
 *    Without data-wm-lijst a list of the regions on the map is added below it.
 *
 * A map marked data-wm-op-verzoek="<URL of maplibre-gl.js>" (area pages: page-weight budget) is
 * loaded on request: a button "Interactieve kaart tonen" under the SVG map appends that script
 * (same origin, no inline code), then fetches the GeoJSON and draws the map as above.
 *
 * For tests and the benchmark: the map element gets data-wm-status="klaar" at the map's first
 * "idle" after its regions are drawn (window.wmKaartKlaar: ms since navigation start),
 * data-wm-actief="<code>" while a region is highlighted, and window.wmKaarten lists the maps.
 * The steps before are performance marks: wm-kaart:start (script runs), :gegevens (GeoJSON
 * read), :kaart (MapLibre map made: its WebGL context), :geladen (regions drawn).
 *
 * First view (benchmarks/bench_map.py): a map drawn at once starts without a WebGL probe (a
 * context costs ~0.3 s in a software renderer; MapLibre throws without WebGL and the SVG
 * shows), kaart.css does not paint the SVG map while the interactive one loads, and the fills
 * have no antialiased outline pass (the border layer draws the edges).
 */
(function () {
  "use strict";

  var NL = {
    "Map.Title": "Kaart",
    "NavigationControl.ZoomIn": "Inzoomen",
    "NavigationControl.ZoomOut": "Uitzoomen",
    "NavigationControl.ResetBearing": "Noorden boven",
    "Popup.Close": "Sluiten",
    "AttributionControl.ToggleAttribution": "Bronvermelding tonen of verbergen",
    "AttributionControl.MapFeedback": "Feedback over de kaart",
    "LogoControl.Title": "MapLibre-logo",
    "ScaleControl.Meters": "m",
    "ScaleControl.Kilometers": "km",
    "CooperativeGesturesHandler.WindowsHelpText": "Gebruik Ctrl + scrollen om in te zoomen",
    "CooperativeGesturesHandler.MacHelpText": "Gebruik ⌘ + scrollen om in te zoomen",
    "CooperativeGesturesHandler.MobileHelpText": "Gebruik twee vingers om de kaart te bewegen"
  };
  var HATCH = "geen-cijfer";

  /* Steps of the first view, for the benchmark (performance marks "wm-kaart:<step>"). */
  function mark(step) {
    if (window.performance && performance.mark) { performance.mark("wm-kaart:" + step); }
  }

  function webglAvailable() {
    try {
      var c = document.createElement("canvas");
      return !!(window.WebGLRenderingContext && (c.getContext("webgl2") || c.getContext("webgl")));
    } catch (e) {
      return false;
    }
  }

  /* A grey hatch like the SVG's "geen cijfer" pattern (8 x 8 RGBA, diagonal stripes). */
  function hatchImage() {
    var n = 8, data = new Uint8Array(n * n * 4);
    for (var y = 0; y < n; y++) {
      for (var x = 0; x < n; x++) {
        var i = (y * n + x) * 4, line = ((x + y) % n) < 2;
        var v = line ? 107 : 242;
        data[i] = v; data[i + 1] = v; data[i + 2] = v; data[i + 3] = 255;
      }
    }
    return { width: n, height: n, data: data };
  }

  function codeOf(a) {
    var m = /^\/gebied\/([^/?#]+)$/.exec(a.getAttribute("href") || "");
    return m ? decodeURIComponent(m[1]) : null;
  }

  function bboxOf(geojson) {
    if (geojson.bbox) { return [[geojson.bbox[0], geojson.bbox[1]], [geojson.bbox[2], geojson.bbox[3]]]; }
    return null;
  }

  function Kaart(el) {
    this.el = el;
    this.src = el.getAttribute("data-wm-kaart");
    this.figure = el.closest("figure") || el.parentNode;
    this.byCode = {};
    this.active = null;
    this.popup = null;
    this.lastTouch = 0;
  }

  Kaart.prototype.start = function () {
    var self = this;
    // same request as the page's <link rel="preload" as="fetch"> (if any), so the preloaded body is used
    fetch(this.src)
      .then(function (r) {
        if (!r.ok) { throw new Error("kaart " + r.status); }
        return r.json();
      })
      .then(function (data) { mark("gegevens"); self.draw(data); })
      .catch(function (err) { self.fail(err); });
  };

  Kaart.prototype.fail = function (err) {
    // keep the SVG map (the fallback) and say nothing more than the page already says
    this.el.hidden = true;
    this.figure.classList.remove("wm-kaart-aan");
    this.figure.classList.add("wm-kaart-mis");  // kaart.css: the SVG map shows at once
    if (window.console) { window.console.warn("wijkmonitor: interactieve kaart niet beschikbaar", err); }
  };

  /* The MapLibre map of the GeoJSON ``data`` in ``container`` (throws without WebGL). */
  Kaart.prototype.newMap = function (container, data) {
    var meta = data.wijkmonitor || {};
    var bounds = bboxOf(data);
    return new maplibregl.Map({
      container: container,
      style: {
        version: 8,
        sources: { regios: { type: "geojson", data: data, promoteId: "code" } },
        layers: [
          { id: "achtergrond", type: "background", paint: { "background-color": "#f7f7f7" } },
          { id: "regio-vlak", type: "fill", source: "regios", filter: ["!=", ["get", "fill"], null],
            paint: { "fill-color": ["get", "fill"], "fill-antialias": false } },
          { id: "regio-geen", type: "fill", source: "regios", filter: ["==", ["get", "fill"], null],
            paint: { "fill-pattern": HATCH, "fill-antialias": false } },
          { id: "regio-rand", type: "line", source: "regios",
            paint: { "line-color": ["case", ["==", ["get", "part"], true], "#5c0016", "#555555"],
                     "line-width": ["case", ["==", ["get", "part"], true], 1.5, 0.6] } },
          { id: "regio-actief", type: "line", source: "regios",
            paint: { "line-color": "#000000",
                     "line-width": ["case", ["boolean", ["feature-state", "actief"], false], 3.5, 0] } }
        ]
      },
      bounds: bounds || undefined,
      fitBoundsOptions: { padding: 12 },
      locale: NL,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      maxPitch: 0,
      renderWorldCopies: false,
      fadeDuration: 0,
      attributionControl: { compact: false, customAttribution: meta.source ? "Grenzen: " + meta.source : "" }
    });
  };

  Kaart.prototype.draw = function (data) {
    var self = this;
    data.features.forEach(function (f) { self.byCode[f.properties.code] = f; });
    this.el.hidden = false;
    this.figure.classList.add("wm-kaart-aan");
    var map;
    try {
      map = this.newMap(this.el.querySelector(".wm-kaart__canvas"), data);
    } catch (err) {
      // no WebGL after all (MapLibre throws "Failed to initialize WebGL"): the SVG stays
      this.fail(err);
      return;
    }
    map.touchZoomRotate.disableRotation();
    map.keyboard.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.on("styleimagemissing", function (e) {
      if (e.id === HATCH && !map.hasImage(HATCH)) { map.addImage(HATCH, hatchImage()); }
    });
    map.on("error", function (e) { if (!self.ready) { self.fail(e && e.error); } });
    this.map = map;
    mark("kaart");
    // a map drawn on request (button): keyboard users land on the map they asked for
    if (this.focusOnDraw) { map.getCanvas().focus({ preventScroll: true }); }
    map.once("load", function () {
      mark("geladen");
      map.once("idle", function () {
        self.ready = true;
        self.el.setAttribute("data-wm-status", "klaar");
        window.wmKaartKlaar = window.performance ? performance.now() : null;
      });
    });
    this.bindPointer();
    this.bindList();
  };

  Kaart.prototype.featureAt = function (point) {
    var hits = this.map.queryRenderedFeatures(point, { layers: ["regio-vlak", "regio-geen"] });
    return hits.length ? this.byCode[hits[0].properties.code] || hits[0] : null;
  };

  Kaart.prototype.setActive = function (code) {
    if (this.active === code) { return; }
    if (this.active !== null) { this.map.setFeatureState({ source: "regios", id: this.active }, { actief: false }); }
    this.active = code;
    if (code !== null) {
      this.map.setFeatureState({ source: "regios", id: code }, { actief: true });
      this.el.setAttribute("data-wm-actief", code);
    } else {
      this.el.removeAttribute("data-wm-actief");
    }
  };

  /* A point inside the feature to anchor its tooltip (centre of its bbox, or the first vertex). */
  Kaart.prototype.anchorOf = function (f) {
    var xs = [], ys = [];
    (function walk(c) {
      if (typeof c[0] === "number") { xs.push(c[0]); ys.push(c[1]); return; }
      for (var i = 0; i < c.length; i++) { walk(c[i]); }
    })(f.geometry.coordinates);
    if (!xs.length) { return null; }
    return [(Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2,
            (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2];
  };

  Kaart.prototype.tooltip = function (f, lngLat, withLink) {
    var p = f.properties;
    var box = document.createElement("div");
    box.className = "wm-kaart__tip";
    var name = document.createElement("strong");
    name.textContent = p.name;
    box.appendChild(name);
    if (p.label) {
      var val = document.createElement("span");
      val.className = "wm-kaart__tipwaarde";
      val.textContent = p.label;
      box.appendChild(val);
    }
    if (withLink) {
      var a = document.createElement("a");
      a.className = "utrecht-link";
      a.href = p.href;
      a.textContent = "Open de pagina van " + p.name;
      box.appendChild(a);
    }
    if (this.popup) { this.popup.remove(); }
    // a hover tooltip lets the pointer through (so a click reaches the region under it)
    // closeOnClick off: the click a browser synthesises after a tap would close the tap's
    // tooltip at once (a tap elsewhere closes it, see bindPointer)
    this.popup = new maplibregl.Popup({ closeButton: withLink, closeOnClick: false, maxWidth: "280px",
                                        focusAfterOpen: false, offset: withLink ? 0 : 12,
                                        className: withLink ? "wm-kaart__popup" : "wm-kaart__popup wm-kaart__popup--zweven" })
      .setLngLat(lngLat).setDOMContent(box).addTo(this.map);
    this.el.setAttribute("data-wm-tip", p.code);
    var self = this;
    this.popup.on("close", function () { self.el.removeAttribute("data-wm-tip"); });
  };

  Kaart.prototype.hideTip = function () {
    if (this.popup) { this.popup.remove(); this.popup = null; }
  };

  Kaart.prototype.bindPointer = function () {
    var self = this, map = this.map, start = null;
    var canvas = map.getCanvasContainer();
    // any touch on the page (also on a tooltip's link) marks the mouse events the browser
    // synthesises after it, which must not act as hover or click
    function touched() { self.lastTouch = Date.now(); }
    document.addEventListener("touchstart", touched, { capture: true, passive: true });
    document.addEventListener("touchend", touched, { capture: true, passive: true });
    document.addEventListener("pointerdown", function (e) { if (e.pointerType === "touch") { touched(); } },
                              { capture: true, passive: true });
    // a tap is a short touch that did not move: show the tooltip (with a link), do not navigate
    canvas.addEventListener("touchstart", function (e) {
      if (e.touches.length === 1) {
        start = { x: e.touches[0].clientX, y: e.touches[0].clientY, t: Date.now() };
      } else {
        start = null;
      }
    }, { passive: true });
    canvas.addEventListener("touchend", function (e) {
      self.lastTouch = Date.now();
      if (!start || e.changedTouches.length !== 1) { return; }
      var t = e.changedTouches[0];
      var moved = Math.abs(t.clientX - start.x) + Math.abs(t.clientY - start.y);
      if (moved > 12 || Date.now() - start.t > 600) { start = null; return; }
      var rect = canvas.getBoundingClientRect();
      var point = [t.clientX - rect.left, t.clientY - rect.top];
      var f = self.featureAt(point);
      start = null;
      if (!f) { self.hideTip(); self.setActive(null); return; }
      self.setActive(f.properties.code);
      self.tooltip(f, map.unproject(point), true);
    }, { passive: true });
    map.on("mousemove", function (e) {
      if (Date.now() - self.lastTouch < 1000) { return; }
      var f = self.featureAt(e.point);
      map.getCanvas().style.cursor = f ? "pointer" : "";
      if (!f) { self.setActive(null); self.hideTip(); return; }
      if (self.active !== f.properties.code) {
        self.setActive(f.properties.code);
        self.tooltip(f, e.lngLat, false);
      } else if (self.popup) {
        self.popup.setLngLat(e.lngLat);
      }
    });
    map.on("mouseout", function () {
      if (Date.now() - self.lastTouch < 1000) { return; }
      self.setActive(null);
      self.hideTip();
    });
    map.on("click", function (e) {
      if (Date.now() - self.lastTouch < 1000) { return; }  // a tap: handled on touchend
      var f = self.featureAt(e.point);
      if (f && f.properties.href) { window.location.href = f.properties.href; }
    });
  };

  /* Focus or hover on a link to /gebied/<code> in the tied list highlights the region. */
  Kaart.prototype.bindList = function () {
    var self = this;
    var id = this.el.getAttribute("data-wm-lijst");
    var list = id ? document.getElementById(id) : this.buildList();
    if (!list) { return; }
    function show(a) {
      var code = codeOf(a);
      var f = code && self.byCode[code];
      if (!f) { return; }
      self.setActive(code);
      var at = self.anchorOf(f);
      if (!at) { return; }
      var b = self.map.getBounds();
      if (!b.contains(at)) { self.map.easeTo({ center: at, duration: 0 }); }
      self.tooltip(f, at, false);
    }
    function hide() { self.setActive(null); self.hideTip(); }
    list.addEventListener("focusin", function (e) {
      var a = e.target.closest && e.target.closest("a[href^='/gebied/']");
      if (a) { show(a); }
    });
    list.addEventListener("focusout", hide);
    list.addEventListener("mouseover", function (e) {
      var a = e.target.closest && e.target.closest("a[href^='/gebied/']");
      if (a) { show(a); }
    });
    list.addEventListener("mouseleave", hide);
  };

  /* Maps without a table of their own get a list of their regions (links) below them. */
  Kaart.prototype.buildList = function () {
    var codes = Object.keys(this.byCode);
    if (!codes.length) { return null; }
    var self = this;
    var details = document.createElement("details");
    details.className = "wm-kaart__lijst";
    var summary = document.createElement("summary");
    summary.textContent = "Gebieden op de kaart (" + codes.length + "), met het toetsenbord te kiezen";
    details.appendChild(summary);
    var ul = document.createElement("ul");
    ul.className = "utrecht-unordered-list wm-columns";
    codes.map(function (c) { return self.byCode[c].properties; })
      .sort(function (a, b) { return (b.part === true) - (a.part === true) || a.name.localeCompare(b.name, "nl"); })
      .forEach(function (p) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.className = "utrecht-link";
        a.href = p.href;
        a.textContent = p.name + (p.part ? " (dit gebied)" : "");
        li.appendChild(a);
        ul.appendChild(li);
      });
    details.appendChild(ul);
    this.el.appendChild(details);
    return details;
  };

  /* Load MapLibre GL JS once (a <script src> of our own origin), then call done(ok). */
  var maplibreLoading = null;
  function loadMaplibre(url, done) {
    if (typeof maplibregl !== "undefined") { done(true); return; }
    if (!maplibreLoading) {
      maplibreLoading = [];
      var s = document.createElement("script");
      s.src = url;
      s.onload = function () { var w = maplibreLoading; maplibreLoading = null; w.forEach(function (f) { f(true); }); };
      s.onerror = function () { var w = maplibreLoading; maplibreLoading = null; w.forEach(function (f) { f(false); }); };
      document.head.appendChild(s);
    }
    maplibreLoading.push(done);
  }

  function startMap(el) {
    var k = new Kaart(el);
    window.wmKaarten.push(k);
    k.start();
    return k;
  }

  /* A map loaded on request: a button after the SVG map loads the script, then the map. */
  function offerMap(el) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "utrecht-button utrecht-button--secondary-action wm-kaart__knop";
    button.textContent = "Interactieve kaart tonen";
    var figure = el.closest("figure") || el.parentNode;
    var svg = figure.querySelector(".wm-kaart-svg");
    if (svg) { svg.insertAdjacentElement("afterend", button); } else { el.parentNode.insertBefore(button, el); }
    button.addEventListener("click", function () {
      button.disabled = true;
      button.textContent = "Interactieve kaart laden…";
      loadMaplibre(el.getAttribute("data-wm-op-verzoek"), function (ok) {
        if (!ok) {
          button.disabled = false;
          button.textContent = "Interactieve kaart tonen (laden mislukt, probeer opnieuw)";
          return;
        }
        maplibregl.prewarm();
        button.remove();
        startMap(el).focusOnDraw = true;
      });
    });
  }

  function init() {
    mark("start");
    var els = document.querySelectorAll("[data-wm-kaart]");
    window.wmKaarten = [];
    var auto = [], later = [], i;
    for (i = 0; i < els.length; i++) {
      (els[i].hasAttribute("data-wm-op-verzoek") ? later : auto).push(els[i]);
    }
    var gl = !!window.WebGLRenderingContext;
    // a button only where WebGL works (a probe: a WebGL context costs ~0.3 s in a software
    // renderer, so a map drawn at once skips it and falls back to the SVG if MapLibre throws)
    if (gl && later.length && webglAvailable()) { later.forEach(offerMap); }
    if (!auto.length) { return; }
    if (!gl || typeof maplibregl === "undefined") {
      auto.forEach(function (el) { new Kaart(el).fail("geen WebGL of MapLibre"); });
      return;
    }
    maplibregl.prewarm();  // start the worker while the GeoJSON loads
    for (i = 0; i < auto.length; i++) { startMap(auto[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
