/*
 * Switchyard's live dashboard, plain browser JavaScript (no build step, no framework).
 *
 *   fetch /admin/events ──► snapshot ──► render state, fill the feed
 *     (Bearer token from      tick     ──► render state, push a point on each chart
 *      sessionStorage)        change   ──► prepend to the feed
 *
 * EventSource cannot send an Authorization header, so the stream is read with fetch and a
 * ReadableStream. The DOM is built once per route and target and then only its text changes,
 * so a tick never takes the focus off a button or moves a card. Charts keep the last 15
 * minutes of ticks, here in the page (the server keeps no history for them).
 */
"use strict";

(() => {
  const TOKEN_KEY = "switchyard.adminToken";
  /** 15 minutes of one-second ticks. */
  const HISTORY = 900;
  const FEED_MAX = 200;
  /** No byte for this long (ticks come every second): the stream is dead, connect again. */
  const STALL_MS = 10_000;
  const MAX_RETRY_MS = 10_000;
  const PLOT_HEIGHT = 140;
  const PALETTE = ["#0b5fff", "#c2410c", "#15803d", "#7c3aed", "#be185d", "#0e7490", "#a16207", "#4b5563"];
  const HEALTH_WORDS = { ok: "OK", degraded: "Degraded", down: "Down" };
  const ACTION_WORDS = { drain: "Drain", disable: "Disable", enable: "Enable", "reset-breaker": "Reset breaker" };

  const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const ui = {
    conn: byId("conn"),
    meta: byId("meta"),
    routes: byId("routes"),
    empty: byId("empty"),
    feed: byId("feed"),
    tokenForm: /** @type {HTMLFormElement} */ (byId("token-form")),
    tokenInput: /** @type {HTMLInputElement} */ (byId("token")),
    tokenForget: byId("token-forget"),
    routeTemplate: /** @type {HTMLTemplateElement} */ (byId("route-template")),
    targetTemplate: /** @type {HTMLTemplateElement} */ (byId("target-template")),
  };

  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  /** Server clock minus ours, ms: countdowns are measured on the server's clock. */
  let clockOffset = 0;
  /** route name → RouteView (DOM, charts, history). */
  const routes = new Map();
  let controller = null;
  let retryMs = 1_000;
  let retryTimer = 0;

  const authHeaders = () => (token ? { authorization: `Bearer ${token}` } : {});
  const serverNow = () => Date.now() + clockOffset;

  // ---------------------------------------------------------------- connection

  function setConn(state, text) {
    ui.conn.dataset.state = state;
    ui.conn.textContent = text;
  }

  async function connect() {
    window.clearTimeout(retryTimer);
    if (controller) controller.abort();
    const c = new AbortController();
    controller = c;
    setConn("connecting", "Connecting…");
    let res;
    try {
      res = await fetch("/admin/events", {
        headers: { accept: "text/event-stream", ...authHeaders() },
        signal: c.signal,
        cache: "no-store",
      });
    } catch {
      if (!c.signal.aborted) retry("Gateway unreachable");
      return;
    }
    if (res.status === 401) {
      setConn("auth", token ? "Token refused: type the admin token" : "Admin token needed");
      return;
    }
    if (res.status === 404) {
      // admin.enabled: false (a reload may turn it on again, so keep asking, slowly).
      retryMs = MAX_RETRY_MS;
      retry("The admin API is off on this gateway");
      return;
    }
    if (!res.ok || !res.body) {
      retry(`Events answered HTTP ${res.status}`);
      return;
    }
    setConn("live", "Live");
    try {
      await readEvents(res.body, c);
    } catch {
      // Aborted (a new connection, a stall) or the network dropped: decided below.
    }
    if (controller === c) retry("Stream ended");
  }

  function retry(why) {
    if (controller) controller.abort();
    controller = null;
    setConn("error", `${why}; retrying in ${Math.round(retryMs / 1000)} s`);
    retryTimer = window.setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  /** Splits the byte stream into server-sent events; comments (heartbeats) only feed the stall watch. */
  async function readEvents(body, c) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    let stall = window.setTimeout(() => c.abort(), STALL_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        window.clearTimeout(stall);
        stall = window.setTimeout(() => c.abort(), STALL_MS);
        buf += decoder.decode(value, { stream: true });
        const blocks = buf.split(/\r?\n\r?\n/);
        buf = blocks.pop() ?? "";
        for (const block of blocks) dispatch(block);
      }
    } finally {
      window.clearTimeout(stall);
    }
  }

  function dispatch(block) {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length === 0) return;
    const payload = JSON.parse(data.join("\n"));
    if (event === "snapshot") {
      retryMs = 1_000;
      render(payload);
      ui.feed.replaceChildren(...payload.changes.slice(0, FEED_MAX).map(feedItem));
    } else if (event === "tick") render(payload);
    else if (event === "change") addChange(payload);
  }

  // ---------------------------------------------------------------- state

  function render(state) {
    clockOffset = state.now - Date.now();
    ui.meta.textContent = `v${state.version} · up ${duration(state.uptime_s)}`;
    ui.empty.hidden = state.routes.length > 0;
    if (state.routes.length === 0) ui.empty.textContent = "No routes.";
    const seen = new Set();
    for (const r of state.routes) {
      seen.add(r.name);
      let view = routes.get(r.name);
      if (!view) routes.set(r.name, (view = createRoute(r)));
      updateRoute(view, r, state.now);
    }
    for (const [name, view] of routes) {
      if (seen.has(name)) continue;
      view.latency.destroy();
      view.throughput.destroy();
      view.el.remove();
      routes.delete(name);
    }
    countdowns();
  }

  function fields(root) {
    const out = {};
    for (const el of root.querySelectorAll("[data-f]")) out[el.dataset.f] = el;
    return out;
  }

  function createRoute(r) {
    const el = /** @type {HTMLElement} */ (ui.routeTemplate.content.firstElementChild.cloneNode(true));
    el.dataset.route = r.name;
    el.querySelector(".route-name").textContent = r.name;
    el.setAttribute("aria-label", `Route ${r.name}`);
    ui.routes.append(el);
    const view = {
      el,
      f: fields(el.querySelector(".route-head")),
      list: el.querySelector(".targets"),
      targets: new Map(),
      hist: { t: [], p50: [], p95: [], total: [], byTarget: new Map() },
      latencyEl: el.querySelector('[data-plot="latency"]'),
      throughputEl: el.querySelector('[data-plot="throughput"]'),
      latency: null,
      throughput: null,
      seriesIds: [],
    };
    view.latency = new uPlot(
      chartOptions(view.latencyEl, "ms", [
        { label: "p50", stroke: PALETTE[0], width: 1.5, value: msValue },
        { label: "p95", stroke: PALETTE[1], width: 1.5, value: msValue },
      ]),
      [[], [], []],
      view.latencyEl,
    );
    return view;
  }

  function updateRoute(view, r, now) {
    const f = view.f;
    f.available.textContent = `${r.available_targets} of ${r.targets.length}`;
    f.queue.textContent = r.queue.capacity > 0 ? `${r.queue.waiting} / ${r.queue.capacity}` : `${r.queue.waiting} (no queue)`;
    f.rps.textContent = r.traffic.rps.toFixed(2);
    f.latency.textContent = latencyText(r.traffic);
    f.errors.textContent = percent(r.traffic.error_rate);
    f.cost.textContent = usd(r.cost_today_usd);

    const ids = r.targets.map((t) => t.id);
    for (const t of r.targets) {
      let tv = view.targets.get(t.id);
      if (!tv) view.targets.set(t.id, (tv = createTarget(view, r.name, t)));
      updateTarget(tv, t);
    }
    for (const [id, tv] of view.targets) {
      if (ids.includes(id)) continue;
      tv.el.remove();
      view.targets.delete(id);
    }
    record(view, r, now);
  }

  /** One point per tick on both charts; the throughput chart is rebuilt when the targets change. */
  function record(view, r, now) {
    const h = view.hist;
    h.t.push(now / 1000);
    h.p50.push(r.traffic.p50_ms);
    h.p95.push(r.traffic.p95_ms);
    h.total.push(r.traffic.rps);
    for (const t of r.targets) {
      let series = h.byTarget.get(t.id);
      if (!series) h.byTarget.set(t.id, (series = new Array(h.t.length - 1).fill(null)));
      series.push(t.traffic.rps);
    }
    const ids = r.targets.map((t) => t.id);
    for (const [id, series] of h.byTarget) {
      if (!ids.includes(id)) h.byTarget.delete(id);
      else if (series.length < h.t.length) series.push(null);
    }
    if (h.t.length > HISTORY) {
      const drop = h.t.length - HISTORY;
      for (const a of [h.t, h.p50, h.p95, h.total, ...h.byTarget.values()]) a.splice(0, drop);
    }
    if (!view.throughput || ids.join("\n") !== view.seriesIds.join("\n")) {
      if (view.throughput) view.throughput.destroy();
      view.seriesIds = ids;
      view.throughput = new uPlot(
        chartOptions(view.throughputEl, "req/s", [
          { label: "all", stroke: "#1c2127", width: 2, value: rpsValue },
          ...ids.map((id, i) => ({ label: id, stroke: PALETTE[(i + 2) % PALETTE.length], width: 1.25, value: rpsValue })),
        ]),
        throughputData(view),
        view.throughputEl,
      );
    }
    if (document.hidden) return;
    view.latency.setData([h.t, h.p50, h.p95]);
    view.throughput.setData(throughputData(view));
  }

  function throughputData(view) {
    const h = view.hist;
    return [h.t, h.total, ...view.seriesIds.map((id) => h.byTarget.get(id))];
  }

  function createTarget(view, route, t) {
    const el = /** @type {HTMLElement} */ (ui.targetTemplate.content.firstElementChild.cloneNode(true));
    el.dataset.target = `${route}/${t.id}`;
    el.querySelector(".target-name").textContent = t.id;
    el.querySelector(".target-name").title = t.id;
    el.querySelector("article").setAttribute("aria-label", `Target ${t.id} of route ${route}`);
    const group = el.querySelector(".actions");
    group.setAttribute("aria-label", `Actions on ${t.id}`);
    const tv = { el, f: fields(el), breaker: null, keyState: null };
    for (const button of el.querySelectorAll("button[data-action]")) {
      const action = button.dataset.action;
      button.setAttribute("aria-label", `${ACTION_WORDS[action]} ${t.id}`);
      button.addEventListener("click", () => act(route, t.id, action, tv, button));
    }
    view.list.append(el);
    return tv;
  }

  function updateTarget(tv, t) {
    const f = tv.f;
    tv.el.dataset.health = t.health;
    tv.breaker = t.breaker;
    tv.keyState = t.key_state;
    f.health.textContent = HEALTH_WORDS[t.health] || t.health;
    f.provider.textContent = `${t.provider} · ${t.model ?? "client's model"}`;
    const reasons = t.health_reasons.length > 0 ? t.health_reasons.join(" · ") : "taking traffic";
    f.reasons.textContent = reasons;
    f.reasons.title = reasons;
    f.inflight.textContent = `${t.in_flight} / ${t.max_concurrent ?? "no limit"}`;
    f.rps.textContent = t.traffic.rps.toFixed(2);
    f.latency.textContent = latencyText(t.traffic);
    f.errors.textContent = percent(t.traffic.error_rate);
    f.cost.textContent = usd(t.cost_today_usd);
    f.key.textContent = t.key ?? "none";
    f.keystate.title = t.key_state.detail || t.key_state.reason || "";
  }

  /** Breaker and bench countdowns, on the server's clock (four times a second). */
  function countdowns() {
    const now = serverNow();
    for (const view of routes.values()) {
      for (const tv of view.targets.values()) {
        const b = tv.breaker;
        if (!b) continue;
        let text = b.state.replace("_", " ");
        if (b.state === "open" && b.open_until !== null) text += ` · trial in ${seconds(b.open_until - now)}`;
        else if (b.state === "forced_open") text += " · until reset";
        else if (b.openings > 0) text += ` · opened ${b.openings}×`;
        tv.f.breaker.textContent = text;
        const k = tv.keyState;
        let keyText = k.state;
        if (k.state === "disabled" && k.reason) keyText += ` (${k.reason})`;
        if (k.state === "benched" && k.until !== null) keyText += ` · ${seconds(k.until - now)}`;
        tv.f.keystate.textContent = keyText;
      }
    }
  }

  // ---------------------------------------------------------------- feed of changes

  function addChange(c) {
    ui.feed.prepend(feedItem(c));
    while (ui.feed.childElementCount > FEED_MAX) ui.feed.lastElementChild.remove();
  }

  function feedItem(c) {
    const li = document.createElement("li");
    const time = document.createElement("time");
    time.dateTime = new Date(c.at).toISOString();
    time.textContent = new Date(c.at).toLocaleTimeString([], { hour12: false });
    li.append(time);
    if (c.kind === "policy") {
      const to = document.createElement("span");
      to.dataset.to = c.to;
      to.textContent = c.to.replace("_", " ");
      const from = c.from ? `${c.from.replace("_", " ")} → ` : "";
      li.append(`${c.route}/${c.target} ${c.policy}: ${from}`, to, c.reason ? ` (${c.reason})` : "");
    } else if (c.kind === "config_refused") {
      const refused = document.createElement("span");
      refused.dataset.to = "open";
      refused.textContent = "refused";
      li.append(`config (${c.trigger}) `, refused, `: v${c.version} stays; ${c.errors.join("; ")}`);
    } else {
      const parts = [];
      if (c.added.length) parts.push(`added ${c.added.join(", ")}`);
      if (c.removed.length) parts.push(`removed ${c.removed.join(", ")}`);
      if (c.replaced.length) parts.push(`replaced ${c.replaced.join(", ")}`);
      if (c.updated.length) parts.push(`updated ${c.updated.join(", ")}`);
      if (c.routes_added.length) parts.push(`routes added ${c.routes_added.join(", ")}`);
      if (c.routes_removed.length) parts.push(`routes removed ${c.routes_removed.join(", ")}`);
      li.append(`config v${c.version}: ${parts.length ? parts.join("; ") : "no target changed"}`);
    }
    return li;
  }

  // ---------------------------------------------------------------- actions

  async function act(route, target, action, tv, button) {
    const answer = tv.f.answer;
    const word = ACTION_WORDS[action];
    button.setAttribute("aria-busy", "true");
    answer.dataset.kind = "busy";
    answer.textContent = `${word}…`;
    try {
      const url = `/admin/routes/${encodeURIComponent(route)}/targets/${encodeURIComponent(target)}/${action}`;
      const res = await fetch(url, { method: "POST", headers: authHeaders(), cache: "no-store" });
      const text = await res.text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: the text is shown as it is.
      }
      if (res.ok) {
        answer.dataset.kind = "ok";
        const excluded = body && Array.isArray(body.excluded_by) ? body.excluded_by : [];
        answer.textContent = `${word}: done · ${excluded.length ? `out (${excluded.join(", ")})` : "eligible"}`;
      } else {
        answer.dataset.kind = "error";
        answer.textContent = `${word} failed: ${(body && body.error && body.error.message) || text || `HTTP ${res.status}`}`;
        if (res.status === 401) setConn("auth", "Token refused: type the admin token");
      }
    } catch (err) {
      answer.dataset.kind = "error";
      answer.textContent = `${word} failed: ${err instanceof Error ? err.message : "network error"}`;
    } finally {
      answer.title = answer.textContent;
      button.removeAttribute("aria-busy");
    }
  }

  // ---------------------------------------------------------------- charts and formats

  function chartOptions(el, unit, series) {
    return {
      width: Math.max(200, el.clientWidth),
      height: PLOT_HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      // Whole-second ticks: the points are a second apart.
      axes: [
        { stroke: "#57606a", incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900] },
        { stroke: "#57606a", size: 56, label: unit, labelSize: 14 },
      ],
      series: [
        { label: "time", value: (_u, v) => (v == null ? "–" : new Date(v * 1000).toLocaleTimeString([], { hour12: false })) },
        ...series,
      ],
    };
  }

  function msValue(_u, v) {
    return v == null ? "–" : `${Math.round(v)} ms`;
  }
  function rpsValue(_u, v) {
    return v == null ? "–" : v.toFixed(2);
  }
  function latencyText(tr) {
    return tr.p50_ms === null ? "– / – ms" : `${tr.p50_ms} / ${tr.p95_ms} ms`;
  }
  function percent(rate) {
    return rate === null ? "–" : `${(rate * 100).toFixed(1)}%`;
  }
  const usdFormat = new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 4,
    maximumFractionDigits: 4,
  });
  function usd(n) {
    return usdFormat.format(n);
  }
  function seconds(ms) {
    return `${Math.max(0, Math.ceil(ms / 1000))} s`;
  }
  function duration(s) {
    if (s < 120) return `${s} s`;
    if (s < 7200) return `${Math.floor(s / 60)} min`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function resizeCharts() {
    for (const view of routes.values()) {
      view.latency.setSize({ width: Math.max(200, view.latencyEl.clientWidth), height: PLOT_HEIGHT });
      view.throughput?.setSize({ width: Math.max(200, view.throughputEl.clientWidth), height: PLOT_HEIGHT });
    }
  }

  // ---------------------------------------------------------------- start

  // The token is never written back into the page: the field only says one is kept.
  const tokenHint = () => (ui.tokenInput.placeholder = token ? "a token is kept for this tab" : "only if the gateway has one");
  tokenHint();
  ui.tokenForm.addEventListener("submit", (e) => {
    e.preventDefault();
    // An empty field keeps the token there is (Forget drops it) and just connects again.
    const typed = ui.tokenInput.value.trim();
    if (typed) {
      token = typed;
      sessionStorage.setItem(TOKEN_KEY, token);
    }
    ui.tokenInput.value = "";
    tokenHint();
    retryMs = 1_000;
    void connect();
  });
  ui.tokenForget.addEventListener("click", () => {
    token = "";
    ui.tokenInput.value = "";
    sessionStorage.removeItem(TOKEN_KEY);
    tokenHint();
    retryMs = 1_000;
    void connect();
  });
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(resizeCharts, 150);
  });
  window.setInterval(countdowns, 250);
  void connect();
})();
