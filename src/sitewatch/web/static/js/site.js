// The site page: the before/after compare (swipe or side by side) of any two scenes with
// the site's change objects outlined, the activity timeline, and the assessment form.
// The view lives in the URL (?before=&after=&mode=&z=&lat=&lon=), kept current with
// history.replaceState, so a copied link opens the same compare.
"use strict";

(function () {
  const { api, el, baseMap, markReady } = window.sitewatch;
  const page = document.getElementById("site");
  const siteId = page.dataset.siteId;
  const sitePath = "/api/sites/" + encodeURIComponent(siteId);

  // ---- the compare ----------------------------------------------------------------

  // composite: the label of a band combination the scenes offer ("" = true colour)
  // product: "RUN_ID|score" or "RUN_ID|mask", a run's change product drawn over the images
  const state = { before: null, after: null, mode: "swipe", view: null, composite: "", product: "" };
  const scenes = new Map(); // id -> scene summary
  let siteOutline = null; // GeoJSON of the site
  let changeObjects = null; // FeatureCollection of every run's objects
  const imagery = new Map(); // scene id + composite -> tiles.json, or an Error
  const shown = (sceneId) => imagery.get(sceneId + "|" + state.composite);

  // The scene's sensor as catalogued, else as the tile server names it.
  function sensorOf(scene, info) {
    const served = info && !(info instanceof Error) ? info.sensor : null;
    return scene.platform || scene.instrument || served || "sensor not recorded";
  }

  function imageLabel(role, sceneId) {
    const scene = scenes.get(sceneId);
    const info = shown(sceneId);
    let text = role + ": " + scene.datetime.slice(0, 10) + " · " + sensorOf(scene, info);
    if (info instanceof Error) text += " · imagery not available";
    else if (info && info.resolution_m) text += " · " + info.resolution_m + " m";
    return text;
  }

  // The scene's tiles.json in the chosen band combination (true colour when the scene
  // does not offer it), fetched once.
  async function tilesOf(sceneId) {
    const key = sceneId + "|" + state.composite;
    if (!imagery.has(key)) {
      const path = "/api/scenes/" + encodeURIComponent(sceneId) + "/tiles.json";
      try {
        const plain = imagery.get(sceneId + "|") || (await api(path));
        imagery.set(sceneId + "|", plain);
        const bands = (plain.composites || {})[state.composite];
        imagery.set(key, bands ? await api(path + "?bands=" + encodeURIComponent(bands)) : plain);
      } catch (error) {
        imagery.set(key, error);
      }
    }
    return imagery.get(key);
  }

  // The band combinations of the before scene in the "Bands" choice (true colour first).
  async function offerComposites() {
    const select = document.getElementById("composite");
    const info = await tilesOf(state.before);
    const labels = info instanceof Error ? [] : Object.keys(info.composites || {});
    select.replaceChildren(...labels.map((label) => el("option", { value: label === "true colour" ? "" : label }, label)));
    select.value = labels.includes(state.composite) ? state.composite : "";
    state.composite = select.value;
  }

  // A tile layer of the scene in `pane`, or null when the server has no imagery for it.
  async function imageLayer(sceneId, pane) {
    const info = await tilesOf(sceneId);
    if (info instanceof Error || !info.tiles || !info.tiles.length) return null;
    const [west, south, east, north] = info.bounds;
    return L.tileLayer(info.tiles[0], {
      pane: pane,
      bounds: L.latLngBounds([south, west], [north, east]),
      maxNativeZoom: info.maxzoom,
      minNativeZoom: info.minzoom,
      maxZoom: Math.max(info.maxzoom + 3, 18),
      attribution: window.sitewatch.asHtml(info.attribution), // Leaflet takes HTML here
    });
  }

  // A run's change score or mask (tiles of the run's products) above the images, below the
  // outlines: over the whole swipe map, or over the after image side by side.
  const product = { layers: [] };

  async function showProduct() {
    product.layers.forEach((layer) => layer.remove());
    product.layers = [];
    if (!state.product) return "";
    const [runId, kind] = state.product.split("|");
    let info;
    try {
      info = await api("/api/runs/" + encodeURIComponent(runId) + "/tiles.json?product=" + encodeURIComponent(kind));
    } catch (error) {
      return "The change " + kind + " of " + runId + " is not available (" + error.message + ").";
    }
    const [west, south, east, north] = info.bounds;
    for (const map of state.mode === "swipe" ? [swipe.map] : [side.after]) {
      if (!map.getPane("product")) map.createPane("product").style.zIndex = 300;
      const layer = L.tileLayer(info.tiles[0], {
        pane: "product",
        bounds: L.latLngBounds([south, west], [north, east]),
        maxNativeZoom: info.maxzoom,
        minNativeZoom: info.minzoom,
        maxZoom: Math.max(info.maxzoom + 3, 18),
        opacity: kind === "score" ? 0.7 : 1,
      });
      product.layers.push(layer.addTo(map));
    }
    return "";
  }

  // The site outline and the change objects, in a pane above both images (never clipped).
  function addOverlays(map) {
    map.createPane("overlays").style.zIndex = 450;
    if (siteOutline) {
      L.geoJSON(siteOutline, {
        pane: "overlays",
        interactive: false,
        style: { color: "#1e88e5", weight: 2, dashArray: "6 4", fill: false },
      }).addTo(map);
    }
    if (changeObjects && changeObjects.features.length) {
      L.geoJSON(changeObjects, {
        pane: "overlays",
        style: { color: "#ff1744", weight: 2, fill: false },
        onEachFeature: (feature, layer) => {
          const p = feature.properties;
          const area = p.area_m2 === null ? "" : ", " + Math.round(p.area_m2) + " m²";
          layer.bindTooltip(
            el("span", {}, "run " + p.run_id + ", object " + feature.id + area + ", max score " + p.max_score.toFixed(2))
          );
        },
      }).addTo(map);
    }
  }

  function siteBounds() {
    if (!siteOutline) return null;
    const bounds = L.geoJSON(siteOutline).getBounds();
    return bounds.isValid() ? bounds : null;
  }

  function initialView(map) {
    if (state.view) {
      map.setView([state.view.lat, state.view.lon], state.view.z);
      return;
    }
    const bounds = siteBounds();
    const info = shown(state.after);
    if (bounds) map.fitBounds(bounds.pad(0.5), { maxZoom: 16 });
    else if (info && !(info instanceof Error)) map.fitBounds(L.latLngBounds([info.bounds[1], info.bounds[0]], [info.bounds[3], info.bounds[2]]));
    else map.setView([20, 0], 2);
  }

  function rememberView(map) {
    const centre = map.getCenter();
    state.view = { z: map.getZoom(), lat: centre.lat, lon: centre.lng };
    writeUrl();
  }

  function writeUrl() {
    const params = new URLSearchParams();
    params.set("before", state.before);
    params.set("after", state.after);
    params.set("mode", state.mode);
    if (state.composite) params.set("bands", state.composite);
    if (state.product) params.set("change", state.product);
    if (state.view) {
      params.set("z", String(state.view.z));
      params.set("lat", state.view.lat.toFixed(5));
      params.set("lon", state.view.lon.toFixed(5));
    }
    history.replaceState(null, "", location.pathname + "?" + params.toString() + location.hash);
  }

  function readUrl() {
    const params = new URLSearchParams(location.search);
    const ids = Array.from(scenes.keys()); // oldest first
    state.before = scenes.has(params.get("before")) ? params.get("before") : ids[ids.length - 2];
    state.after = scenes.has(params.get("after")) ? params.get("after") : ids[ids.length - 1];
    state.mode = params.get("mode") === "side" ? "side" : "swipe";
    state.composite = params.get("bands") || "";
    state.product = params.get("change") || "";
    const z = Number(params.get("z"));
    const lat = Number(params.get("lat"));
    const lon = Number(params.get("lon"));
    const given = ["z", "lat", "lon"].every((name) => params.get(name) !== null && params.get(name) !== "");
    if (given && Number.isFinite(z) && Math.abs(lat) <= 90 && Math.abs(lon) <= 360 && z >= 0 && z <= 24) {
      state.view = { z: z, lat: lat, lon: lon };
    }
  }

  // Swipe: one map, the after image's pane clipped to the right of the slider.
  const swipe = { map: null, layers: [], fraction: 0.5 };

  function clipAfter() {
    const map = swipe.map;
    if (!map) return;
    const size = map.getSize();
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    const bottomRight = map.containerPointToLayerPoint(size);
    const x = topLeft.x + size.x * swipe.fraction;
    map.getPane("after").style.clip =
      "rect(" + topLeft.y + "px, " + bottomRight.x + "px, " + bottomRight.y + "px, " + x + "px)";
    document.getElementById("swipe-divider").style.left = 100 * swipe.fraction + "%";
  }

  async function showSwipe() {
    if (!swipe.map) {
      swipe.map = await baseMap(document.getElementById("swipe-map"), {});
      swipe.map.createPane("before").style.zIndex = 240;
      swipe.map.createPane("after").style.zIndex = 250;
      addOverlays(swipe.map);
      swipe.map.on("move zoomend resize", clipAfter);
      swipe.map.on("moveend", () => rememberView(swipe.map));
      const slider = document.getElementById("swipe-slider");
      swipe.fraction = Number(slider.value) / 1000;
      slider.addEventListener("input", () => {
        swipe.fraction = Number(slider.value) / 1000;
        clipAfter();
      });
      initialView(swipe.map);
    } else {
      swipe.map.invalidateSize();
      if (state.view) swipe.map.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
    }
    swipe.layers.forEach((layer) => layer.remove());
    swipe.layers = [];
    for (const [sceneId, pane] of [[state.before, "before"], [state.after, "after"]]) {
      const layer = await imageLayer(sceneId, pane);
      if (layer) swipe.layers.push(layer.addTo(swipe.map));
    }
    document.getElementById("swipe-before-label").textContent = imageLabel("before", state.before);
    document.getElementById("swipe-after-label").textContent = imageLabel("after", state.after);
    clipAfter();
  }

  // Side by side: two maps whose views follow each other.
  const side = { before: null, after: null, layers: [], syncing: false };

  function follow(source, target) {
    source.on("move", () => {
      if (side.syncing) return;
      side.syncing = true;
      target.setView(source.getCenter(), source.getZoom(), { animate: false });
      side.syncing = false;
    });
    source.on("moveend", () => rememberView(source));
  }

  async function showSide() {
    if (!side.before) {
      side.before = await baseMap(document.getElementById("side-before-map"), {});
      side.after = await baseMap(document.getElementById("side-after-map"), {});
      for (const map of [side.before, side.after]) {
        map.createPane("image").style.zIndex = 250;
        addOverlays(map);
      }
      initialView(side.before);
      side.after.setView(side.before.getCenter(), side.before.getZoom(), { animate: false });
      follow(side.before, side.after);
      follow(side.after, side.before);
    } else {
      for (const map of [side.before, side.after]) map.invalidateSize();
      if (state.view) side.before.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
    }
    side.layers.forEach((layer) => layer.remove());
    side.layers = [];
    for (const [sceneId, map] of [[state.before, side.before], [state.after, side.after]]) {
      const layer = await imageLayer(sceneId, "image");
      if (layer) side.layers.push(layer.addTo(map));
    }
    document.getElementById("side-before-label").textContent = imageLabel("before", state.before);
    document.getElementById("side-after-label").textContent = imageLabel("after", state.after);
  }

  async function render() {
    delete document.body.dataset.compareReady;
    await offerComposites();
    document.getElementById("swipe-view").hidden = state.mode !== "swipe";
    document.getElementById("side-view").hidden = state.mode !== "side";
    await (state.mode === "swipe" ? showSwipe() : showSide());
    const productNote = await showProduct();
    const missing = [state.before, state.after].filter((id) => shown(id) instanceof Error);
    const status = document.getElementById("compare-status");
    const notes = [];
    if (missing.length) {
      notes.push("Imagery not available for " +
        missing.map((id) => scenes.get(id).datetime.slice(0, 10)).join(" and ") +
        " (the server serves no tiles of " + (missing.length > 1 ? "them" : "it") +
        "); the outlines are still shown.");
    }
    if (productNote) notes.push(productNote);
    if (state.before === state.after) notes.push("Before and after are the same scene.");
    else if (scenes.get(state.before).datetime > scenes.get(state.after).datetime) {
      notes.push("The before image is later than the after image.");
    }
    status.textContent = notes.join(" ");
    writeUrl();
    markReady("compare");
  }

  async function startCompare(site) {
    const controls = document.getElementById("compare-controls");
    if (!controls) {
      markReady("compare"); // fewer than two scenes: the page says so
      return;
    }
    for (const scene of site.scenes) scenes.set(scene.id, scene);
    siteOutline = site.site.geometry;
    const runs = await api("/api/runs?site_id=" + encodeURIComponent(siteId));
    const features = [];
    for (const run of runs.items) {
      const objects = await api("/api/runs/" + encodeURIComponent(run.id) + "/objects");
      for (const feature of objects.features) {
        feature.properties.run_id = run.id;
        features.push(feature);
      }
    }
    changeObjects = { type: "FeatureCollection", features: features };
    const productSelect = document.getElementById("change-product");
    for (const run of runs.items) {
      for (const kind of ["score", "mask"]) {
        productSelect.append(el("option", { value: run.id + "|" + kind }, "change " + kind + " of " + run.id));
      }
    }
    readUrl();
    productSelect.value = state.product;
    state.product = productSelect.value; // "" when the URL named no run of this site
    const beforeSelect = document.getElementById("before-scene");
    const afterSelect = document.getElementById("after-scene");
    beforeSelect.value = state.before;
    afterSelect.value = state.after;
    controls.elements.mode.value = state.mode;
    controls.addEventListener("change", () => {
      const previous = state.mode === "swipe" ? swipe.map : side.before;
      if (previous) rememberView(previous);
      state.before = beforeSelect.value;
      state.after = afterSelect.value;
      state.mode = controls.elements.mode.value;
      state.composite = document.getElementById("composite").value;
      state.product = productSelect.value;
      render().catch(showCompareError);
    });
    controls.addEventListener("submit", (event) => event.preventDefault());
    await render();
  }

  function showCompareError(error) {
    const status = document.getElementById("compare-status");
    if (status) status.textContent = "The compare could not be drawn: " + error.message;
    markReady("compare");
  }

  // ---- the timeline ---------------------------------------------------------------

  async function startTimeline() {
    const status = document.getElementById("timeline-status");
    const chart = document.getElementById("timeline-chart");
    let timeline;
    try {
      timeline = await api(sitePath + "/timeline");
    } catch (error) {
      status.textContent = "No timeline: " + error.message;
      markReady("timeline");
      return;
    }
    const records = timeline.records;
    const peak = Math.max(0, ...records.map((r) => r.activity || 0));
    status.textContent =
      records.length + " date(s), method " + timeline.lineage.method + " over " +
      timeline.lineage.bands.join(", ") + "; clouds from " + timeline.lineage.cloud_source +
      ". Activity: the share of the site changed since the previous usable date.";
    const table = el("table", { class: "timeline" },
      el("thead", {}, el("tr", {}, el("th", {}, "date"), el("th", {}, "activity"), el("th", {}, ""),
        el("th", {}, "clear"), el("th", {}, "note"))));
    const body = el("tbody");
    for (const record of records) {
      const bar = el("div", { class: "bar" + (record.spike ? " spike" : "") });
      bar.style.width = (peak > 0 && record.activity ? (100 * record.activity) / peak : 0) + "%";
      const activity = record.activity === null ? "" : (100 * record.activity).toFixed(1) + " %";
      const note = [record.usable ? "" : "unusable", record.spike ? "spike" : "", record.note].filter(Boolean).join("; ");
      body.append(el("tr", {},
        el("td", {}, record.date.slice(0, 10)),
        el("td", { class: "number" }, activity),
        el("td", { class: "bar-cell" }, bar),
        el("td", { class: "number" }, record.clear_fraction === null ? "" : Math.round(100 * record.clear_fraction) + " %"),
        el("td", {}, note)));
    }
    table.append(body);
    chart.replaceChildren(table);
    markReady("timeline");
  }

  // ---- the assessment form --------------------------------------------------------

  function startAssessmentForm() {
    const form = document.getElementById("assessment-form");
    if (!form) return;
    const status = document.getElementById("assessment-status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const body = {
        date: data.get("date"),
        status: data.get("status"),
        confidence: data.get("confidence"),
        evidence: String(data.get("evidence") || "").split(",").map((s) => s.trim()).filter(Boolean),
        note: String(data.get("note") || ""),
      };
      status.textContent = "Recording…";
      try {
        const a = await api(sitePath + "/assessments", { method: "POST", body: body });
        const table = document.getElementById("assessment-table");
        const row = el("tr", { id: "ev-" + a.id, class: "new" },
          el("td", {}, a.date), el("td", {}, a.status), el("td", {}, a.confidence),
          el("td", {}, a.analyst), el("td", {}, a.evidence.join(", ")), el("td", {}, a.note),
          el("td", { class: "id" }, a.id));
        // in date order, as the server lists them: before the first row observed later
        const later = Array.from(table.tBodies[0].rows).find((r) => r.cells[0].textContent > a.date);
        table.tBodies[0].insertBefore(row, later || null);
        table.hidden = false;
        document.getElementById("no-assessment").hidden = true;
        status.textContent = "Recorded and signed as " + a.analyst + " (" + a.id + ").";
        form.reset();
      } catch (error) {
        status.textContent = "Not recorded: " + error.message;
      }
      markReady("assessment");
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    startAssessmentForm();
    startTimeline();
    api(sitePath)
      .then(startCompare)
      .catch(showCompareError)
      .finally(() => markReady("site"));
  });
})();
