// The declaration page: a map of the newest verdicts (declared items as points, catalog
// sites as outlines) coloured by verdict; clicking a feature shows its row in the table.
"use strict";

(function () {
  const { api, el, baseMap, markReady } = window.sitewatch;
  const VERDICT_COLOURS = {
    consistent: "#2e7d32",
    "dismantlement-verified": "#1565c0",
    "dismantlement-unverified": "#f9a825",
    "not-observed": "#757575",
    "unknown-site": "#6a1b9a",
    undeclared: "#ef6c00",
    contradicted: "#c62828",
  };

  function colour(verdict) {
    return VERDICT_COLOURS[verdict] || "#000000";
  }

  function showRow(row) {
    const target = document.getElementById("verdict-" + row);
    if (!target) return;
    document.querySelectorAll("#verdict-table tr.selected").forEach((r) => r.classList.remove("selected"));
    target.classList.add("selected");
    target.scrollIntoView({ block: "nearest" });
  }

  async function start() {
    const page = document.getElementById("declaration");
    const mapElement = document.getElementById("verdict-map");
    if (!mapElement) {
      markReady("declaration");
      return;
    }
    const id = page.dataset.declarationId;
    const map = await baseMap(mapElement, { zoomControl: true });
    const features = await api("/api/declarations/" + encodeURIComponent(id) + "/map");
    const layer = L.geoJSON(features, {
      style: (f) => ({ color: colour(f.properties.verdict), weight: 2, fillOpacity: 0.25 }),
      pointToLayer: (f, latlng) =>
        L.circleMarker(latlng, {
          radius: 7,
          color: "#ffffff",
          weight: 1.5,
          fillColor: colour(f.properties.verdict),
          fillOpacity: 0.9,
        }),
      onEachFeature: (f, featureLayer) => {
        const p = f.properties;
        const label = (p.kind === "item" ? "declared item #" + p.index : "site") + ": " +
          (p.name || p.site_id || "") + " (" + p.verdict + ")";
        featureLayer.bindTooltip(el("span", {}, label));
        featureLayer.on("click", () => showRow(p.row));
      },
    }).addTo(map);
    if (features.features.length) {
      map.fitBounds(layer.getBounds(), { maxZoom: 12, padding: [30, 30] });
    } else {
      map.setView([20, 0], 2);
    }
    const seen = new Set(features.features.map((f) => f.properties.verdict));
    const legend = document.getElementById("verdict-legend");
    for (const verdict of seen) {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colour(verdict);
      legend.append(swatch, " " + verdict + " ");
    }
    legend.append(el("small", {}, "(points: declared items; outlines: catalog sites)"));
    markReady("declaration");
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => {
      const legend = document.getElementById("verdict-legend");
      if (legend) legend.textContent = "map not available: " + error.message;
      markReady("declaration");
    });
  });
})();
