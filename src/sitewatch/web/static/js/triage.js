// The triage queue of a scan (and the page of one candidate): places most probable first,
// each shown as its best candidate, before and after side by side on two synchronised maps
// with the place's outline, its facts, and the decisions, by keyboard or buttons. Every value
// from the server is set as text.
"use strict";

(function () {
  const sw = window.sitewatch;
  const el = sw.el;
  const PAGE = 100;

  const root = document.getElementById("triage");
  if (!root) return;
  const scanId = root.dataset.scanId;
  const single = root.dataset.single === "1";
  const canDecide = root.dataset.canDecide === "1";
  const $ = (id) => document.getElementById(id);

  const state = {
    items: [], // the queue as loaded so far (places: their best candidate's fields and theirs)
    total: 0,
    index: 0,
    view: null, // the current candidate's full view (/api/candidates/ID)
    place: null, // the current queue row (a place), null on the page of one candidate
    status: "new",
    known: false,
    busy: false,
    pair: null, // the before/after maps (pair.js), made for the first candidate shown
    ready: false,
  };

  function say(text, isError) {
    const line = $("triage-message");
    line.textContent = text || "";
    line.classList.toggle("error", Boolean(isError));
  }

  function ready() {
    if (!state.ready) {
      state.ready = true;
      sw.markReady("triage");
    }
  }

  // ---- the queue ---------------------------------------------------------------------

  function queueQuery(offset) {
    const query = new URLSearchParams({ status: state.status, offset: String(offset), limit: String(PAGE) });
    if (state.known) query.set("include_known", "true");
    return "/api/scans/" + encodeURIComponent(scanId) + "/candidates?" + query.toString();
  }

  async function loadQueue() {
    const page = await sw.api(queueQuery(0));
    state.items = page.items;
    state.total = page.total;
    return page;
  }

  async function loadMoreIfNeeded() {
    if (state.index >= state.items.length - 1 && state.items.length < state.total) {
      const page = await sw.api(queueQuery(state.items.length));
      state.items = state.items.concat(page.items);
      state.total = page.total;
    }
  }

  function shareLink(candidateId) {
    if (single) return;
    const query = new URLSearchParams();
    if (state.status !== "new") query.set("status", state.status);
    if (state.known) query.set("known", "1");
    if (candidateId) query.set("candidate", candidateId);
    const text = query.toString();
    history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
  }

  function showPosition() {
    const where = $("queue-position");
    if (!where) return;
    where.textContent = state.items.length
      ? "place " + (state.index + 1) + " of " + state.total
      : "";
  }

  // ---- one candidate -----------------------------------------------------------------

  function fact(list, name, ...value) {
    list.append(el("dt", {}, name), el("dd", {}, ...value));
  }

  function metres(value) {
    return value < 1000 ? Math.round(value) + " m" : (value / 1000).toFixed(2) + " km";
  }

  function parts(count) {
    return count === 1 ? "1 part" : count + " parts";
  }

  // The place's facts (from the queue): its probability of real change from the place model,
  // how many candidates it is made of, and whether any part was partly unseen.
  function showPlace(list, place) {
    const probability = el("strong", { class: "probability" }, Math.round(place.probability * 100) + "%");
    const listed = place.listed_by < place.probability
      ? " (listed as " + Math.round(place.listed_by * 100) + "%: partly unseen)"
      : "";
    fact(list, "probability", probability, " of real change" + listed);
    const members = place.member_count > 1
      ? ", named by its strongest: " + Math.round(place.place_area_m2).toLocaleString("en") + " m² in all"
      : "";
    fact(list, "place", parts(place.member_count) + members);
    if (place.edge) fact(list, "edge", el("span", { class: "edge-mark" }, "partly unseen"), ": a part touches pixels the scan could not compare (nodata, a footprint edge, clouds)");
  }

  function showFacts(view, place) {
    const list = $("facts");
    list.replaceChildren();
    if (place) showPlace(list, place);
    fact(list, "candidate", el("a", { href: "/candidates/" + encodeURIComponent(view.id) }, view.id));
    fact(list, "score", Number(view.score).toPrecision(3) + " (peak " + Number(view.max_score).toPrecision(3) + ")");
    fact(list, "area", Math.round(view.area_m2).toLocaleString("en") + " m² (" + (view.area_m2 / 1e4).toFixed(2) + " ha)");
    const status = el("span", { class: "status-" + view.status }, view.status);
    const extra = view.status === "dismissed" && view.status_reason ? ": " + view.status_reason : "";
    const site = view.promoted_site_id
      ? [" as ", el("a", { href: "/sites/" + encodeURIComponent(view.promoted_site_id) }, view.promoted_site_id)]
      : [];
    fact(list, "status", status, extra, ...site);
    if (view.nearest) {
      fact(list, "nearest site",
        el("a", { href: "/sites/" + encodeURIComponent(view.nearest.site_id) }, view.nearest.site_id),
        " at " + metres(view.nearest.distance_m) + (view.nearest.known ? " (known: within 1 km)" : ""));
    } else {
      fact(list, "nearest site", "none located in the catalog");
    }
    fact(list, "where", view.centroid_lat.toFixed(5) + ", " + view.centroid_lon.toFixed(5));
    // The acquisitions the scan's composites were made of (not only the windows asked for).
    for (const name of ["before", "after"]) {
      const scenes = (view.acquisitions && view.acquisitions[name]) || [];
      if (scenes.length) fact(list, "compared " + name, scenes.map((item) => item.acquired.slice(0, 10)).join(", "));
    }
    if (view.edge && !place) fact(list, "edge", "touches pixels the scan could not compare (nodata, a footprint edge, clouds)");
    // What the ledger allows next: a promoted candidate is a site now; only a new one can be
    // dismissed (and a dismissed one may still be promoted).
    const promoteButton = $("btn-promote");
    if (promoteButton) promoteButton.disabled = view.status === "promoted";
    const dismissButton = $("btn-dismiss");
    if (dismissButton) dismissButton.disabled = view.status !== "new";
  }

  function allowed(id) {
    const button = $(id);
    return Boolean(canDecide && state.view && button && !button.disabled);
  }

  async function show(candidateId) {
    const view = await sw.api("/api/candidates/" + encodeURIComponent(candidateId));
    const row = state.items[state.index];
    const place = row && row.id === view.id && row.members ? row : null;
    state.view = view;
    state.place = place;
    $("triage-view").hidden = false;
    if (!state.pair) state.pair = await window.sitewatchPair.create($("map-before"), $("map-after"));
    showFacts(view, place);
    hideDismissForm();
    $("like-panel").hidden = true;
    // The outline drawn is the place's (every part), framed on the whole place.
    const drawn = place
      ? Object.assign({}, view, {
          outline: place.place_outline,
          context_bounds: place.place_context_bounds,
        })
      : view;
    await state.pair.show(drawn, {
      before: { scenes: view.before_scenes, window: view.scan.before, label: $("label-before") },
      after: { scenes: view.after_scenes, window: view.scan.after, label: $("label-after") },
    });
    shareLink(view.id);
    showPosition();
    ready();
  }

  function showEmpty(page) {
    $("triage-view").hidden = true;
    let text = "No " + (state.status === "all" ? "" : state.status + " ") + "candidates in this scan.";
    if (page && page.known_hidden) {
      text += " " + page.known_hidden + " candidate(s) near known sites are hidden: tick \u201cinclude candidates near known sites\u201d to see them.";
    }
    say(text);
    showPosition();
    shareLink("");
    ready();
  }

  // ---- moving and deciding -------------------------------------------------------------

  async function guarded(action) {
    if (state.busy) return;
    state.busy = true;
    try {
      await action();
    } catch (error) {
      say(error.message, true);
    } finally {
      state.busy = false;
    }
  }

  async function move(step) {
    if (single || !state.items.length) return;
    const target = state.index + step;
    if (target < 0) {
      say("this is the first place");
      return;
    }
    state.index = target;
    await loadMoreIfNeeded();
    if (state.index >= state.items.length) {
      state.index = state.items.length - 1;
      say("end of the queue");
      return;
    }
    say("");
    await show(state.items[state.index].id);
  }

  // After a decision the queue moves on: a row that no longer matches the filter leaves it.
  async function afterDecision(updated, message) {
    if (single) {
      await show(updated.id);
      say(message);
      return;
    }
    const stays = state.status === "all" || state.status === updated.status;
    if (stays) {
      state.items[state.index] = Object.assign({}, state.items[state.index], updated, { edge: state.items[state.index].edge });
      await move(1);
      say(message);
      return;
    }
    state.items.splice(state.index, 1);
    state.total -= 1;
    await loadMoreIfNeeded();
    if (!state.items.length) {
      showEmpty(null);
      say(message + " The queue is empty.");
      return;
    }
    state.index = Math.min(state.index, state.items.length - 1);
    await show(state.items[state.index].id);
    say(message);
  }

  async function promote() {
    if (!allowed("btn-promote")) return;
    const id = state.view.id;
    const answer = await sw.api("/api/candidates/" + encodeURIComponent(id) + "/promote", { method: "POST", body: {} });
    await afterDecision(answer.candidate, "Promoted " + id + " to site " + answer.site.id + ".");
  }

  function openDismissForm() {
    if (!allowed("btn-dismiss")) return;
    $("dismiss-form").hidden = false;
    $("dismiss-reason").value = "";
    $("dismiss-reason").focus();
  }

  function hideDismissForm() {
    const form = $("dismiss-form");
    if (form) form.hidden = true;
  }

  async function dismiss() {
    const reason = $("dismiss-reason").value.trim();
    if (!reason) {
      say("a dismissal needs a reason", true);
      return;
    }
    const id = state.view.id;
    const answer = await sw.api("/api/candidates/" + encodeURIComponent(id) + "/dismiss", {
      method: "POST",
      body: { reason: reason, include_known: state.known },
    });
    hideDismissForm();
    const others = answer.dismissed.length - 1;
    const rest = others === 1 ? " with the other part of its place" : " with the " + others + " other parts of its place";
    await afterDecision(answer.candidate, "Dismissed " + id + (others ? rest : "") + ".");
  }

  async function findLike() {
    if (!state.view) return;
    const id = state.view.id;
    say("looking for candidates like " + id + "\u2026");
    const answer = await sw.api("/api/candidates/" + encodeURIComponent(id) + "/like?limit=10");
    const list = $("like-list");
    list.replaceChildren();
    for (const other of answer.items) {
      const href = single
        ? "/candidates/" + encodeURIComponent(other.id)
        : location.pathname + "?" + new URLSearchParams({ status: "all", known: "1", candidate: other.id }).toString();
      list.append(el("li", {},
        el("a", { href: href }, other.id),
        " similarity " + other.similarity.toFixed(2) + ", score " + Number(other.score).toPrecision(3) +
        ", " + Math.round(other.area_m2) + " m², " + other.status));
    }
    if (!answer.items.length) list.append(el("li", {}, "no other candidate in this scan could be compared"));
    $("like-panel").hidden = false;
    say(answer.items.length + " candidate(s) like " + id + ", most alike first");
  }

  // ---- wiring ----------------------------------------------------------------------------

  // Keys typed into a text field or a list are theirs; a ticked box or a button keeps the
  // shortcuts working.
  function typing(target) {
    if (!(target instanceof HTMLElement)) return false;
    if (target.isContentEditable || ["TEXTAREA", "SELECT"].includes(target.tagName)) return true;
    return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(target.type);
  }

  const KEYS = {
    j: () => move(1), ArrowRight: () => move(1), ArrowDown: () => move(1),
    k: () => move(-1), ArrowLeft: () => move(-1), ArrowUp: () => move(-1),
    s: () => move(1),
    f: findLike,
    p: promote,
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") hideDismissForm();
      return;
    }
    if (event.key === "d") {
      event.preventDefault();
      openDismissForm();
      return;
    }
    const action = KEYS[event.key];
    if (action) {
      event.preventDefault();
      guarded(action);
    }
  });

  function click(id, action) {
    const button = $(id);
    if (button) button.addEventListener("click", () => guarded(action));
  }
  click("btn-next", () => move(1));
  click("btn-skip", () => move(1));
  click("btn-prev", () => move(-1));
  click("btn-like", findLike);
  click("btn-promote", promote);
  const dismissButton = $("btn-dismiss");
  if (dismissButton) dismissButton.addEventListener("click", openDismissForm);
  const form = $("dismiss-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      guarded(dismiss);
    });
    $("dismiss-cancel").addEventListener("click", hideDismissForm);
  }

  async function reload(openOn) {
    const page = await loadQueue();
    state.index = 0;
    if (openOn) {
      const found = state.items.findIndex((item) => item.id === openOn);
      if (found >= 0) {
        state.index = found;
      } else {
        // Shared link to a candidate outside the loaded page or filter: show it first.
        const view = await sw.api("/api/candidates/" + encodeURIComponent(openOn));
        state.items.unshift(view);
        state.total += 1;
      }
    }
    if (!state.items.length) {
      showEmpty(page);
      return;
    }
    say("");
    await show(state.items[state.index].id);
  }

  function start() {
    const params = new URLSearchParams(location.search);
    const first = root.dataset.candidate || params.get("candidate") || "";
    if (single) {
      state.items = [{ id: first }];
      state.total = 1;
      guarded(() => show(first)).then(ready);
      return;
    }
    state.status = ["new", "promoted", "dismissed", "all"].includes(params.get("status")) ? params.get("status") : "new";
    state.known = params.get("known") === "1";
    $("filter-status").value = state.status;
    $("filter-known").checked = state.known;
    $("filter-status").addEventListener("change", function () {
      state.status = this.value;
      this.blur(); // back to the queue's keys
      guarded(() => reload(""));
    });
    $("filter-known").addEventListener("change", function () {
      state.known = this.checked;
      guarded(() => reload(""));
    });
    $("queue-filter").addEventListener("submit", (event) => event.preventDefault());
    guarded(() => reload(first)).then(ready);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
