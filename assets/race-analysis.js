/*
 * Optimizer Race: the fair-race views (rate sweep with auto-tune, many starts), drawn in the
 * browser from one store each, and the leaderboard's note after an auto-tune.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var FLOOR = 1e-30;
  // Basins: distinguishable on a projector; the first is the lowest basin found.
  var BASIN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                      "#8C564B", "#000000", "#BCBD22", "#17BECF", "#F0E442"];

  // The race charts' layout, with room above for a legend.
  function layoutFor(extra) {
    var size = R.layoutSize();
    var layout = R.baseLayout({
      margin: {l: size["margin.l"] + 10, r: 16, t: 30, b: size["margin.b"] + 4},
      showlegend: true,
      legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom"},
    });
    for (var k in extra) layout[k] = extra[k];
    return layout;
  }

  function gapOf(value, fStar) {
    if (value === null || value === undefined) return null;
    return fStar === null ? value : Math.max(value - fStar, FLOOR);
  }

  // What the sweep varies: the learning rate, or for a racer without one (Gauss–Newton) the
  // parameter that sets its step (the registry's choice, each racer's ``parameter``).
  function sweptName(store) {
    var names = store.racers.map(function (r) { return r.parameter || "lr"; })
      .filter(function (p, i, all) { return all.indexOf(p) === i; });
    var words = {lr: "learning rate", damping: "damping λ"};
    return names.map(function (p) { return words[p] || p; }).join(" (or) ");
  }

  function sweepFigure(store) {
    var rates = store.rates, fStar = store.f_star, data = [], shapes = [];
    var positive = true, top = 0;
    store.racers.forEach(function (r) {
      r.final_loss.forEach(function (v) {
        var g = gapOf(v, fStar);
        if (g !== null) { if (g <= 0) positive = false; top = Math.max(top, Math.abs(g)); }
      });
    });
    // Diverged rates are marked with × along the top of the loss panel. The markers of all
    // racers share one trace per kind (few traces draw fast), each point in its racer's colour.
    var ceiling = positive ? Math.max(top, 1e-12) * 30 : top * 1.1 + 1;
    var marks = {
      out: {name: "diverged", symbol: "x-thin-open", size: 9, x: [], y: [], c: [], t: []},
      best: {name: "best rate", symbol: "star", size: 20, x: [], y: [], c: [], t: []},
      dip: {name: "isolated dip", symbol: "triangle-down-open", size: 16, x: [], y: [], c: [],
            t: []},
      now: {name: "current rate", symbol: "circle-open", size: 16, x: [], y: [], c: [], t: []},
    };
    function mark(kind, x, y, color, text) {
      var m = marks[kind];
      m.x.push(x); m.y.push(y); m.c.push(color); m.t.push(text);
    }
    store.racers.forEach(function (r, i) {
      var look = store.styles[i] || {color: "#444", dash: "solid"};
      var name = R.escapeHtml(r.label);
      var gaps = r.final_loss.map(function (v) { return gapOf(v, fStar); });
      data.push({
        // Lines only: a marker at each of the 48 rates would double the time Plotly takes to
        // draw the chart (hover still reads each rate off the line).
        type: "scatter", mode: "lines", name: name, legendgroup: "r" + i,
        x: rates, y: gaps, xaxis: "x", yaxis: "y",
        line: {color: look.color, width: 2.5, dash: look.dash},
        hovertemplate: name + ": lr %{x:.3g}, final %{y:.3g}<extra></extra>",
      });
      data.push({
        type: "scatter", mode: "lines", name: name + " steps", legendgroup: "r" + i,
        showlegend: false, x: rates, y: r.steps_to_tol, xaxis: "x2", yaxis: "y2",
        line: {color: look.color, width: 2, dash: look.dash},
        hovertemplate: name + ": lr %{x:.3g}, %{y} steps to tol<extra></extra>",
      });
      r.diverged_at.forEach(function (k, j) {
        if (k !== null) mark("out", rates[j], ceiling, look.color, name + ": diverged");
      });
      if (r.best) {
        mark("best", r.best.lr, gapOf(r.best.final_loss, fStar), look.color, name + ": best rate");
      }
      if (r.dip) {
        // The lowest single run, not chosen: a neighbour on the grid does badly.
        mark("dip", r.dip.lr, gapOf(r.dip.final_loss, fStar), look.color,
             name + ": isolated dip (" + dipWhy(r.dip, fStar) + ")");
      }
      var now = r.current.final_loss === null ? ceiling : gapOf(r.current.final_loss, fStar);
      mark("now", r.lr, now, look.color, name + ": current rate");
      if (r.edge_lr !== null) {
        shapes.push({type: "line", xref: "x", yref: "paper", x0: r.edge_lr, x1: r.edge_lr,
                     y0: 0, y1: 1, line: {color: look.color, width: 1.5, dash: "dot"}});
      }
    });
    ["out", "dip", "best", "now"].forEach(function (kind) {
      var m = marks[kind], open = kind !== "best";
      data.push({
        type: "scatter", mode: "markers", name: m.name, showlegend: false,
        x: m.x, y: m.y, text: m.t, xaxis: "x", yaxis: "y",
        marker: {symbol: m.symbol, size: m.size, color: m.c,
                 line: open ? {color: m.c, width: kind === "out" ? 2 : 3}
                            : {color: "black", width: 1.5}},
        hovertemplate: "%{text} %{x:.4g}<extra></extra>",
      });
    });
    var gap = fStar !== null;
    return {
      data: data,
      layout: layoutFor({
        shapes: shapes,
        xaxis: {type: "log", anchor: "y", title: {text: ""}, exponentformat: "power",
                gridcolor: "#e0e0e0", matches: "x2", showticklabels: false},
        yaxis: {type: positive ? "log" : "linear", domain: [0.4, 1], exponentformat: "power",
                title: {text: gap ? "final f − f*" : "final loss"}, gridcolor: "#e0e0e0"},
        xaxis2: {type: "log", anchor: "y2", title: {text: sweptName(store)},
                 exponentformat: "power", gridcolor: "#e0e0e0"},
        yaxis2: {domain: [0, 0.32], title: {text: "steps to tol"}, rangemode: "tozero",
                 gridcolor: "#e0e0e0"},
      }),
    };
  }

  // Why an isolated dip is not the best rate: its worst neighbour's result.
  function dipWhy(dip, fStar) {
    var n = dip.neighbour;
    return "next to " + R.fmt(n.lr) + ", which " +
      (n.final_loss === null ? "diverges" : "ends at " + R.fmt(gapOf(n.final_loss, fStar)));
  }

  function sweepTable(store) {
    var rows = store.racers.map(function (r, i) {
      var look = store.styles[i] || {color: "#444"};
      var best = r.best;
      var dip = r.dip ? "<span class=\"sweep-dip\" data-lr=\"" + r.dip.lr + "\"> ▽ " +
        R.fmt(r.dip.lr) + " alone ends lower, " + R.fmt(gapOf(r.dip.final_loss, store.f_star)) +
        ", but is an isolated dip: " + R.escapeHtml(dipWhy(r.dip, store.f_star)) + "</span>" : "";
      var swept = r.parameter && r.parameter !== "lr" ? " (swept: " + r.parameter + ")" : "";
      return "<tr data-racer=\"" + i + "\"><td>" + R.swatch(look.color) +
        R.escapeHtml(r.label + swept) + "</td>" +
        "<td data-value=\"" + r.lr + "\">" + R.fmt(r.lr) + "</td>" +
        "<td data-value=\"" + (best ? best.lr : "") + "\">" + (best ? R.fmt(best.lr) : "none") +
        dip + "</td><td>" + (best ? R.fmt(gapOf(best.final_loss, store.f_star)) : "–") + "</td>" +
        "<td>" + (best && best.steps_to_tol !== null ? best.steps_to_tol : "–") + "</td>" +
        "<td data-value=\"" + (r.edge_lr === null ? "" : r.edge_lr) + "\">" +
        (r.edge_lr === null ? "none up to " + R.fmt(store.grid.high) : R.fmt(r.edge_lr)) +
        "</td></tr>";
    });
    var rule = store.rule ? ": " + R.escapeHtml(store.rule) : "";
    return "<table class=\"sweep-table\"><caption>★ best rate by " +
      R.escapeHtml(store.criterion_text) + " (" + store.steps + " steps)" + rule +
      "; ▽ an isolated dip; ○ current rate; " +
      "dotted line: divergence edge (every larger rate diverges)</caption><thead><tr>" +
      "<th>racer</th><th>rate now</th><th>best rate</th><th>" +
      (store.f_star !== null ? "f − f*" : "loss") + " at best</th><th>steps to tol</th>" +
      "<th>diverges from</th></tr></thead><tbody>" + rows.join("") + "</tbody></table>";
  }

  // A start's group: the lowest basins one each, the rest together, the runs still moving
  // at the end and the diverged apart (neither is a basin: no ★). Few groups make few traces
  // (Plotly's cost grows with traces, and a start cloud on a bumpy surface can end in dozens
  // of places), and a legend a room can read. Basin codes: optimizers/starts.py.
  var DIVERGED_RUN = -1, MOVING_RUN = -2;
  var OTHER = {color: "#BBBBBB", symbol: "circle"};
  var DIVERGED = {color: "#777777", symbol: "x"};
  var MOVING = {color: "#444444", symbol: "diamond-open"};

  function basinLook(k) {
    if (k === MOVING_RUN) return MOVING;
    if (k < 0) return DIVERGED;
    return k < BASIN_COLORS.length ? {color: BASIN_COLORS[k], symbol: "circle"} : OTHER;
  }

  function basinName(store, k) {
    if (k === MOVING_RUN) return "still moving";
    if (k === DIVERGED_RUN || k < 0) return "diverged";
    var basin = store.basins[k];
    // A listed point is named by its kind: plain Newton's runs can rest on a maximum.
    return (basin.listed ? (basin.kind || "minimum") + " " : "ends near ") +
      "(" + R.fmt(basin.point[0]) + ", " + R.fmt(basin.point[1]) + ")";
  }

  function startsFigure(store) {
    var s = R.surface;
    var contour = Object.assign({}, R.contourTrace(s),
                                {hovertemplate: "x %{x:.3f}, y %{y:.3f}<extra></extra>"});
    var data = [contour];
    var paths = store.paths, xs = R.decode(paths.x), ys = R.decode(paths.y);
    var offset = 0, groups = {}, order = [];
    store.basin.forEach(function (b, run) {
      var look = basinLook(b), key = look.color;
      if (!groups[key]) {
        var others = look === OTHER ? store.basins.length - BASIN_COLORS.length : 0;
        groups[key] = {look: look, name: others > 0 ? "other ends (" + others + " places)"
                                                    : basinName(store, b),
                       lx: [], ly: [], mx: [], my: [], text: []};
        order.push(key);
      }
      var g = groups[key], n = paths.n[run];
      for (var j = 0; j < n; j++) {
        g.lx.push(xs[offset + j]);
        g.ly.push(ys[offset + j]);
      }
      g.lx.push(null);
      g.ly.push(null);
      g.mx.push(store.starts[run][0]);
      g.my.push(store.starts[run][1]);
      g.text.push(basinName(store, b));
      offset += n;
    });
    // The basins in their order (lowest first), then the other ends, the still moving, the
    // diverged.
    var LATER = [OTHER, MOVING, DIVERGED];
    order.sort(function (a, b) { return rank(groups[a]) - rank(groups[b]); });
    function rank(g) {
      var i = BASIN_COLORS.indexOf(g.look.color);
      return i >= 0 ? i : BASIN_COLORS.length + LATER.indexOf(g.look);
    }
    order.forEach(function (key) {
      var g = groups[key], color = g.look.color, open = g.look === MOVING;
      data.push({type: "scatter", mode: "lines", x: g.lx, y: g.ly, name: g.name + " paths",
                 hoverinfo: "skip", line: {color: color, width: 1.2, dash: open ? "dot" : "solid"},
                 opacity: 0.55});
      data.push({type: "scatter", mode: "markers", x: g.mx, y: g.my, text: g.text,
                 name: g.name + ": " + g.mx.length,
                 marker: {symbol: g.look.symbol, size: 10, color: color,
                          line: open ? {color: color, width: 2} : {color: "white", width: 1.5}},
                 hovertemplate: "start (%{x:.3g}, %{y:.3g}) → %{text}<extra></extra>"});
    });
    // Every basin's end point, one trace: a star in its group's colour. Only runs at rest make
    // a basin; the still-moving runs have none.
    data.push({type: "scatter", mode: "markers", name: "basins",
               x: store.basins.map(function (b) { return b.point[0]; }),
               y: store.basins.map(function (b) { return b.point[1]; }),
               text: store.basins.map(function (b, k) { return basinName(store, k); }),
               customdata: store.basins.map(function (b) { return b.loss; }),
               marker: {symbol: "star", size: 22, line: {color: "white", width: 2},
                        color: store.basins.map(function (b, k) { return basinLook(k).color; })},
               hovertemplate: "%{text}, f %{customdata:.3g}<extra></extra>"});
    return {
      data: data,
      layout: layoutFor({
        // One unit of x is one unit of y, as on the map (issue 25, item 15).
        xaxis: {range: s.view[0], showgrid: false, zeroline: false, title: {text: "x"},
                constrain: "domain"},
        yaxis: {range: s.view[1], showgrid: false, zeroline: false, title: {text: "y"},
                scaleanchor: "x", scaleratio: 1, constrain: "domain"},
        // The table below is the key (swatch, basin, runs): a legend of up to 13 long entries
        // would cost the chart a third of its drawing time.
        showlegend: false,
      }),
    };
  }

  function startsTable(store) {
    var total = store.starts.length;
    function share(runs) { return Math.round(100 * runs / total) + "%"; }
    function row(b, k) {
      return "<tr data-basin=\"" + k + "\"><td>" + R.swatch(basinLook(k).color) +
        "<span class=\"basin-star\" aria-hidden=\"true\">★</span> " +
        (b.listed ? "listed " + (b.kind || "minimum") : "found") + "</td>" +
        "<td data-x=\"" + b.point[0] + "\" data-y=\"" + b.point[1] + "\">(" + R.fmt(b.point[0]) +
        ", " + R.fmt(b.point[1]) + ")</td><td>" + R.fmt(b.loss) + "</td><td>" + b.count +
        "</td><td>" + share(b.count) + "</td></tr>";
    }
    var head = "<thead><tr><th>basin</th><th>point</th><th>f</th><th>runs</th><th>share</th>" +
      "</tr></thead>";
    var coloured = store.basins.slice(0, BASIN_COLORS.length);
    var others = store.basins.slice(BASIN_COLORS.length);
    var rows = coloured.map(row), rest = "";
    if (others.length) {
      // The grey group in one row; each of its places listed below, folded.
      var runs = others.reduce(function (sum, b) { return sum + b.count; }, 0);
      var losses = others.map(function (b) { return b.loss; });
      rows.push("<tr class=\"other-ends\"><td>" + R.swatch(OTHER.color) + "other ends</td><td>" +
                others.length + " places</td><td>" + R.fmt(Math.min.apply(null, losses)) + " – " +
                R.fmt(Math.max.apply(null, losses)) + "</td><td>" + runs + "</td><td>" +
                share(runs) + "</td></tr>");
      rest = "<details class=\"other-ends\"><summary>the " + others.length +
        " other places</summary><table>" + head + "<tbody>" +
        others.map(function (b, i) { return row(b, i + BASIN_COLORS.length); }).join("") +
        "</tbody></table></details>";
    }
    if (store.moving) {
      // Runs that have not come to rest: no basin is claimed where they happen to be.
      rows.push("<tr data-basin=\"" + MOVING_RUN + "\" class=\"still-moving\"><td>" +
                R.swatch(MOVING.color) + "still moving</td><td>not settled by the last step" +
                "</td><td>–</td><td>" + store.moving + "</td><td>" + share(store.moving) +
                "</td></tr>");
    }
    if (store.diverged) {
      rows.push("<tr data-basin=\"-1\"><td>" + R.swatch(DIVERGED.color) + "diverged</td>" +
                "<td>–</td><td>–</td><td>" + store.diverged + "</td><td>" +
                share(store.diverged) + "</td></tr>");
    }
    var moving = store.moving ? "; still moving: " + store.moving + " runs" : "";
    return "<table><caption>" + R.escapeHtml(store.label) + " from " + total + " starts (" +
      store.layout + "): ★ where runs came to rest, in the chart's colours" + moving +
      "</caption>" + head +
      "<tbody>" + rows.join("") + "</tbody></table>" + rest;
  }

  // A view's chart and table are drawn in a frame of their own (R.later): a view redrawn as
  // the race changes then never shares a frame with the race's own charts. R.sweep and
  // R.starts are what the page shows.
  var VIEW_PARTS = {sweep: [R.ids.SWEEP_GRAPH, R.ids.SWEEP_TABLE],
                    starts: [R.ids.STARTS_GRAPH, R.ids.STARTS_SUMMARY]};

  function drawView(view, store, figure, table) {
    var parts = VIEW_PARTS[view];
    R.later(parts[0], function () {
      var box = document.getElementById(parts[1]);
      if (box) box.innerHTML = table;
      R.set(view, store);
      window.dash_clientside.set_props(parts[0], {figure: figure});
    });
  }

  // A view the server refused (over the work budget): the chart says why instead of staying
  // empty or showing another race's view, and so does the table's place.
  function refusedFigure(text) {
    return {
      data: [],
      layout: layoutFor({
        showlegend: false,
        xaxis: {visible: false}, yaxis: {visible: false},
        annotations: [{text: R.escapeHtml(text).replace(/; /, ";<br>"), showarrow: false,
                       xref: "paper", yref: "paper", x: 0.5, y: 0.5,
                       font: {size: 16, color: "#8B0000"}}],
      }),
    };
  }

  function refusedTable(text) {
    return "<p class=\"view-refused\" role=\"alert\">" + R.escapeHtml(text) + "</p>";
  }

  function drawRefused(view, store) {
    drawView(view, store, refusedFigure(store.refused), refusedTable(store.refused));
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.analysis = {
    // The race's config and its racers' page order, all a view sends the server: never the
    // race store itself (megabytes for a heavy race). Unchanged config, no update. With no
    // view open it follows the race only once (a link's tuned claim is checked against it):
    // each update asks the server for both views, and a drag of a quick rate slider races
    // ten times a second, so closed views would double its requests for nothing.
    share: function (race, view, current) {
      var none = window.dash_clientside.no_update;
      if (!race || typeof race.share !== "string" || (current && !view)) return none;
      var order = Array.isArray(race.order) ? race.order.slice() : [];
      if (current && current.share === race.share &&
          JSON.stringify(current.order) === JSON.stringify(order)) return none;
      return {share: race.share, order: order};
    },
    panels: function (view) {
      return [view !== "sweep", view !== "starts"];
    },
    drawSweep: function (store) {
      if (store && store.refused) return drawRefused("sweep", store);
      if (!store || !store.racers) return;
      drawView("sweep", store, sweepFigure(store), sweepTable(store));
    },
    drawStarts: function (store) {
      if (store && store.refused) return drawRefused("starts", store);
      if (!store || !store.basins || !R.surface) return;
      drawView("starts", store, startsFigure(store), startsTable(store));
    },
    tuned: function (note) {
      // The leaderboard and the link say so while the race is the tuned one (playback.js and
      // tools.js follow R's "tuned" event).
      R.set("tuned", note || null);
      return R.ids.LEADERBOARD;
    },
  };
})();
