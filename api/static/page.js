// The player page: reads the public /v1 routes and draws each summary with Observable Plot.
"use strict";
(() => {
  const app = document.getElementById("app");
  if (!app) return;
  // This script runs before the charting library (deferred scripts run in order): it asks for
  // the data first, and draws once the library has run (before DOMContentLoaded).
  const libraries = new Promise((resolve) => {
    // readyState is already "interactive" while deferred scripts run: test for the library
    if (typeof Plot !== "undefined") resolve();
    else document.addEventListener("DOMContentLoaded", resolve, { once: true });
  });
  const user = app.dataset.username;
  const base = `/v1/players/${encodeURIComponent(user)}`;
  const TIME_CLASSES = ["all", "bullet", "blitz", "rapid", "daily"];
  const COLORS = ["all", "white", "black"];
  const GREY = "#c4c4c4";
  const GOOD = "#2b7bb9";
  const BAD = "#d4533b";
  const url = new URL(location.href);
  const state = {
    time_class: TIME_CLASSES.includes(url.searchParams.get("time_class"))
      ? url.searchParams.get("time_class") : "all",
    color: COLORS.includes(url.searchParams.get("color")) ? url.searchParams.get("color") : "all",
  };
  let firstChart = false;

  // -- helpers -----------------------------------------------------------------------------------
  const cache = new Map();
  function getJSON(path) {
    if (!cache.has(path)) {
      cache.set(path, fetch(path).then(async (r) => {
        if (!r.ok) {
          let detail = `${r.status}`;
          try { detail = (await r.json()).detail || detail; } catch (_) { /* not JSON */ }
          throw new Error(detail);
        }
        return r.json();
      }));
    }
    return cache.get(path);
  }
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }
  const low = (d) => d.low_sample === true || d.low_sample === 1;
  const num = (v, digits = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
  const signed = (v, digits = 2) =>
    v === null || v === undefined ? "–" : (v > 0 ? "+" : v < 0 ? "−" : "") + Math.abs(v).toFixed(digits);
  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(0)} %`);
  const int = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en"));
  const sum = (rows, key) => rows.reduce((s, r) => s + (Number(r[key]) || 0), 0);
  const tone = (d, v) => (low(d) ? GREY : v >= 0 ? GOOD : BAD);
  const label = (s) => String(s).replaceAll("_", " ");
  const colorName = { white: "White", black: "Black", all: "both colours" };
  // the residual's interval: the score's interval moved by the expectation (transforms/focus.py)
  const resLow = (d) => (d.residual == null || d.score_low == null ? null : d.residual + d.score_low - d.score);
  const resHigh = (d) => (d.residual == null || d.score_high == null ? null : d.residual + d.score_high - d.score);
  // the figure's inner width, read once per drawing (a phone gets a narrow chart, not a scroll)
  let chartWidth = 560;
  const width = () => chartWidth;

  // How each chart reads the filters: `filter` passes the value (`all` = the roll-up row),
  // `narrow` passes it only when it is not `all` (the chart breaks down by that dimension),
  // `fixed` means the summary has no such breakdown (the filter does not apply).
  function query(chart) {
    const q = new URLSearchParams();
    for (const dim of ["time_class", "color"]) {
      const mode = chart[dim];
      if (mode === "filter") q.set(dim, state[dim]);
      else if (mode === "narrow" && state[dim] !== "all") q.set(dim, state[dim]);
      else if (mode === "fixed") q.set(dim, "all");
    }
    const s = q.toString();
    return `${base}/summaries/${chart.summary}${s ? `?${s}` : ""}`;
  }

  // -- the charts --------------------------------------------------------------------------------
  const CHARTS = [
    {
      id: "rating_history", summary: "rating_history", title: "Rating history",
      time_class: "narrow", color: "fixed",
      rows: (rows) => rows.filter((d) => d.time_class !== "all" && d.rating_close != null),
      n: (rows) => `${int(sum(rows, "games"))} rated games on ${int(rows.length)} days`,
      plot: (rows) => Plot.plot({
        width: width(), height: 260, marginLeft: 48,
        x: { type: "utc", label: null }, y: { label: "rating", grid: true },
        color: { legend: true, domain: ["bullet", "blitz", "rapid", "daily"] },
        marks: [
          Plot.lineY(rows, {
            x: (d) => new Date(d.day), y: "rating_close", stroke: "time_class", z: "time_class",
            curve: "step-after", className: "marks",
          }),
          // a few days: dots too, or a time class played on one day would not show at all
          rows.length < 100 ? Plot.dot(rows, { x: (d) => new Date(d.day), y: "rating_close", fill: "time_class", r: 3 }) : null,
        ],
      }),
      columns: ["day", "time_class", "games", "rating_close", "rating_min", "rating_max"],
    },
    {
      id: "results", summary: "results", title: "Results by colour and time class",
      time_class: "narrow", color: "narrow",
      lead: "Residual: score minus what the ratings predict, with its 95 % interval.",
      rows: (rows) => rows.filter((d) => d.residual != null)
        .map((d) => ({ ...d, label: `${d.time_class} · ${d.color}` })),
      n: (rows) => `n = games per row, ${int(sum(rows.filter((d) => d.time_class !== "all" && d.color !== "all"), "games"))} games in the cells`,
      plot: (rows) => Plot.plot({
        width: width(), height: 40 + 24 * rows.length, marginLeft: 110,
        x: { label: "residual (score − expected)", grid: true },
        y: { label: null, domain: rows.map((d) => d.label) },
        marks: [
          Plot.ruleX([0]),
          Plot.ruleY(rows, { y: "label", x1: resLow, x2: resHigh, stroke: (d) => tone(d, d.residual) }),
          Plot.dot(rows, {
            x: "residual", y: "label", fill: (d) => tone(d, d.residual), r: 5, className: "marks",
            title: (d) => `${d.label}: ${d.games} games, score ${num(d.score)}, expected ${num(d.expected_score)}, residual ${signed(d.residual)}`,
          }),
        ],
      }),
      columns: ["time_class", "color", "games", "wins", "draws", "losses", "score", "expected_score", "residual", "performance_fide"],
    },
    {
      id: "openings", summary: "openings", title: "Openings: residual per family",
      time_class: "filter", color: "filter",
      lead: "Dot size: games. Click a dot for a recent game on chess.com.",
      rows: (rows) => rows
        .filter((d) => d.eco === "all" && d.opening_variation === "all" && d.opening_family !== "all" && d.residual != null)
        .sort((a, b) => b.games - a.games || (a.opening_family < b.opening_family ? -1 : 1))
        .slice(0, 20),
      n: (rows) => `${int(sum(rows, "games"))} games in the ${rows.length} most played families`,
      plot: (rows) => Plot.plot({
        width: width(), height: 40 + 26 * rows.length, marginLeft: 190,
        x: { label: "residual (score − expected)", grid: true },
        y: { label: null, domain: rows.map((d) => d.opening_family) },
        r: { range: [3, 14] },
        marks: [
          Plot.ruleX([0]),
          Plot.dot(rows, {
            x: "residual", y: "opening_family", r: "games", fill: (d) => tone(d, d.residual),
            fillOpacity: 0.8, className: "marks",
            href: (d) => (d.example_urls || "").split(" ")[0] || null, target: "_blank",
            title: (d) => `${d.opening_family}: ${d.games} games, score ${num(d.score)}, residual ${signed(d.residual)}`,
          }),
        ],
      }),
      columns: ["opening_family", "games", "wins", "draws", "losses", "score", "residual"],
    },
    {
      id: "opening_tree", summary: "opening_tree", title: "Repertoire: where I leave my main line",
      time_class: "fixed", color: "narrow",
      lead: "Games that leave my main line with this move (first 12 plies).",
      rows: (rows) => rows
        .filter((d) => d.color !== "all" && d.left_main_line_here > 0)
        .sort((a, b) => b.left_main_line_here - a.left_main_line_here || (a.path < b.path ? -1 : 1))
        .slice(0, 15)
        .map((d) => ({ ...d, label: `${d.color === "white" ? "W" : "B"}: ${d.path}` })),
      n: (rows) => `${int(sum(rows, "left_main_line_here"))} games leave the main line at these ${rows.length} moves`,
      plot: (rows) => Plot.plot({
        width: width(), height: 40 + 24 * rows.length, marginLeft: Math.min(360, width() * 0.55),
        x: { label: "games leaving here", grid: true },
        y: { label: null, domain: rows.map((d) => d.label), tickFormat: (s) => (s.length > 48 ? `…${s.slice(-47)}` : s) },
        marks: [Plot.barX(rows, {
          x: "left_main_line_here", y: "label", fill: (d) => (low(d) ? GREY : GOOD), className: "marks",
          title: (d) => `${d.path}: ${d.left_main_line_here} games leave here; score ${num(d.score)} over ${d.games}`,
        })],
      }),
      columns: ["color", "ply", "path", "games", "left_main_line_here", "score"],
    },
    {
      id: "time_of_day", summary: "time_of_day", title: "Time of day × weekday",
      time_class: "filter", color: "fixed",
      lead: "Residual by start hour and weekday in the player's time zone; `all` row and column are the totals.",
      rows: (rows) => rows.filter((d) => d.zone === "local" && !(d.weekday === "all" && d.hour === "all")),
      n: (rows) => `${int(sum(rows.filter((d) => d.weekday === "all"), "games"))} live games`,
      plot: (rows) => {
        const lim = Math.max(0.05, ...rows.filter((d) => !low(d)).map((d) => Math.abs(d.residual || 0)));
        return Plot.plot({
          width: width(), height: 260, marginLeft: 40, padding: 0.05,
          x: { label: `hour (${rows[0] ? rows[0].timezone : ""})`, domain: [...Array(24).keys()].map((h) => String(h).padStart(2, "0")).concat("all") },
          y: { label: null, domain: ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "all"] },
          color: { type: "diverging", scheme: "RdBu", domain: [-lim, lim], legend: true, label: "residual" },
          // two marks: a diverging scale cannot also hold the grey of the low-sample cells
          marks: [true, false].map((grey) => Plot.cell(rows.filter((d) => (low(d) || d.residual == null) === grey), {
            x: "hour", y: "weekday", fill: grey ? GREY : "residual", className: "marks",
            title: (d) => `${d.weekday} ${d.hour}: ${d.games} games, score ${num(d.score)}, residual ${signed(d.residual)}`,
          })),
        });
      },
      columns: ["weekday", "hour", "games", "score", "residual"],
    },
    {
      id: "opponent_strength", summary: "opponent_strength", title: "Against stronger and weaker opponents",
      time_class: "filter", color: "filter",
      lead: "Score (dots, with interval) and what the ratings predict (line), by opponent − me rating difference.",
      rows: (rows) => rows.filter((d) => d.scheme === "bin50" && d.score != null).sort((a, b) => a.bucket_order - b.bucket_order),
      n: (rows) => `${int(sum(rows, "games"))} games with both ratings`,
      plot: (rows) => Plot.plot({
        width: width(), height: 260, marginLeft: 44, marginBottom: 50,
        x: { label: "opponent − me", domain: rows.map((d) => d.bucket), tickRotate: -40 },
        y: { label: "score", domain: [0, 1], grid: true },
        marks: [
          Plot.lineY(rows, { x: "bucket", y: "expected_score", stroke: "#888", strokeDasharray: "4 3" }),
          Plot.ruleX(rows, { x: "bucket", y1: "score_low", y2: "score_high", stroke: (d) => (low(d) ? GREY : GOOD) }),
          Plot.dot(rows, {
            x: "bucket", y: "score", fill: (d) => (low(d) ? GREY : GOOD), r: 4, className: "marks",
            title: (d) => `${d.bucket}: ${d.games} games, score ${num(d.score)}, expected ${num(d.expected_score)}`,
          }),
        ],
      }),
      columns: ["bucket", "games", "score", "score_low", "score_high", "expected_score"],
    },
    {
      id: "terminations", summary: "terminations", title: "How my games end",
      time_class: "filter", color: "filter",
      rows: (rows) => rows.filter((d) => d.opening_family === "all" && d.games > 0),
      n: (rows) => `${int(rows.length ? rows[0].group_games : 0)} games`,
      plot: (rows) => Plot.plot({
        width: width(), height: 240, marginLeft: 50,
        x: { label: null, domain: ["win", "draw", "loss"] }, y: { label: "games", grid: true },
        color: { legend: true, scheme: "tableau10" },
        marks: [Plot.barY(rows, {
          x: "result", y: "games", fill: "termination", className: "marks", fillOpacity: (d) => (low(d) ? 0.35 : 1),
          title: (d) => `${d.result} by ${d.termination}: ${d.games} games (${pct(d.share)})`,
        })],
      }),
      columns: ["result", "termination", "games", "share"],
    },
    {
      id: "tilt", summary: "tilt", title: "Tilt: the next game in the same session",
      time_class: "filter", color: "filter",
      lead: "Score of the next game after a result, a losing streak, or a pause; the tick is what the ratings predict.",
      rows: (rows) => {
        const order = { result: 0, loss_streak: 1, minutes_since_last: 2 };
        return rows.filter((d) => d.kind in order && d.score != null)
          .sort((a, b) => order[a.kind] - order[b.kind] || (a.after < b.after ? -1 : 1))
          .map((d) => ({ ...d, label: `${{ result: "after a", loss_streak: "losses in a row:", minutes_since_last: "minutes since last:" }[d.kind]} ${d.after}` }));
      },
      n: (rows) => `${int(sum(rows.filter((d) => d.kind === "result"), "games"))} next games`,
      plot: (rows) => Plot.plot({
        width: width(), height: 40 + 24 * rows.length, marginLeft: 170,
        x: { label: "score", domain: [0, 1], grid: true }, y: { label: null, domain: rows.map((d) => d.label) },
        marks: [
          Plot.ruleY(rows, { y: "label", x1: "score_low", x2: "score_high", stroke: (d) => (low(d) ? GREY : GOOD) }),
          Plot.tickX(rows, { x: "expected_score", y: "label", stroke: "#555" }),
          Plot.dot(rows, {
            x: "score", y: "label", r: 5, fill: (d) => (low(d) ? GREY : GOOD), className: "marks",
            title: (d) => `${d.label}: ${d.games} games, score ${num(d.score)}, residual ${signed(d.residual)}`,
          }),
        ],
      }),
      columns: ["kind", "after", "games", "score", "score_low", "score_high", "expected_score", "residual"],
    },
    {
      id: "time_management", summary: "time_management", title: "Time management: clock left per phase",
      time_class: "filter", color: "filter",
      lead: "Share of my moves by clock left (mean over games), per phase.",
      rows: (rows) => rows.filter((d) => d.phase !== "all"),
      marks: (rows) => {
        const buckets = [["share_clock_ge_50", "≥ 50 %"], ["share_clock_25_50", "25–50 %"], ["share_clock_10_25", "10–25 %"], ["share_clock_3_10", "3–10 %"], ["share_clock_le_3", "≤ 3 %"]];
        return rows.flatMap((d) => buckets.filter(([k]) => d[k] != null).map(([k, name]) => ({ ...d, bucket: name, value: d[k] })));
      },
      n: (rows) => `${int(sum(rows, "clock_games"))} game-phases with a clock`,
      extra: (rows, all) => {
        const t = all.find((d) => d.phase === "all");
        if (!t) return null;
        return `Instant moves (< 1 s): ${pct(t.instant_share)} [${pct(t.instant_share_low)}, ${pct(t.instant_share_high)}] over ${int(t.timed_games)} games. Losses on time: ${int(t.timeout_losses)}, of which ${int(t.timeout_losses_ahead)} a piece or more up.`;
      },
      plot: (rows, marks) => Plot.plot({
        width: width(), height: 170, marginLeft: 90,
        x: { label: "share of moves", percent: true }, y: { label: null, domain: ["opening", "middlegame", "endgame"] },
        color: { legend: true, domain: ["≥ 50 %", "25–50 %", "10–25 %", "3–10 %", "≤ 3 %"], range: ["#2b7bb9", "#7fb3d5", "#f6d55c", "#ed8c3b", "#d4533b"] },
        marks: [Plot.barX(marks, {
          x: "value", y: "phase", fill: "bucket", className: "marks", fillOpacity: (d) => (low(d) ? 0.35 : 1),
          title: (d) => `${d.phase}, ${d.bucket} of the clock: ${pct(d.value)} of moves`,
        })],
      }),
      columns: ["phase", "games", "mean_time_per_move", "instant_share", "share_clock_le_3", "timeout_losses", "timeout_losses_ahead"],
    },
    {
      id: "sessions", summary: "sessions", title: "Sessions: score by game in a session",
      time_class: "filter", color: "filter",
      rows: (rows) => rows.filter((d) => d.game_index !== "all" && d.score != null)
        .sort((a, b) => parseInt(a.game_index, 10) - parseInt(b.game_index, 10)),
      n: (rows) => `${int(rows.length ? rows[0].sessions : 0)} sessions`,
      extra: (rows, all) => {
        const t = all.find((d) => d.game_index === "all");
        return t ? `${num(t.mean_games_per_session, 1)} games per session; longest win streak ${int(t.longest_win_streak)}, loss streak ${int(t.longest_loss_streak)}; current: ${int(t.current_streak)} × ${t.current_streak_result || "–"}.` : null;
      },
      plot: (rows) => Plot.plot({
        width: width(), height: 240, marginLeft: 44,
        x: { label: "game in the session", domain: rows.map((d) => d.game_index) },
        y: { label: "score", domain: [0, 1], grid: true },
        marks: [
          Plot.ruleX(rows, { x: "game_index", y1: "score_low", y2: "score_high", stroke: (d) => (low(d) ? GREY : GOOD) }),
          Plot.tickY(rows, { x: "game_index", y: "expected_score", stroke: "#555" }),
          Plot.dot(rows, { x: "game_index", y: "score", r: 5, fill: (d) => (low(d) ? GREY : GOOD), className: "marks", title: (d) => `game ${d.game_index}: ${d.games} games, score ${num(d.score)}` }),
        ],
      }),
      columns: ["game_index", "sessions", "games", "score", "expected_score", "residual"],
    },
    {
      id: "castling", summary: "castling", title: "Castling",
      time_class: "filter", color: "filter",
      rows: (rows) => rows.filter((d) => d.opponent_castling === "all" && d.my_castling !== "all" && d.share != null),
      n: (rows) => `${int(rows.length ? rows[0].group_games : 0)} games`,
      plot: (rows) => Plot.plot({
        width: width(), height: 150, marginLeft: 90,
        x: { label: "share of games", percent: true, grid: true }, y: { label: null, domain: ["kingside", "queenside", "none"] },
        marks: [
          Plot.barX(rows, { x: "share", y: "my_castling", fill: (d) => (low(d) ? GREY : GOOD), className: "marks", title: (d) => `${d.my_castling}: ${d.games} games, score ${num(d.score)}` }),
          Plot.text(rows, { x: "share", y: "my_castling", text: (d) => `score ${num(d.score)}`, dx: 6, textAnchor: "start" }),
        ],
      }),
      columns: ["my_castling", "games", "share", "score", "mean_castle_move"],
    },
    {
      id: "material", summary: "material", title: "Converting and defending",
      time_class: "filter", color: "filter",
      lead: "Conversion: won when a piece up for 4 plies; resourcefulness: not lost when a piece down; queen trades: share of games.",
      rows: (rows) => rows.filter((d) => d.rate != null).map((d) => ({ ...d, label: label(d.situation) })),
      n: (rows) => rows.map((d) => `${label(d.situation)} n=${int(d.rate_n)}`).join(", "),
      plot: (rows) => Plot.plot({
        width: width(), height: 40 + 30 * rows.length, marginLeft: 210,
        x: { label: "rate", domain: [0, 100], percent: true, grid: true }, y: { label: null, domain: rows.map((d) => d.label) },
        marks: [
          Plot.ruleY(rows, { y: "label", x1: "rate_low", x2: "rate_high", stroke: (d) => (low(d) ? GREY : GOOD) }),
          Plot.dot(rows, { x: "rate", y: "label", r: 5, fill: (d) => (low(d) ? GREY : GOOD), className: "marks", title: (d) => `${d.label}: ${pct(d.rate)} of ${d.rate_n}` }),
        ],
      }),
      columns: ["situation", "games", "rate_n", "rate", "rate_low", "rate_high", "score"],
    },
    {
      id: "accuracy", summary: "accuracy", title: "Accuracy trend (Chess.com, reviewed games)",
      time_class: "filter", color: "fixed",
      rows: (rows) => rows.filter((d) => d.month !== "all" && d.result === "all" && d.mean_accuracy != null).sort((a, b) => (a.month < b.month ? -1 : 1)),
      n: (rows) => `${int(sum(rows, "reviewed_games"))} reviewed games of ${int(sum(rows, "games"))}`,
      plot: (rows) => Plot.plot({
        width: width(), height: 220, marginLeft: 44,
        x: { type: "utc", label: null }, y: { label: "mean accuracy", grid: true },
        marks: [
          Plot.lineY(rows, { x: (d) => new Date(`${d.month}-01`), y: "mean_accuracy", stroke: "#bbb" }),
          Plot.dot(rows, { x: (d) => new Date(`${d.month}-01`), y: "mean_accuracy", r: 3, fill: (d) => (low(d) ? GREY : GOOD), className: "marks", title: (d) => `${d.month}: ${num(d.mean_accuracy, 1)} over ${d.reviewed_games} reviewed` }),
        ],
      }),
      columns: ["month", "games", "reviewed_games", "mean_accuracy", "median_accuracy"],
    },
  ];

  // -- layout ------------------------------------------------------------------------------------
  const header = el("header", { class: "head" }, el("h1", { text: user }), el("p", { class: "meta", id: "meta", text: "Loading…" }));
  const ratings = el("dl", { class: "ratings", id: "ratings" });
  const focus = el("section", { class: "focus", id: "focus", "aria-labelledby": "focus-h" },
    el("h2", { id: "focus-h", text: "What to work on" }), el("p", { class: "muted", text: "Loading…" }));
  const filters = el("form", { class: "filters", id: "filters", "aria-label": "Filters" });
  for (const [dim, values, name] of [["time_class", TIME_CLASSES, "Time class"], ["color", COLORS, "Colour"]]) {
    const set = el("fieldset", {}, el("legend", { text: name }));
    for (const v of values) {
      const id = `f-${dim}-${v}`;
      set.append(el("input", { type: "radio", name: dim, id, value: v, checked: state[dim] === v }),
        el("label", { for: id, text: v }));
    }
    filters.append(set);
  }
  filters.addEventListener("change", (e) => {
    state[e.target.name] = e.target.value;
    const u = new URL(location.href);
    u.searchParams.set(e.target.name, e.target.value);
    history.replaceState(null, "", u);
    drawAll();
  });
  const grid = el("div", { class: "charts" });
  const figures = new Map();
  for (const chart of CHARTS) {
    const fig = el("figure", { class: "chart", id: `chart-${chart.id}`, "data-summary": chart.summary, "aria-busy": "true" });
    figures.set(chart.id, fig);
    grid.append(fig);
  }
  const engine = el("div", { class: "charts", id: "engine" });
  app.append(header, ratings, focus, filters, grid, engine);

  // -- drawing -----------------------------------------------------------------------------------
  function table(columns, rows) {
    const t = el("table", {}, el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: label(c) })))));
    const body = el("tbody");
    for (const r of rows) {
      body.append(el("tr", { class: low(r) ? "low" : null }, ...columns.map((c) => {
        const v = r[c];
        return el("td", { text: typeof v === "number" && !Number.isInteger(v) ? num(v, 3) : v === null || v === undefined ? "–" : String(v) });
      })));
    }
    t.append(body);
    return t;
  }

  function frame(chart, body, shown, fig) {
    const defId = `def-${chart.id}`;
    const tableId = `table-${chart.id}`;
    const toggle = el("button", { type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": tableId, text: "Show table" });
    const wrap = el("div", { class: "table-wrap", id: tableId, hidden: true }, table(chart.columns, shown));
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Hide table" : "Show table";
      wrap.hidden = !open;
    });
    const notes = [];
    if (chart.time_class === "fixed" && state.time_class !== "all") notes.push("time classes pooled here");
    if (chart.color === "fixed" && state.color !== "all") notes.push("colours pooled here");
    fig.replaceChildren(
      el("figcaption", {}, el("h2", { text: chart.title }),
        chart.lead ? el("p", { class: "lead", text: chart.lead }) : null,
        el("p", { class: "n" }, el("span", { class: "sample", text: chart.n(shown) }),
          notes.length ? el("span", { class: "muted", text: ` · ${notes.join(", ")}` }) : null,
          shown.some(low) ? el("span", { class: "muted", text: " · grey: fewer than 10 games" }) : null)),
    );
    return { toggle, wrap, defId };
  }

  function definition(chart, body) {
    return el("details", { class: "def" },
      el("summary", { text: `Definition: ${chart.summary} v${body.version}` }),
      el("p", { text: body.definition }),
      el("p", {}, el("a", { href: query(chart), text: "the numbers (JSON)" })));
  }

  async function draw(chart, generation) {
    const fig = figures.get(chart.id);
    fig.setAttribute("aria-busy", "true");
    let body;
    try {
      const data = getJSON(query(chart));
      await libraries;
      body = await data;
    } catch (error) {
      if (generation !== drawn) return;
      fig.replaceChildren(el("figcaption", {}, el("h2", { text: chart.title })), el("p", { class: "muted", text: `Not available: ${error.message}` }));
      fig.setAttribute("aria-busy", "false");
      return;
    }
    if (generation !== drawn) return; // a newer filter choice is being drawn
    const shown = chart.rows(body.rows);
    const { toggle, wrap } = frame(chart, body, shown, fig);
    const marks = chart.marks ? chart.marks(shown) : shown;
    chartWidth = Math.max(260, Math.floor(fig.clientWidth - 30));
    let svg;
    if (shown.length) {
      try {
        svg = chart.plot(shown, marks);
      } catch (error) {
        console.error(`chart ${chart.id}: ${error}`);
        svg = el("p", { class: "empty", text: `This chart could not be drawn: ${error.message}` });
      }
      if (svg.tagName !== "P") {
        svg.setAttribute("role", "img");
        svg.setAttribute("aria-label", `${chart.title}: ${chart.n(shown)}`);
      }
    } else {
      svg = el("p", { class: "empty", text: "Nothing to draw for this selection (no rows with these numbers)." });
    }
    const extra = chart.extra ? chart.extra(shown, body.rows) : null;
    const parts = [el("div", { class: "plot" }, svg)];
    if (extra) parts.push(el("p", { class: "extra", text: extra }));
    fig.append(...parts, el("div", { class: "tools" }, toggle, definition(chart, body)), wrap);
    fig.dataset.rows = String(shown.length);
    fig.setAttribute("aria-busy", "false");
    if (!firstChart && shown.length) {
      firstChart = true;
      performance.mark("first-chart");
    }
  }

  let drawn = 0;
  function drawAll() {
    drawn += 1;
    const generation = drawn;
    app.dataset.drawn = "false";
    Promise.all(CHARTS.map((c) => draw(c, generation))).then(() => {
      if (generation === drawn) {
        app.dataset.drawn = "true";
        performance.mark("all-charts");
      }
    });
  }

  function drawHeader(profile, overview) {
    const when = new Date(profile.published_at);
    document.getElementById("meta").textContent =
      `${int(profile.game_count)} games analysed · snapshot of ${when.toISOString().slice(0, 16).replace("T", " ")} UTC`;
    const rows = overview.rows.filter((d) => d.time_class !== "all" && d.color === "all" && d.games > 0);
    ratings.replaceChildren(...rows.flatMap((d) => [
      el("div", { class: "rating" }, el("dt", { text: d.time_class }),
        el("dd", {}, el("strong", { text: int(d.current_rating) }), el("span", { class: "muted", text: ` peak ${int(d.peak_rating)} · ${int(d.games)} games` }))),
    ]));
  }

  function drawFocus(body) {
    const list = el("ol", { class: "focus-list" });
    for (const item of body.items) {
      list.append(el("li", { class: item.low_sample ? "low" : null }, el("p", { text: item.text }),
        el("p", { class: "links" },
          el("a", { href: item.chart_href, text: "see the chart" }), " · ",
          el("a", { href: item.games_href, text: `the ${item.games.toLocaleString("en")} games` }))));
    }
    focus.replaceChildren(el("h2", { id: "focus-h", text: "What to work on" }),
      body.items.length ? list : el("p", { text: "No time class and colour scores below what the ratings predict." }),
      el("details", { class: "def" }, el("summary", { text: `How this is chosen (v${body.version})` }), el("p", { text: body.definition })));
  }

  function drawEngine(profile) {
    const names = profile.summaries.filter((s) => s.name.startsWith("engine_"));
    for (const s of names) {
      // A table, not a chart: "engine" keeps it out of the mark counts of the charts.
      const fig = el("figure", { class: "chart engine", id: `chart-${s.name}` });
      engine.append(fig);
      getJSON(s.href).then((body) => {
        const cols = body.columns.filter((c) => c.role !== "key").map((c) => c.name);
        fig.replaceChildren(el("figcaption", {}, el("h2", { text: body.title }), el("p", { class: "n", text: `${body.rows.length} rows` })),
          el("div", { class: "table-wrap" }, table(cols, body.rows.slice(0, 50))),
          el("div", { class: "tools" }, el("details", { class: "def" }, el("summary", { text: `Definition: ${s.name} v${body.version}` }), el("p", { text: body.definition }))));
      });
    }
  }

  drawAll();
  Promise.all([getJSON(base), getJSON(`${base}/summaries/overview?color=all`), libraries])
    .then(([profile, overview]) => { drawHeader(profile, overview); drawEngine(profile); })
    .catch((e) => { document.getElementById("meta").textContent = `Not available: ${e.message}`; });
  getJSON(`${base}/focus`).then(drawFocus)
    .catch((e) => focus.replaceChildren(el("h2", { id: "focus-h", text: "What to work on" }), el("p", { class: "muted", text: `Not available: ${e.message}` })));
})();
