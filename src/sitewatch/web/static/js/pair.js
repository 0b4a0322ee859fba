// A before/after pair of Leaflet maps that always show the same ground: each with the
// imagery of one scene (the tiles contract: /api/scenes/ID/tiles.json), labelled with its
// date and sensor, and the same outline drawn on both. Used by the triage view.
"use strict";

window.sitewatchPair = (function () {
  const sw = window.sitewatch;
  const tilesCache = new Map(); // scene id -> tiles.json answer, or null when not served

  function day(iso) {
    return iso ? String(iso).slice(0, 10) : "";
  }

  function sensorOf(scene, tiles) {
    return (tiles && tiles.sensor) || scene.platform || scene.instrument || "sensor not recorded";
  }

  async function tilesOf(sceneId) {
    if (!tilesCache.has(sceneId)) {
      let answer = null;
      try {
        answer = await sw.api("/api/scenes/" + encodeURIComponent(sceneId) + "/tiles.json");
      } catch (error) {
        answer = null; // not served (yet): the label says so
      }
      tilesCache.set(sceneId, answer);
    }
    return tilesCache.get(sceneId);
  }

  // Keep `to` on the ground `from` shows, as `from` moves (drag, zoom, fitBounds).
  function follow(from, to, lock) {
    from.on("move", function () {
      if (lock.held) return;
      lock.held = true;
      to.setView(from.getCenter(), from.getZoom(), { animate: false });
      lock.held = false;
    });
  }

  async function create(beforeElement, afterElement) {
    // No zoom animation: the two maps must show the same ground at every moment (one map
    // animating while its twin jumps shows them at different scales). No keyboard panning:
    // the page's keys are its own.
    const options = { keyboard: false, zoomSnap: 0.25, zoomAnimation: false };
    const maps = {
      before: await sw.baseMap(beforeElement, options),
      after: await sw.baseMap(afterElement, options),
    };
    for (const map of Object.values(maps)) {
      // Imagery above the filled country outlines, the object's outline above both.
      map.createPane("imagery").style.zIndex = 450;
      map.createPane("outline").style.zIndex = 460;
    }
    const lock = { held: false };
    follow(maps.before, maps.after, lock);
    follow(maps.after, maps.before, lock);
    let layers = [];

    // One side: the newest of `scenes` (scene_summary rows, newest first) as a tile layer,
    // or the reason there is none in `label`. A scan candidate's scenes say whether they
    // were `composited` into the scan's picture: the newest of those is shown first.
    async function showSide(name, side) {
      const label = side.label;
      label.classList.remove("missing");
      if (!side.scenes.length) {
        label.textContent = name + ": no scene covers it in " + day(side.window[0]) + " to " + day(side.window[1]);
        label.classList.add("missing");
        return;
      }
      const scene = side.scenes.find((item) => item.composited !== false) || side.scenes[0];
      const tiles = await tilesOf(scene.id);
      const when = day((tiles && tiles.acquired) || scene.datetime);
      if (!tiles || !tiles.tiles || !tiles.tiles.length) {
        label.textContent = name + ": " + when + ", " + sensorOf(scene, null) + " (imagery not available)";
        label.classList.add("missing");
        return;
      }
      label.textContent = name + ": " + when + ", " + sensorOf(scene, tiles) +
        (tiles.resolution_m ? ", " + tiles.resolution_m + " m" : "");
      const [west, south, east, north] = tiles.bounds;
      const layer = L.tileLayer(tiles.tiles[0], {
        pane: "imagery",
        bounds: L.latLngBounds([south, west], [north, east]),
        minNativeZoom: tiles.minzoom,
        maxNativeZoom: tiles.maxzoom,
        maxZoom: Math.max(tiles.maxzoom + 2, 18),
        attribution: window.sitewatch.asHtml(tiles.attribution), // Leaflet takes HTML here
      });
      layers.push(layer.addTo(maps[name]));
    }

    // `view`: {outline (GeoJSON), context_bounds [W, S, E, N]}; `sides`: {before, after},
    // each {scenes, window, label}. Resolves once both labels are set.
    async function show(view, sides) {
      for (const layer of layers) layer.remove();
      layers = [];
      const [west, south, east, north] = view.context_bounds;
      for (const map of Object.values(maps)) map.invalidateSize();
      maps.before.fitBounds(L.latLngBounds([south, west], [north, east]), { animate: false });
      for (const map of Object.values(maps)) {
        const outline = L.geoJSON(view.outline, {
          pane: "outline",
          style: { color: "#ffd400", weight: 2, fill: false },
          interactive: false,
        });
        layers.push(outline.addTo(map));
      }
      await Promise.all([showSide("before", sides.before), showSide("after", sides.after)]);
    }

    return { maps: maps, show: show };
  }

  return { create: create };
})();
