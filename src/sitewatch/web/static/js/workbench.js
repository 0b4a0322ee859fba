// What every page of the workbench shares: calls to the JSON API (with the session's CSRF
// token on writes), safe DOM building (text is always set as text, never parsed as HTML),
// the offline base map, and the "ready" flags browser tests wait on instead of sleeping.
"use strict";

window.sitewatch = (function () {
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // fetch a JSON API route; writes carry the CSRF header. Rejects with the server's message.
  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    const init = { method: opts.method || "GET", headers: headers, credentials: "same-origin" };
    if (init.method !== "GET") {
      headers["X-CSRF-Token"] = csrfToken();
    }
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    const answer = await fetch(path, init);
    const data = answer.status === 204 ? null : await answer.json();
    if (!answer.ok) {
      throw new Error((data && data.error) || answer.status + " " + answer.statusText);
    }
    return data;
  }

  // el("td", {class: "id"}, "text", child...): an element whose strings become text nodes.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // `text` escaped for the few places that take HTML (Leaflet's attributions): a credit
  // or a name from the server shows as typed, never as markup.
  function asHtml(text) {
    return el("span", {}, text || "").innerHTML;
  }

  // A Leaflet map in `element` over the shipped country outlines (no tile server needed);
  // resolves once the outlines are drawn.
  async function baseMap(element, options) {
    const map = L.map(element, Object.assign({ preferCanvas: true, worldCopyJump: true }, options));
    map.attributionControl.setPrefix(false);
    L.control.scale({ imperial: false }).addTo(map);
    // The outlines are opaque land: their own pane sits below the tile pane (200), so any
    // imagery a page adds, in whatever pane, is drawn over them and never hidden.
    map.createPane("outlines").style.zIndex = 150;
    const outlines = await api("/api/outlines");
    L.geoJSON(outlines, {
      pane: "outlines",
      style: { color: "#8a8f95", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1 },
      attribution: "outlines: Natural Earth",
      interactive: false,
    }).addTo(map);
    return map;
  }

  // Tell the page's reader (a person or a browser test) that `what` is ready.
  function markReady(what) {
    document.body.dataset[what + "Ready"] = "1";
  }

  return { api: api, el: el, asHtml: asHtml, baseMap: baseMap, markReady: markReady };
})();
