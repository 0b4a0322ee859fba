// The /map page: sites, uncertainty circles, scan candidates (points or server-side
// clusters), scene footprints and a run's change objects over the offline base map.
// The URL holds the view (z, lat, lon, layers, scan, run, from, to) so a link shows the
// same map. Every text from the server goes into the page as text (sitewatch.el), never
// as HTML: a site may be named "<script>".
"use strict";

(function () {
  const sw = window.sitewatch;
  const el = sw.el;

  const CATEGORY_COLOURS = {
    "missile-operating-base": "#d7301f",
    "launch-site": "#f08c2a",
    "nuclear-facility": "#7b3294",
    "test-site": "#2b83ba",
    shipyard: "#1a9641",
    other: "#636363",
  };
  // A verdict ring: red for a finding (the server says which), green when the site checks
  // out, grey for the rest (not observed, dismantlement unverified...).
  const VERDICT_GOOD = ["consistent", "dismantlement-verified"];
  const RING = { finding: "#e31a1c", good: "#33a02c", other: "#8c8c8c" };
  const LAYER_NAMES = {
    sites: "Sites",
    uncertainty: "Uncertainty circles",
    candidates: "Scan candidates",
    scenes: "Scene footprints",
    objects: "Change objects",
    imagery: "Imagery (newest scene in view)",
  };
  const DEFAULT_LAYERS = ["sites", "uncertainty", "candidates"];
  const DEFAULT_VIEW = { z: 7, lat: 40.2, lon: 127.3 }; // the Korean peninsula

  // Score 0..1 -> yellow .. dark red.
  function scoreColour(score) {
    const s = Math.max(0, Math.min(1, Number(score) || 0));
    const stops = [[255, 237, 160], [254, 178, 76], [240, 59, 32], [128, 0, 38]];
    const at = s * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(at));
    const f = at - i;
    const rgb = stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
    return "rgb(" + rgb.join(",") + ")";
  }

  // Acquisition time between the oldest and newest shown -> blue .. orange.
  function dateColour(t, oldest, newest) {
    const f = newest > oldest ? (t - oldest) / (newest - oldest) : 1;
    const hue = 220 - 190 * f;
    return "hsl(" + Math.round(hue) + ",75%,45%)";
  }

  function verdictRing(site) {
    if (!site.verdict) return null;
    if (site.finding) return RING.finding;
    return VERDICT_GOOD.includes(site.verdict) ? RING.good : RING.other;
  }

  // ---- the view in the URL -------------------------------------------------------------
  function readView() {
    const q = new URLSearchParams(window.location.search);
    const num = (name, fallback, low, high) => {
      const v = Number(q.get(name));
      return q.get(name) !== null && q.get(name) !== "" && Number.isFinite(v) && v >= low && v <= high ? v : fallback;
    };
    const layers = q.has("layers")
      ? q.get("layers").split(",").filter((name) => name in LAYER_NAMES)
      : DEFAULT_LAYERS.slice();
    return {
      z: Math.round(num("z", DEFAULT_VIEW.z, 0, 22)),
      lat: num("lat", DEFAULT_VIEW.lat, -85, 85),
      lon: num("lon", DEFAULT_VIEW.lon, -180, 180),
      layers: layers,
      scan: q.get("scan") || "",
      run: q.get("run") || "",
      from: q.get("from") || "",
      to: q.get("to") || "",
    };
  }

  function writeView(map, state) {
    const centre = map.getCenter().wrap();
    const q = new URLSearchParams();
    q.set("z", String(map.getZoom()));
    q.set("lat", centre.lat.toFixed(5));
    q.set("lon", centre.lng.toFixed(5));
    q.set("layers", Object.keys(LAYER_NAMES).filter((n) => map.hasLayer(state.layers[n])).join(","));
    for (const name of ["scan", "run", "from", "to"]) {
      if (state.choices[name]) q.set(name, state.choices[name]);
    }
    window.history.replaceState(null, "", "/map?" + q.toString());
  }

  // The viewport as W,S,E,N within the API's bounds (a view across the antimeridian is
  // clipped at it: the API takes one box, west before east).
  function bboxOf(map) {
    const b = map.getBounds();
    const clip = (v, low, high) => Math.max(low, Math.min(high, v));
    let west = b.getWest();
    let east = b.getEast();
    if (east - west >= 360) {
      west = -180;
      east = 180;
    } else {
      const shift = 360 * Math.floor((map.getCenter().lng + 180) / 360);
      west -= shift;
      east -= shift;
    }
    const box = [clip(west, -180, 180), clip(b.getSouth(), -90, 90), clip(east, -180, 180), clip(b.getNorth(), -90, 90)];
    return box.map((v) => v.toFixed(5)).join(",");
  }

  // ---- popups (elements, text only) ----------------------------------------------------
  function sitePopup(site) {
    return el(
      "div",
      { class: "popup" },
      el("strong", {}, site.name),
      el("br"),
      site.category + " | " + site.status + " | " + (site.declared ? "declared" : "undeclared"),
      site.verdict ? el("div", {}, "latest verdict: " + site.verdict) : null,
      el("div", {}, el("a", { href: "/sites/" + encodeURIComponent(site.id) }, "open site " + site.id))
    );
  }

  function candidatePopup(c) {
    const triage = "/scans/" + encodeURIComponent(c.scan_id) + "/triage?candidate=" + encodeURIComponent(c.id);
    return el(
      "div",
      { class: "popup" },
      el("strong", {}, "candidate " + c.id),
      el("br"),
      "score " + c.score + " | " + Math.round(c.area_m2) + " m\u00b2 | " + c.status + (c.known ? " | near a known site" : ""),
      el("div", {}, el("a", { href: triage }, "triage in scan " + c.scan_id))
    );
  }

  // ---- layers --------------------------------------------------------------------------
  function drawSites(state, answer) {
    state.layers.sites.clearLayers();
    state.layers.uncertainty.clearLayers();
    for (const site of answer.items) {
      const colour = CATEGORY_COLOURS[site.category] || CATEGORY_COLOURS.other;
      const ring = verdictRing(site);
      const at = [site.lat, site.lon];
      if (ring) {
        L.circleMarker(at, { pane: "sites", radius: 11, color: ring, weight: 3, fill: false, interactive: false }).addTo(state.layers.sites);
      }
      L.circleMarker(at, {
        pane: "sites",
        radius: 7,
        color: colour,
        weight: site.declared ? 1 : 3,
        fillColor: site.declared ? colour : "#ffffff",
        fillOpacity: 1,
      })
        .bindPopup(sitePopup(site))
        .addTo(state.layers.sites);
      if (site.uncertainty_m) {
        L.circle(at, { radius: site.uncertainty_m, color: colour, weight: 1, dashArray: "4 4", fillOpacity: 0.05, interactive: false }).addTo(state.layers.uncertainty);
      }
    }
  }

  function clusterIcon(cluster) {
    const size = Math.round(22 + 8 * Math.log10(cluster.count));
    const node = el("div", { class: "map-cluster", title: cluster.count + " candidates, best score " + cluster.max_score }, String(cluster.count));
    node.style.width = node.style.height = size + "px";
    node.style.background = scoreColour(cluster.max_score);
    return L.divIcon({ html: node, className: "", iconSize: [size, size] });
  }

  function drawCandidates(state, answer) {
    const layer = state.layers.candidates;
    layer.clearLayers();
    if (answer.kind === "clusters") {
      for (const cluster of answer.items) {
        L.marker([cluster.lat, cluster.lon], { icon: clusterIcon(cluster), keyboard: false })
          .on("click", () => state.map.setView([cluster.lat, cluster.lon], state.map.getZoom() + 2))
          .addTo(layer);
      }
    } else {
      for (const c of answer.items) {
        L.circleMarker([c.lat, c.lon], { radius: 5, color: "#333", weight: 1, fillColor: scoreColour(c.score), fillOpacity: 0.9 })
          .bindPopup(candidatePopup(c))
          .addTo(layer);
      }
    }
    const shown = answer.kind === "clusters" ? answer.items.length + " clusters of " : "";
    state.notes.candidates = shown + answer.total + " candidates" + (answer.truncated ? " (best " + answer.items.length + " shown)" : "");
  }

  function drawScenes(state, answer) {
    const layer = state.layers.scenes;
    layer.clearLayers();
    const times = answer.features.map((f) => Date.parse(f.properties.datetime));
    const oldest = Math.min(...times);
    const newest = Math.max(...times);
    L.geoJSON(answer, {
      style: (f) => ({ color: dateColour(Date.parse(f.properties.datetime), oldest, newest), weight: 1.5, fillOpacity: 0.04 }),
      onEachFeature: (f, shape) => shape.bindPopup(el("div", {}, el("strong", {}, f.properties.id), el("br"), f.properties.datetime)),
    }).addTo(layer);
    state.notes.scenes = answer.total + " scenes" + (answer.truncated ? " (newest " + answer.features.length + " shown)" : "");
  }

  // The newest scene of the viewport (and date range) as imagery tiles, under the vector
  // layers, its acquisition date and sensor in the status line. Re-made only when the newest
  // scene changes, so panning within one scene keeps its tiles.
  async function drawImagery(state, answer) {
    const newest = answer.features[0];
    const layer = state.layers.imagery;
    if (!newest) {
      layer.clearLayers();
      state.imageryScene = null;
      state.notes.imagery = "no imagery in view";
      return;
    }
    if (state.imageryScene === newest.properties.id) return;
    state.imageryScene = newest.properties.id;
    const info = await sw.api("/api/scenes/" + encodeURIComponent(newest.properties.id) + "/tiles.json");
    layer.clearLayers();
    const [west, south, east, north] = info.bounds;
    L.tileLayer(info.tiles[0], {
      bounds: [[south, west], [north, east]],
      maxNativeZoom: info.maxzoom,
      maxZoom: 22,
      attribution: sw.asHtml(info.attribution),
    }).addTo(layer);
    state.notes.imagery = "imagery " + info.acquired.slice(0, 10) + " " + info.sensor + " (" + info.scene_id + ")";
  }

  // Fetch one layer for the viewport; an answer that arrives after a newer request is dropped.
  async function refresh(state, layerName) {
    // One answer draws two layers: sites with their uncertainty, footprints with imagery.
    const name = { uncertainty: "sites", imagery: "scenes" }[layerName] || layerName;
    const shown = (n) => state.map.hasLayer(state.layers[n]);
    const partner = { sites: "uncertainty", scenes: "imagery" }[name];
    if (!(shown(name) || (partner && shown(partner)))) return;
    const bbox = bboxOf(state.map);
    const c = state.choices;
    const ticket = (state.tickets[name] = (state.tickets[name] || 0) + 1);
    let path;
    let draw;
    if (name === "sites" || name === "uncertainty") {
      path = "/api/map/sites?bbox=" + bbox;
      draw = drawSites;
    } else if (name === "candidates") {
      path = "/api/map/candidates?bbox=" + bbox + "&zoom=" + state.map.getZoom() + (c.scan ? "&scan_id=" + encodeURIComponent(c.scan) : "");
      draw = drawCandidates;
    } else if (name === "scenes") {
      path = "/api/map/scenes?bbox=" + bbox + (c.from ? "&from=" + encodeURIComponent(c.from) : "") + (c.to ? "&to=" + encodeURIComponent(c.to) : "");
      draw = async (s, answer) => {
        if (shown("scenes")) drawScenes(s, answer);
        if (shown("imagery")) await drawImagery(s, answer);
      };
    } else {
      return;
    }
    try {
      const answer = await sw.api(path);
      if (ticket === state.tickets[name]) await draw(state, answer);
    } catch (error) {
      state.notes[name] = LAYER_NAMES[name] + ": " + error.message;
    }
    showNotes(state);
  }

  // The run's change objects do not depend on the viewport: fetched when the run changes.
  async function loadObjects(state) {
    const layer = state.layers.objects;
    layer.clearLayers();
    delete state.notes.objects;
    if (!state.choices.run) return;
    try {
      const answer = await sw.api("/api/runs/" + encodeURIComponent(state.choices.run) + "/objects");
      L.geoJSON(answer, { style: { color: "#c51b8a", weight: 2, fillOpacity: 0.3 } }).addTo(layer);
      state.notes.objects = (answer.features || []).length + " change objects";
    } catch (error) {
      state.notes.objects = "change objects of " + state.choices.run + " not available (" + error.message + ")";
    }
    showNotes(state);
  }

  function showNotes(state) {
    document.getElementById("map-status").textContent = Object.values(state.notes).join(" | ");
  }

  function legend() {
    const control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      const box = el("div", { class: "map-legend" });
      const row = (swatch, text) => el("div", {}, swatch, text);
      const dot = (fill, stroke, ring) => {
        const s = el("span", { class: "swatch" + (ring ? " ring" : "") });
        if (fill) s.style.background = fill;
        s.style.borderColor = stroke;
        return s;
      };
      box.append(el("h4", {}, "Sites by category"));
      for (const [category, colour] of Object.entries(CATEGORY_COLOURS)) box.append(row(dot(colour, colour), category));
      box.append(row(dot(null, "#333", true), "hollow: undeclared"));
      box.append(el("h4", {}, "Latest verdict (ring)"));
      box.append(row(dot(null, RING.finding, true), "finding (undeclared, contradicted)"));
      box.append(row(dot(null, RING.good, true), "consistent / dismantlement verified"));
      box.append(row(dot(null, RING.other, true), "other verdict"));
      box.append(el("h4", {}, "Candidates by score (cluster: best)"));
      for (const s of [0.25, 0.5, 0.75, 1]) box.append(row(dot(scoreColour(s), "#333"), "score " + s));
      box.append(el("h4", {}, "Scenes by date"));
      box.append(row(dot(dateColour(0, 0, 1), dateColour(0, 0, 1)), "older"));
      box.append(row(dot(dateColour(1, 0, 1), dateColour(1, 0, 1)), "newer"));
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    return control;
  }

  async function start() {
    const view = readView();
    const form = document.getElementById("map-choices");
    for (const name of ["scan", "run", "from", "to"]) form.elements[name].value = view[name];
    const map = await sw.baseMap(document.getElementById("map"), { center: [view.lat, view.lon], zoom: view.z });
    // Sites above the candidate clusters (DOM markers in the marker pane, z-index 600),
    // below popups (700): a site is never hidden under a cluster.
    map.createPane("sites").style.zIndex = 650;
    const state = { map: map, layers: {}, tickets: {}, notes: {}, choices: {} };
    for (const name of ["scan", "run", "from", "to"]) state.choices[name] = form.elements[name].value;
    const overlays = {};
    for (const [name, label] of Object.entries(LAYER_NAMES)) {
      state.layers[name] = L.featureGroup();
      overlays[label] = state.layers[name];
      if (view.layers.includes(name) || (name === "objects" && view.run)) state.layers[name].addTo(map);
    }
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    legend().addTo(map);

    const viewportLayers = ["sites", "candidates", "scenes"]; // "scenes" draws the imagery too
    map.on("moveend", () => {
      writeView(map, state);
      for (const name of viewportLayers) refresh(state, name);
    });
    map.on("overlayadd", (event) => {
      const name = Object.keys(LAYER_NAMES).find((n) => state.layers[n] === event.layer);
      refresh(state, name);
      writeView(map, state);
    });
    map.on("overlayremove", () => writeView(map, state));
    form.addEventListener("change", (event) => {
      const name = event.target.name;
      state.choices[name] = event.target.value;
      writeView(map, state);
      if (name === "run") loadObjects(state);
      else if (name === "scan") refresh(state, "candidates");
      else refresh(state, "scenes");
    });
    form.addEventListener("submit", (event) => event.preventDefault());

    await Promise.all([
      refresh(state, "sites"),
      refresh(state, "candidates"),
      refresh(state, "scenes"),
      loadObjects(state),
    ]);
    writeView(map, state);
    sw.markReady("map");
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => {
      document.getElementById("map-status").textContent = "the map could not start: " + error.message;
    });
  });
})();
