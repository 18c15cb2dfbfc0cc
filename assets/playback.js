/*
 * Optimizer Race: drawing and playback in the browser.
 *
 * The server sends a race once (race-store, surface-store); from then on, playing, stepping
 * and scrubbing run here, on animation frames, with no request to the server.
 *
 * Plotly draws what does not move (the contour, marked points, the loss and rate curves).
 * What moves each frame (trails, heads, the two cursors) is drawn on a canvas and two thin
 * lines laid over the plots, from the axes' current ranges: any Plotly update re-plots the
 * whole figure (~20 ms here even without the contour), far too slow for 60 frames a second.
 * The overlays follow zoom and pan through Plotly's relayout events.
 *
 * The scripts share one object, window.optimizerRace (R): assets/0-race.js says what it holds
 * and how other scripts may change it. This script plays the race and writes its own fields.
 */
(function () {
  "use strict";

  var STEPS_PER_SECOND = 60; // at 1x; the speed menu scales it from 1/4x to 16x
  var GRID = "#d0d0d0";
  // Plotly's line patterns, for the trails drawn on the canvas (in pixels at width 3).
  var CANVAS_DASHES = {solid: [], dash: [12, 6], dot: [3, 5], dashdot: [12, 5, 3, 5],
                       longdash: [22, 7], longdashdot: [22, 6, 3, 6]};
  var R = window.optimizerRace;
  var emit = R.emit;

  R.touch = function () {
    return Boolean(window.matchMedia && window.matchMedia("(pointer: coarse)").matches);
  };
  // "Move start" on a touch screen: one tap on the map moves the start, then it turns off.
  R.on("moveStart", function (on) {
    var button = R.el("MOVE_START");
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
  });
  R.action("move-start", function () { R.set("moveStart", !R.moveStart); });

  function decode(obj) {
    if (!obj) return new Float32Array(0);
    var text = atob(obj.bdata);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  // Work that would make one long frame if done at once (three plots redrawn, every update
  // rule typeset again when the noise changes) is done one piece per animation frame. A piece
  // queued again under the same key replaces the one still waiting: only the newest is done.
  var later = {queue: [], scheduled: false};

  R.later = function (key, fn) {
    later.queue = later.queue.filter(function (item) { return item.key !== key; });
    later.queue.push({key: key, fn: fn});
    if (!later.scheduled) {
      // Not in this frame: it may already hold the work that queued this.
      later.scheduled = true;
      window.requestAnimationFrame(function () { window.requestAnimationFrame(nextPiece); });
    }
  };

  // True when no queued piece is waiting, a frame after the last one was done (its drawing
  // has happened by then): the page shows everything it has been sent.
  R.idle = function () { return !later.scheduled; };

  function nextPiece() {
    var item = later.queue.shift();
    if (!item) {
      later.scheduled = false;
      return;
    }
    item.fn();
    window.requestAnimationFrame(nextPiece);
  }

  function graph(id) {
    var el = document.getElementById(id);
    return el ? el.querySelector(".js-plotly-plot") : null;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (v === 0) return "0";
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? Number(v.toPrecision(3)).toString() : v.toExponential(2);
  }

  // Type and margins: larger in presentation mode, smaller on a phone, where every pixel of
  // the square map is worth having.
  R.phone = function () {
    return Boolean(window.matchMedia && window.matchMedia("(max-width: 699px)").matches);
  };
  // The top margin holds half a tick label: the y axis's top label is centred on the plot's
  // edge, and Plotly hides a label that crosses the figure's edge (the map's top "3" was gone).
  R.layoutSize = function () {
    if (R.presenting) return {"font.size": 22, "margin.l": 84, "margin.b": 66, "margin.t": 16};
    if (R.phone()) return {"font.size": 12, "margin.l": 36, "margin.b": 28, "margin.t": 9};
    return {"font.size": 14, "margin.l": 56, "margin.b": 40, "margin.t": 11};
  };

  function baseLayout(extra) {
    var size = R.layoutSize();
    var layout = {
      margin: {l: size["margin.l"], r: 12, t: size["margin.t"], b: size["margin.b"]},
      paper_bgcolor: "white",
      plot_bgcolor: "white",
      font: {size: size["font.size"], family: "system-ui, sans-serif"},
      showlegend: false,
      hovermode: "closest",
    };
    for (var k in extra) layout[k] = extra[k];
    return layout;
  }

  function at(r, k) { return Math.min(k, r.n - 1); }

  function points(list, symbol, name) {
    return {
      type: "scatter", mode: "markers", name: name,
      x: list.map(function (p) { return p[0]; }), y: list.map(function (p) { return p[1]; }),
      marker: {symbol: symbol, size: 16, color: "white", line: {color: "black", width: 2}},
      hovertemplate: name + " (%{x:.3g}, %{y:.3g})<extra></extra>",
    };
  }

  function mapFigure() {
    var s = R.surface, race = R.race;
    var contour = Object.assign({}, contourTrace(s), {showscale: true, colorbar: colorBar(s)});
    var data = [
      contour,
      points(s.minima, "star", "minimum"),
      points(s.saddles, "x-thin-open", "saddle"),
      {
        type: "scatter", mode: "markers", name: "start",
        x: [race ? race.start[0] : null], y: [race ? race.start[1] : null],
        marker: {symbol: "circle-open", size: 18, color: "white", line: {width: 3}},
        hovertemplate: "start<extra></extra>",
      },
    ];
    // A new race keeps the user's zoom and pan; a new surface starts from its own view.
    // (Carried over by hand: Plotly's uirevision did not keep a scroll zoom across react.)
    var gd = graph(R.ids.RACE_GRAPH), old = gd && gd.layout;
    var keep = old && old.uirevision === s.name && old.xaxis && old.yaxis &&
      old.xaxis.range && old.yaxis.range;
    // A shared link's zoom applies once, to the first map drawn (the link's own race).
    var linked = R.pending.view || null;
    delete R.pending.view;
    return {
      data: data,
      layout: baseLayout({
        uirevision: s.name,
        // One unit of x is one unit of y on screen (gradients look perpendicular to the
        // contours): the plot area shrinks to the view box's shape inside the space it has.
        xaxis: {range: keep ? old.xaxis.range.slice() : linked ? linked.x : s.view[0],
                showgrid: false, constrain: "domain",
                zeroline: false, title: {text: R.phone() ? "" : "x"}},
        yaxis: {range: keep ? old.yaxis.range.slice() : linked ? linked.y : s.view[1],
                showgrid: false, scaleanchor: "x", scaleratio: 1, constrain: "domain",
                zeroline: false, title: {text: R.phone() ? "" : "y"}},
        dragmode: "pan",
      }),
    };
  }

  // A surface's contour is the same for every start on it and for the many-starts chart:
  // its grid is decoded once, and Plotly is handed the very same trace each time.
  function contourTrace(s) {
    if (R.contour && R.contour.surface === s) return R.contour.trace;
    R.contour = {surface: s, trace: contourOf(s)};
    return R.contour.trace;
  }

  function contourOf(s) {
    return {
      type: "contour", x: s.x, y: s.y, z: decodeGrid(s), colorscale: s.colorscale,
      reversescale: false, ncontours: 24, line: {width: 0.6, color: "rgba(60,60,60,0.35)"},
      showscale: false,
      hovertemplate: "x %{x:.3f}, y %{y:.3f}<extra>click: start here</extra>",
    };
  }

  // The map's colour bar says what a colour means: decades of f − f* (or of f above the
  // lowest point shown) where the colours are logarithmic, f itself where they are not.
  function colorBar(s) {
    var bar = {thickness: R.phone() ? 8 : 12, len: 0.9, outlinewidth: 0, x: 1.01, xpad: 4,
               title: {text: s.log ? (s.f_star !== null ? "f − f*" : "f − min") : "f",
                       side: "top"}};
    if (s.log) {
      // The grid the contour already decoded (once per surface), not a second decoding.
      var lo = Infinity, hi = -Infinity;
      contourTrace(s).z.forEach(function (row) {
        for (var i = 0; i < row.length; i++) {
          if (row[i] < lo) lo = row[i];
          if (row[i] > hi) hi = row[i];
        }
      });
      var every = Math.max(1, Math.ceil((Math.floor(hi) - Math.ceil(lo)) / 6)), vals = [];
      for (var d = Math.ceil(lo); d <= Math.floor(hi); d += every) vals.push(d);
      bar.tickvals = vals;
      bar.ticktext = vals.map(function (v) { return v === 0 ? "1" : "1e" + v; });
    }
    return bar;
  }

  function decodeGrid(s) {
    var flat = decode(s.z), rows = [];
    for (var i = 0; i < s.grid; i++) rows.push(flat.subarray(i * s.grid, (i + 1) * s.grid));
    return rows;
  }

  function steps(length, first) {
    var x = new Float32Array(length);
    for (var i = 0; i < length; i++) x[i] = i + first;
    return x;
  }

  // The lower chart's choices: what it plots and its axis title.
  var LOWER = {lr: "learning rate", step_length: "step length ‖Δθ‖", grad_norm: "gradient norm ‖g‖"};
  // A log chart shows at most this many decades below its top: about float64's resolution
  // relative to the top, so a racer that hit f* exactly (a gap of 0) cannot flatten the rest.
  var DECADES = 16;

  // A log axis's range from the values that matter: every shown racer's (a diverged racer's
  // values count only when all have diverged, so its blow-up cannot flatten the others), at
  // most DECADES below the top. Values outside are drawn at the edge, and the chart says so.
  function logRange(series, steady) {
    var top = 0, low = Infinity, anyTop = 0;
    series.forEach(function (item) {
      var y = item.y;
      for (var i = 0; i < y.length; i++) {
        var v = y[i];
        if (!(v > 0) || !isFinite(v)) continue;
        if (v > anyTop) anyTop = v;
        if (steady(item) && v > top) top = v;
        if (v < low) low = v;
      }
    });
    if (!(top > 0)) top = anyTop;
    if (!(top > 0)) return null;
    var floor = top * Math.pow(10, -DECADES);
    var bottom = Math.max(low, floor);
    var lo = Math.log10(bottom), hi = Math.log10(top);
    var pad = hi - lo < 0.5 ? (0.5 - (hi - lo)) / 2 + 0.15 : 0.15;
    return {lo: lo - pad, hi: hi + pad, floor: low < floor ? floor : null,
            ceiling: anyTop > top * Math.pow(10, pad) ? top * Math.pow(10, pad) : null};
  }

  function clipped(y, range) {
    if (!range || (range.floor === null && range.ceiling === null)) return y;
    var out = new Float32Array(y.length), lo = range.floor || 0, hi = range.ceiling || Infinity;
    for (var i = 0; i < y.length; i++) out[i] = Math.min(Math.max(y[i], lo), hi);
    return out;
  }

  // The work clock: the loss chart may be drawn against the work each racer has done
  // (gradient evaluations) instead of the step; racers that pay more per step then stretch.
  function byWork(field) { return field === "loss" && R.lossAxis === "work"; }

  function maxWork() {
    var most = 1;
    R.racers.forEach(function (r) {
      if (r.work && r.work.length && R.visible[r.index] !== false) {
        most = Math.max(most, r.work[r.work.length - 1]);
      }
    });
    return most;
  }

  function seriesFigure(field, axisTitle, first, log) {
    var shown = R.racers.filter(function (r) { return R.visible[r.index] !== false; });
    var series = [];
    shown.forEach(function (r) {
      var y = field === "loss" && r.fan ? r.fan.q50 : r[field];
      if (y) series.push({r: r, y: y});
    });
    var range = log ? logRange(series, function (item) { return item.r.diverged_at === null; })
      : null;
    var data = [];
    R.racers.forEach(function (r) {
      var visible = R.visible[r.index] !== false;
      if (field === "loss" && r.fan) {
        // The band between the quartiles of the racer's runs, and their median.
        var f = r.fan, band = f.bandSteps;
        data.push({type: "scatter", mode: "lines", x: band, y: clipped(f.q25, range),
                   line: {width: 0}, hoverinfo: "skip", visible: visible,
                   name: r.label + " lower quartile"});
        data.push({type: "scatter", mode: "lines", x: band, y: clipped(f.q75, range),
                   line: {width: 0}, fill: "tonexty", fillcolor: translucent(r.color, 0.22),
                   hoverinfo: "skip", visible: visible, name: r.label + " upper quartile"});
        data.push({type: "scatter", mode: "lines", name: r.label + " median", x: band,
                   y: clipped(f.q50, range), customdata: f.q50,
                   line: {color: r.color, width: 2.5, dash: r.dash}, visible: visible,
                   hovertemplate: r.label + " median: %{customdata:.3g} at step %{x}" +
                     "<extra></extra>"});
        return;
      }
      var y = r[field];
      if (!y) return;
      var x = byWork(field) && r.work ? Array.from(r.work) : steps(y.length, first);
      data.push({type: "scatter", mode: "lines", name: r.label, x: x, y: clipped(y, range),
                 customdata: y, line: {color: r.color, width: 2.5, dash: r.dash},
                 visible: visible,
                 hovertemplate: r.label + (field === "lr" && r.rate_name ? " " + r.rate_name : "") +
                   ": %{customdata:.3g} at step %{x}<extra></extra>"});
      // The racer's marker at the end of its curve: the same swatch as on the map.
      if (y.length) {
        data.push({type: "scatter", mode: "markers", name: r.label + " end", x: [x[x.length - 1]],
                   y: [clipped(y.subarray(y.length - 1), range)[0]], visible: visible,
                   marker: {symbol: r.marker, size: 11, color: r.color,
                            line: {color: "white", width: 1.5}},
                   hoverinfo: "skip"});
      }
    });
    var notes = [];
    if (range && range.floor !== null) notes.push("below " + fmt(range.floor) + " drawn at the floor");
    if (range && range.ceiling !== null) notes.push("diverged racers cut at the top");
    var figure = {
      data: data,
      layout: baseLayout({
        uirevision: "series " + field + (byWork(field) ? " work" : ""),
        xaxis: byWork(field)
          ? {title: {text: "work (gradient evaluations)"}, range: [0, maxWork()], gridcolor: GRID}
          : {title: {text: "step"}, range: [0, R.steps], gridcolor: GRID},
        yaxis: {title: {text: axisTitle}, type: log ? "log" : "linear", gridcolor: GRID,
                exponentformat: "power", range: range ? [range.lo, range.hi] : undefined,
                autorange: range ? false : true, automargin: true,
                // A label every decade or few (at most four): no crowd of minor digits, and
                // room for them on a short chart.
                dtick: range && range.hi - range.lo > 1.2
                  ? Math.ceil((range.hi - range.lo) / 4) : undefined},
        annotations: notes.length ? [{xref: "paper", yref: "paper", x: 1, y: 1, xanchor: "right",
                                      yanchor: "top", showarrow: false, text: notes.join("; "),
                                      font: {size: 11, color: "#444"},
                                      bgcolor: "rgba(255,255,255,0.8)"}] : [],
      }),
    };
    return R.presenting ? presented(figure, notes) : figure;
  }

  // A long axis title on two lines (a short chart's height cut "step length ‖Δθ‖").
  function twoLines(text) {
    if (text.length <= 10) return text;
    var middle = text.length / 2, at = -1;
    for (var i = 0; i < text.length; i++) {
      if (text[i] === " " && (at < 0 || Math.abs(i - middle) < Math.abs(at - middle))) at = i;
    }
    return at < 0 ? text : text.slice(0, at) + "<br>" + text.slice(at + 1);
  }

  // A side chart in Present: a third of the projector's width, so 18 px type (nothing under
  // 16: powers of ten as 1e−9, not with a small exponent), titles clear of the tick labels,
  // the work axis titled briefly, and the notes above the plot, clear of its labels.
  function presented(figure, notes) {
    var layout = figure.layout;
    layout.font = Object.assign({}, layout.font, {size: 18});
    layout.margin = {l: 48, r: 12, t: 8 + 22 * notes.length, b: 40};
    // (Each font given: after Present's relayout to the map's 22 px the titles kept it.)
    var font = {size: 18};
    layout.xaxis = Object.assign({}, layout.xaxis, {automargin: true, exponentformat: "e",
      tickfont: font,
      title: {text: layout.xaxis.title.text.replace(" (gradient evaluations)", " (gradients)"),
              standoff: 4, font: font}});
    layout.yaxis = Object.assign({}, layout.yaxis, {automargin: true, exponentformat: "e",
      ticklabelstandoff: 8,  // the lowest label clear of the step axis' 0
      tickfont: font, title: {text: twoLines(layout.yaxis.title.text), standoff: 6, font: font}});
    if (notes.length) {
      layout.annotations = [Object.assign({}, layout.annotations[0],
        {text: notes.join("<br>"), yanchor: "bottom", font: {size: 16, color: "#333"}})];
    }
    return figure;
  }

  // The lower chart: the learning rate, the step length or the gradient norm (R.lower).
  R.lower = "lr";
  function lowerFigure() {
    return seriesFigure(R.lower, LOWER[R.lower] + estimated(), 1, true);
  }
  // The rate chart draws an optimizer's own estimate where it has one (Prodigy's d·lr): the
  // axis says so, as briefly as the sweep's axis names a damping (a short chart's title).
  function estimated() {
    if (R.lower !== "lr") return "";
    var names = [];
    R.racers.forEach(function (r) {
      if (R.visible[r.index] !== false && r.rate_name && names.indexOf(r.rate_name) < 0) {
        names.push(r.rate_name);
      }
    });
    return names.map(function (name) { return " (or) " + name; }).join("");
  }

  function load(store) {
    R.loads += 1;
    boardStale = true;
    R.loadedAt = performance.now();
    R.race = store;
    R.steps = store ? store.steps : 0;
    R.racers = !store ? [] : store.order.map(function (key) {
      return racerOf(key, store.racers[key]);
    });
    if (R.step > R.steps) R.step = R.steps;
  }

  // One racer as drawn, from its compact result (service/compact.py) and its style.
  function racerOf(key, src) {
    return {
      index: Number(key), label: src.label, color: src.color, marker: src.marker, n: src.n,
      dash: src.dash || "solid",
      x: decode(src.x), y: decode(src.y), loss: decode(src.loss), lr: decode(src.lr),
      rate_name: src.rate_name || null,
      step_length: src.step_length ? decode(src.step_length) : null,
      grad_norm: src.grad_norm ? decode(src.grad_norm) : null,
      diverged_at: src.diverged_at, steps_to_tol: src.steps_to_tol, stopped: src.stopped || null,
      work: src.work ? decode(src.work) : null, work_to_tol: src.work_to_tol,
      final_loss: src.final_loss, best_loss: src.best_loss,
      fan: src.fan ? loadFan(src.fan) : null,
    };
  }

  // A quick slider's drag preview (assets/quick.js, web/preview.py): racer ``index``'s path at
  // the rate being dragged to, drawn on the map and ranked at once, around Dash's store. The
  // race itself (R.race, the cards, the charts) changes when the slider is released.
  R.preview = function (index, src) {
    var at = R.racers.findIndex(function (r) { return r.index === index; });
    if (at < 0) return;
    var old = R.racers[at];
    R.racers[at] = racerOf(index, Object.assign({}, src,
      {color: old.color, marker: old.marker, dash: old.dash}));
    R.previews += 1;
    boardStale = true;
    draw(R.ids.RACE_GRAPH, R.step, null);
    leaderboard(R.step);
    R.drawnAt = performance.now();
  };

  // A noisy racer's runs over many seeds: the median path and loss band, faint copies of every
  // run (thinned to a few dozen points each), and the final-loss summary.
  function loadFan(f) {
    // The loss band comes thinned to a few hundred steps; bandAt[k] is the last one ≤ k.
    var bandSteps = f.band_steps, end = bandSteps[bandSteps.length - 1];
    var bandAt = new Int32Array(end + 1);
    for (var s = 0, j = 0; s <= end; s++) {
      while (j + 1 < bandSteps.length && bandSteps[j + 1] <= s) j++;
      bandAt[s] = j;
    }
    return {
      runs: f.runs, median: f.median, low: f.q25, high: f.q75, diverged: f.diverged,
      seeds: f.seeds, n: f.n, x: decode(f.x), y: decode(f.y),
      bandSteps: bandSteps, bandEnd: end, bandAt: bandAt,
      q25: decode(f.loss_q25), q50: decode(f.loss_median), q75: decode(f.loss_q75),
      copies: {steps: f.copies.steps, n: f.copies.n, x: decode(f.copies.x),
               y: decode(f.copies.y)},
    };
  }

  function translucent(hex, alpha) {
    var v = parseInt(hex.slice(1), 16);
    return "rgba(" + (v >> 16 & 255) + "," + (v >> 8 & 255) + "," + (v & 255) + "," + alpha + ")";
  }

  // The leaderboard says the race is auto-tuned while it is (assets/race-analysis.js sets it).
  R.on("tuned", function () {
    boardStale = true;
    if (R.race) render(R.step);
  });

  function tunedNote() {
    var note = R.tuned;
    if (!note || !R.race || note.share !== R.race.share) return "";
    return "<p class=\"tuned-note\" id=\"tuned-note\">" + escapeHtml(note.text) + "</p>";
  }

  // Equal values share a rank, shown as "=1": at step 0, when every racer is at the start,
  // nobody is ahead. Rows out of the race (diverged) have no rank.
  // The ranks shown at step k. At step 0 every racer is at its start and nothing has been
  // raced: no rank yet ("–", not a row of "=1" that a newcomer reads as a result).
  function ranks(rows, k) {
    if (k === 0) return rows.map(function () { return "–"; });
    var out = [];
    rows.forEach(function (row, i) {
      var prev = rows[i - 1];
      var tied = prev && !row.out && !prev.out && (prev.now === row.now ||
        Math.abs(prev.now - row.now) <= 1e-12 * Math.max(Math.abs(prev.now), Math.abs(row.now)));
      out.push(row.out ? null : tied ? out[i - 1] : i + 1);
    });
    return out.map(function (rank, i) {
      if (rank === null) return "–";
      var shared = out.filter(function (r) { return r === rank; }).length > 1;
      return (shared ? "=" : "") + rank;
    });
  }

  // A racer's name without the rate of a default label: "SGD (lr 0.03, step decay)" becomes
  // "SGD (step decay)" where the quick controls beside it show every rate.
  function shortLabel(label) {
    return String(label).replace(/\s*\(lr [^,)]*(?:, ([^)]*))?\)$/, function (all, rest) {
      return rest ? " (" + rest + ")" : "";
    });
  }
  R.shortLabel = shortLabel;

  // A racer's name without its rate ("Adam"), unless another racer's would read the same: two
  // Adams at two rates were "Adam" and "Adam" in Present's ranking and the quick sliders.
  function distinctShort(r) {
    var short = shortLabel(r.label);
    var alike = R.racers.filter(function (o) { return shortLabel(o.label) === short; });
    return alike.length > 1 ? String(r.label) : short;
  }
  R.distinctShort = distinctShort;

  // Both forms: Present, a phone and the ranking beside the quick controls show the short one
  // (assets/style.css).
  function labelHtml(r) {
    var short = distinctShort(r);
    if (short === String(r.label)) return escapeHtml(r.label);
    return "<span class=\"label-full\">" + escapeHtml(r.label) + "</span><span class=\"label-short\">" +
      escapeHtml(short) + "</span>";
  }
  R.labelHtml = labelHtml;

  function nowCell(row, text) {
    return row.out ? "<span class=\"diverged\">out</span>" : text;
  }
  // f − f* now: the loss chart's floor (service/compact.py GAP_FLOOR, a gap of 0 on a log
  // axis) is a gap of 0, as "final loss" says, not 1.00e-30.
  function gapNow(v) {
    return fmt(R.race && R.race.f_star !== null && v < 1.01e-30 && v >= 0 ? 0 : v);  // f4
  }

  function noisyRows(k) {
    var rows = R.racers.filter(function (r) { return R.visible[r.index] !== false; })
      .map(function (r) {
        var f = r.fan, out = k > f.bandEnd;
        return {r: r, out: out, now: out ? Infinity : f.q50[f.bandAt[k]]};
      });
    rows.sort(function (a, b) { return a.now - b.now; });
    return rows;
  }

  function noisyLeaderboard(k) {
    var rows = noisyRows(k);
    var gap = R.race && R.race.f_star !== null, rank = ranks(rows, k);
    var html = tunedNote() + "<table class=\"noisy\"><caption>" +
      "noise: each racer over " + (rows.length ? rows[0].r.fan.runs : 0) +
      " seeds; median and quartiles</caption><thead><tr><th>#</th><th>racer</th><th>" +
      (gap ? "median f − f* now" : "median loss now") + "</th>" +
      "<th class=\"col-extra\">median final loss</th>" +
      "<th class=\"col-extra col-best\">quartiles</th>" +
      "<th class=\"col-status\">diverged runs</th>" +
      "</tr></thead><tbody>";
    rows.forEach(function (row, i) {
      var r = row.r, f = r.fan;
      html += "<tr data-racer=\"" + r.index + "\"><td class=\"rank\">" + rank[i] + "</td>" +
        "<td class=\"racer-name\">" + racerSwatch(r) + labelHtml(r) + "</td><td>" +
        nowCell(row, fmt(row.now)) + "</td>" +
        "<td class=\"col-extra\" data-value=\"" + (f.median === null ? "" : f.median) + "\">" +
        (f.median === null ? "diverged" : fmt(f.median)) + "</td><td class=\"col-extra col-best\">" +
        (f.low === null ? "–" : fmt(f.low)) + " – " + (f.high === null ? "diverged" : fmt(f.high)) +
        "</td><td class=\"col-status\" data-value=\"" + f.diverged + "\">" + f.diverged +
        " / " + f.runs + "</td></tr>";
    });
    return html + "</tbody></table>";
  }

  // The ranking at step k. The table is built once per race (its swatches, names and final
  // figures do not change while it plays); each step then only rewrites the ranks and the
  // values now, and moves the rows that changed place.
  function leaderboard(k) {
    var el = R.el("LEADERBOARD");
    if (!el) return;
    if (R.predicting) {
      // Predict first (assets/predict.js): the racers in page order, no value and no rank.
      var masked = R.use("predict").board();
      if (masked !== maskedBoard) el.innerHTML = maskedBoard = masked;
      boardStale = true;
      return;
    }
    maskedBoard = "";
    var noisy = R.racers.length && R.racers[0].fan;
    if (!boardStale && update(el, noisy ? noisyRows(k) : plainRows(k), k)) return;
    el.innerHTML = noisy ? noisyLeaderboard(k) : plainLeaderboard(k);
    boardStale = false;
  }
  // Built again after a new race (which a change of who is shown also is) or a tuned note.
  var boardStale = true, maskedBoard = "";
  R.on("predicting", function () { if (R.race) leaderboard(R.step); });

  function update(el, rows, k) {
    var body = el.querySelector("tbody");
    if (!body || body.children.length !== rows.length) return false;
    var byIndex = {}, rank = ranks(rows, k);
    Array.prototype.forEach.call(body.children, function (tr) { byIndex[tr.dataset.racer] = tr; });
    for (var i = 0; i < rows.length; i++) {
      var tr = byIndex[rows[i].r.index];
      if (!tr) return false;
      var cells = tr.children, now = nowCell(rows[i], gapNow(rows[i].now));
      if (cells[0].textContent !== rank[i]) cells[0].textContent = rank[i];
      if (cells[2].innerHTML !== now) cells[2].innerHTML = now;
      var note = cells[1].querySelector(".rate-now"), rate = rateNote(rows[i].r, k);
      if (note && note.textContent !== rate) note.textContent = rate;
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i]);
    }
    return true;
  }

  function plainRows(k) {
    var rows = R.racers.filter(function (r) { return R.visible[r.index] !== false; })
      .map(function (r) {
        var out = r.diverged_at !== null && k >= r.diverged_at;
        return {r: r, out: out, now: r.loss[at(r, k)]};
      });
    rows.sort(function (a, b) {
      if (a.out !== b.out) return a.out ? 1 : -1;
      return a.now - b.now;
    });
    return rows;
  }

  // A racer whose steps cost more than one gradient (a line search, SAM, Newton): its work
  // differs from its steps, so "work to tol" joins the columns every screen keeps (Present
  // and phones drop the extras), and a caption quoting the work clock is on the screen.
  function workDiffers(rows) {
    return rows.some(function (row) {
      var w = row.r.work;
      return w && w.length > 0 && w[w.length - 1] !== w.length - 1;
    });
  }

  function plainLeaderboard(k) {
    var gap = R.race && R.race.f_star !== null;
    var rows = plainRows(k), rank = ranks(rows, k);
    var work = workDiffers(rows) ? "col-work" : "col-extra col-work";
    var html = "<table><thead><tr><th>#</th><th>racer</th><th>" +
      (gap ? "<abbr title=\"f − f*: how far the loss f is above the surface's lowest value " +
        "f* (0 at the minimum)\">f − f*</abbr> now" : "loss now") +
      "</th><th class=\"col-extra\">final loss</th>" +
      "<th class=\"col-extra col-best\">best loss</th><th class=\"col-status\">steps to tol</th>" +
      "<th class=\"" + work + "\">work to tol</th>" +
      "</tr></thead><tbody>";
    rows.forEach(function (row, i) {
      var r = row.r;
      var status = r.diverged_at !== null
        ? "<span class=\"diverged\">diverged at step " + r.diverged_at + "</span>"
        : (r.steps_to_tol !== null ? String(r.steps_to_tol) : "–");
      html += "<tr data-racer=\"" + r.index + "\"><td class=\"rank\">" + rank[i] + "</td>" +
        // Torch's stop under the name, where the column is wide (issue 25: in "steps to tol"
        // it wrapped over five lines and pushed "work to tol" off the laptop's ranking).
        "<td class=\"racer-name\">" + racerSwatch(r) + labelHtml(r) + rateSpan(r, k) +
        stoppedNote(r) +
        "</td><td>" + nowCell(row, gapNow(row.now)) + "</td><td class=\"col-extra\">" +
        fmt(r.final_loss) +
        "</td><td class=\"col-extra col-best\">" + fmt(r.best_loss) + "</td><td class=\"col-status\">" +
        status + "</td><td class=\"" + work + "\">" +
        (r.work_to_tol !== null && r.work_to_tol !== undefined ? fmt(r.work_to_tol) : "–") +
        "</td></tr>";
    });
    return tunedNote() + html + "</tbody></table>";
  }

  // An optimizer that estimates its own rate (Prodigy's d·lr, Kernel.shown_rate): that
  // rate at the playhead, on a line of its own under the racer's name. A line, not a column:
  // only such racers have one, and Present and phones keep few columns (the rate chart, its
  // other home, is hidden in Present). Its rate after step k is lr[k − 1]: none before the
  // first step.
  function rateNote(r, k) {
    if (!r.rate_name || !r.lr) return "";
    var i = at(r, k) - 1;
    return r.rate_name + " " + (i < 0 ? "–" : fmt(r.lr[i]));
  }
  function rateSpan(r, k) {
    var text = rateNote(r, k);
    return text ? "<span class=\"rate-now\" title=\"the rate it estimated itself, after this " +
      "step (the rate chart draws it)\">" + escapeHtml(text) + "</span>" : "";
  }

  // L-BFGS ends where torch's own stopping rule fires (optimizers/lbfgs.py): said in words
  // (torch's option's name only in the title: "tolerance_change" read as a fault).
  var STOP_RULES = {
    tolerance_grad: ["converged", "the gradient's largest entry fell to tolerance_grad"],
    tolerance_change: ["stalled", "the step or the change in f fell to tolerance_change"],
  };
  function stoppedNote(r) {
    if (!r.stopped) return "";
    var why = STOP_RULES[r.stopped.reason] || ["its stopping rule", r.stopped.reason];
    return " <span class=\"stopped\" title=\"torch's rule: " + escapeHtml(why[1]) + "\">stopped at " +
      "step " + r.stopped.step + " (" + escapeHtml(why[0]) + ")</span>";
  }

  // A basin's colour in a table cell.
  function swatch(color) {
    return "<span class=\"swatch\" style=\"background:" + color + "\"></span>";
  }

  // A racer's swatch: its line pattern and marker in its colour, as the map draws them (the
  // key, the leaderboard and the quick controls all show this one).
  var SVG_DASHES = {solid: "", dash: "6 3", dot: "1.5 2.5", dashdot: "6 2.5 1.5 2.5",
                    longdash: "10 3", longdashdot: "10 3 1.5 3"};

  function markerPath(symbol, x, y, size) {
    var s = size / 2, pts;
    if (symbol === "square") {
      pts = [[-0.85, -0.85], [0.85, -0.85], [0.85, 0.85], [-0.85, 0.85]];
    } else if (symbol === "diamond") {
      pts = [[0, -1.1], [1.1, 0], [0, 1.1], [-1.1, 0]];
    } else if (symbol === "triangle-up") {
      pts = [[0, -1.15], [1.1, 0.8], [-1.1, 0.8]];
    } else if (symbol === "cross" || symbol === "x") {
      var w = 0.45, a = symbol === "x" ? Math.PI / 4 : 0;
      pts = [[-w, -1], [w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1], [-w, w],
             [-1, w], [-1, -w], [-w, -w]].map(function (p) {
        return [p[0] * Math.cos(a) - p[1] * Math.sin(a), p[0] * Math.sin(a) + p[1] * Math.cos(a)];
      });
    } else if (symbol === "star" || symbol === "pentagon") {
      var n = symbol === "star" ? 10 : 5;
      pts = [];
      for (var i = 0; i < n; i++) {
        var rad = symbol === "star" && i % 2 ? 0.5 : 1.15, ang = -Math.PI / 2 + i * 2 * Math.PI / n;
        pts.push([rad * Math.cos(ang), rad * Math.sin(ang)]);
      }
    } else {
      return null;  // a circle
    }
    return pts.map(function (p, i) {
      return (i ? "L" : "M") + (x + p[0] * s).toFixed(2) + " " + (y + p[1] * s).toFixed(2);
    }).join("") + "Z";
  }

  function racerSwatch(r) {
    var dash = SVG_DASHES[r.dash] || "", d = markerPath(r.marker, 17, 8, 11);
    var mark = d ? "<path d=\"" + d + "\"" : "<circle cx=\"17\" cy=\"8\" r=\"5.5\"";
    // A light colour cased in dark, as on the map (drawMap): yellow was faint on white too.
    var cased = light(r.color), dashed = dash ? " stroke-dasharray=\"" + dash + "\"" : "";
    return "<svg class=\"racer-swatch-svg\" width=\"34\" height=\"16\" viewBox=\"0 0 34 16\" " +
      "aria-hidden=\"true\" focusable=\"false\">" +
      (cased ? "<line class=\"casing\" x1=\"1\" y1=\"8\" x2=\"33\" y2=\"8\" stroke=\"" +
        CASING + "\" stroke-width=\"5\"" + dashed + "/>" : "") +
      "<line x1=\"1\" y1=\"8\" x2=\"33\" y2=\"8\" " +
      "stroke=\"" + r.color + "\" stroke-width=\"3\"" + dashed + "/>" + mark + " fill=\"" +
      r.color + "\" stroke=\"" + (cased ? CASING : "white") + "\" stroke-width=\"1.5\"/></svg>";
  }

  // The key under the map: every shown racer's swatch and name.
  function mapKey() {
    var el = R.el("MAP_KEY");
    if (!el) return;
    el.innerHTML = R.racers.filter(function (r) { return R.visible[r.index] !== false; })
      .map(function (r) {
        return "<li data-racer=\"" + r.index + "\">" + racerSwatch(r) + escapeHtml(r.label) + "</li>";
      }).join("");
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  function plotArea(gd, ranges) {
    var fl = gd && gd._fullLayout;
    if (!fl || !fl._size || !fl.xaxis || !fl.yaxis) return null;
    var xr = ranges && ranges.x ? ranges.x : fl.xaxis.range;
    var yr = ranges && ranges.y ? ranges.y : fl.yaxis.range;
    // With equal aspect an axis may use less than the plot box: its own offset and length.
    var xa = fl.xaxis, ya = fl.yaxis;
    var l = typeof xa._offset === "number" ? xa._offset : fl._size.l;
    var t = typeof ya._offset === "number" ? ya._offset : fl._size.t;
    return {l: l, t: t, w: xa._length || fl._size.w, h: ya._length || fl._size.h,
            x0: Number(xr[0]), x1: Number(xr[1]), y0: Number(yr[0]), y1: Number(yr[1]),
            ylog: fl.yaxis.type === "log"};
  }

  function overlay(gd, tag, kind) {
    var box = gd.parentElement;
    var el = box.querySelector(kind + "." + tag);
    if (!el) {
      el = document.createElement(kind);
      el.className = tag;
      box.style.position = "relative";
      box.appendChild(el);
    }
    return el;
  }

  function ranged(event) {
    // plotly_relayouting carries the ranges of a pan or zoom still in progress.
    if (!event) return null;
    var x = event["xaxis.range"] || (event["xaxis.range[0]"] !== undefined
      ? [event["xaxis.range[0]"], event["xaxis.range[1]"]] : null);
    var y = event["yaxis.range"] || (event["yaxis.range[0]"] !== undefined
      ? [event["yaxis.range[0]"], event["yaxis.range[1]"]] : null);
    return x || y ? {x: x, y: y} : null;
  }

  function hook(gd, id) {
    if (!gd || gd.__raceHooked || !gd.on) return;
    gd.__raceHooked = true;
    var again = function (event) { draw(id, R.step, ranged(event)); };
    gd.on("plotly_relayouting", again);
    gd.on("plotly_relayout", function () {
      draw(id, R.step, null);
      if (id === R.ids.RACE_GRAPH) emit("mapview");  // zoom and pan are in the link
    });
    gd.on("plotly_afterplot", function () { draw(id, R.step, null); });
    if (id === R.ids.RACE_GRAPH) {
      // Where the click (or tap) was, in the map's units: Plotly reports the nearest point of
      // a trace instead (the contour's grid, or a marked minimum the tap was near).
      gd.on("plotly_click", function (data) {
        var e = data && data.event, fl = gd._fullLayout;
        if (!e || !fl || typeof e.clientX !== "number") { clicked = null; return; }
        var box = gd.getBoundingClientRect();
        var x = fl.xaxis.p2l(e.clientX - box.left - fl.xaxis._offset);
        var y = fl.yaxis.p2l(e.clientY - box.top - fl.yaxis._offset);
        clicked = isFinite(x) && isFinite(y) ? [x, y] : null;
      });
    }
  }
  var clicked = null;

  function shape(ctx, symbol, x, y, size) {
    var s = size / 2;
    ctx.beginPath();
    if (symbol === "square") {
      ctx.rect(x - s * 0.85, y - s * 0.85, s * 1.7, s * 1.7);
    } else if (symbol === "diamond") {
      ctx.moveTo(x, y - s * 1.1); ctx.lineTo(x + s * 1.1, y); ctx.lineTo(x, y + s * 1.1);
      ctx.lineTo(x - s * 1.1, y); ctx.closePath();
    } else if (symbol === "triangle-up") {
      ctx.moveTo(x, y - s * 1.15); ctx.lineTo(x + s * 1.1, y + s * 0.8);
      ctx.lineTo(x - s * 1.1, y + s * 0.8); ctx.closePath();
    } else if (symbol === "cross" || symbol === "x") {
      var a = symbol === "x" ? Math.PI / 4 : 0, w = s * 0.45;
      var pts = [[-w, -s], [w, -s], [w, -w], [s, -w], [s, w], [w, w], [w, s], [-w, s],
                 [-w, w], [-s, w], [-s, -w], [-w, -w]];
      pts.forEach(function (p, i) {
        var px = x + p[0] * Math.cos(a) - p[1] * Math.sin(a);
        var py = y + p[0] * Math.sin(a) + p[1] * Math.cos(a);
        if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      });
      ctx.closePath();
    } else if (symbol === "star" || symbol === "pentagon") {
      var n = symbol === "star" ? 10 : 5;
      for (var i = 0; i < n; i++) {
        var rad = symbol === "star" && i % 2 ? s * 0.5 : s * 1.15;
        var ang = -Math.PI / 2 + i * 2 * Math.PI / n;
        var qx = x + rad * Math.cos(ang), qy = y + rad * Math.sin(ang);
        if (i === 0) ctx.moveTo(qx, qy); else ctx.lineTo(qx, qy);
      }
      ctx.closePath();
    } else {
      ctx.arc(x, y, s, 0, 2 * Math.PI);
    }
  }

  // A point of a path that ran far off the map (a racer about to diverge reaches a million
  // times the view) is brought back along its segment to a few canvases away: the segment's
  // direction is kept, and the canvas does not rasterise a dashed line millions of pixels long
  // (which held every frame for a tenth of a second).
  // (A point on or near the map, nearly every one, costs one comparison and no allocation:
  // this runs for every point of every trail in every frame.)
  function offMap(px, py, area) {
    var reach = 4 * Math.max(area.w, area.h);
    return !(Math.abs(px - area.w / 2) <= reach && Math.abs(py - area.h / 2) <= reach);
  }

  function near(px, py, lx, ly, area) {
    var reach = 4 * Math.max(area.w, area.h);
    var ox = isNaN(lx) ? area.w / 2 : lx, oy = isNaN(ly) ? area.h / 2 : ly;
    var far = Math.max(Math.abs(px - ox), Math.abs(py - oy));
    var t = far > 0 ? Math.min(1, reach / far) : 0;
    return [ox + (px - ox) * t, oy + (py - oy) * t];
  }

  // One trail's points from start to ``count`` (exclusive) on the canvas.
  function trace(ctx, xs, ys, start, count, area, sx, sy) {
    var lx = NaN, ly = NaN;
    for (var i = 0; i < count; i++) {
      var px = (xs[start + i] - area.x0) * sx, py = (area.y1 - ys[start + i]) * sy;
      if (offMap(px, py, area)) {
        var q = near(px, py, lx, ly, area);
        px = q[0];
        py = q[1];
      }
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      lx = px;
      ly = py;
    }
  }

  // Zoomed in far enough that single steps are apart on screen (Lion's ±lr staircase, a
  // first step), each point the racer stood on is dotted, so steps can be counted.
  function stepsApart(line, kk, sx, sy) {
    var n = Math.min(kk, 20), total = 0;
    for (var j = 1; j <= n; j++) {
      var i = Math.max(1, Math.round(j * kk / n));
      total += Math.hypot((line.x[i] - line.x[i - 1]) * sx, (line.y[i] - line.y[i - 1]) * sy);
    }
    return n > 0 && total / n >= 8;
  }

  function drawDots(ctx, line, kk, area, sx, sy, big) {
    ctx.beginPath();
    for (var i = 0; i <= kk; i++) {
      var px = (line.x[i] - area.x0) * sx, py = (area.y1 - line.y[i]) * sy;
      if (px < -5 || py < -5 || px > area.w + 5 || py > area.h + 5) continue;  // off screen
      ctx.moveTo(px + (big ? 4 : 2.5), py);
      ctx.arc(px, py, big ? 4 : 2.5, 0, 2 * Math.PI);
    }
    ctx.fill();
  }

  function drawCopies(ctx, r, k, area, sx, sy, big) {
    var c = r.fan.copies, offset = 0;
    ctx.beginPath();
    for (var run = 0; run < c.n.length; run++) {
      var count = 0;
      while (count < c.n[run] && c.steps[count] <= k) count++;
      trace(ctx, c.x, c.y, offset, count, area, sx, sy);
      offset += c.n[run];
    }
    ctx.globalAlpha = 0.25;
    ctx.strokeStyle = r.color;
    ctx.lineWidth = big ? 2.5 : 1.2;
    ctx.setLineDash([]);
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  // A colour as light as the map's yellow-green (the eighth racer's Okabe–Ito yellow) gets a
  // dark casing under its path and a dark rim on its marker: it vanished on the map's high
  // ground (try-out). Relative luminance, sRGB.
  // (Worked out once a colour: the map asks every frame.)
  var lightness = {};
  function light(hex) {
    if (!(hex in lightness)) {
      var m = /^#([0-9a-f]{6})$/i.exec(hex || "");
      var lum = m ? [0, 2, 4].map(function (i) {
        var c = parseInt(m[1].slice(i, i + 2), 16) / 255;
        return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
      }) : [0, 0, 0];
      lightness[hex] = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2] > 0.6;
    }
    return lightness[hex];
  }
  var CASING = "#333";

  function drawMap(gd, k, ranges) {
    var area = plotArea(gd, ranges);
    if (!area) return;
    var canvas = overlay(gd, "race-overlay", "canvas");
    var ratio = window.devicePixelRatio || 1;
    canvas.style.left = area.l + "px";
    canvas.style.top = area.t + "px";
    canvas.style.width = area.w + "px";
    canvas.style.height = area.h + "px";
    if (canvas.width !== Math.round(area.w * ratio)) canvas.width = Math.round(area.w * ratio);
    if (canvas.height !== Math.round(area.h * ratio)) canvas.height = Math.round(area.h * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, area.w, area.h);
    var sx = area.w / (area.x1 - area.x0), sy = area.h / (area.y1 - area.y0);
    var heads = [], big = R.presenting;
    // A lesson's beat may point at some racers: the others are drawn faded.
    var faded = function (r) { return R.highlight.length > 0 && R.highlight.indexOf(r.index) < 0; };
    R.racers.forEach(function (r) {
      if (R.visible[r.index] === false) return;
      ctx.globalAlpha = faded(r) ? 0.3 : 1;
      if (r.fan) drawCopies(ctx, r, k, area, sx, sy, big);
      ctx.globalAlpha = faded(r) ? 0.3 : 1;
      // With noise the bold trail is the median of the racer's runs.
      var line = r.fan || r, kk = Math.min(k, line.n - 1);
      ctx.beginPath();
      trace(ctx, line.x, line.y, 0, kk + 1, area, sx, sy);
      ctx.lineJoin = "round";
      var width = (big ? 6 : 3) * (R.highlight.indexOf(r.index) >= 0 ? 1.5 : 1);
      ctx.setLineDash((CANVAS_DASHES[r.dash] || []).map(function (d) { return d * (big ? 2 : 1); }));
      if (light(r.color)) {
        ctx.strokeStyle = CASING;
        ctx.lineWidth = width + (big ? 4 : 2);
        ctx.stroke();
      }
      ctx.strokeStyle = r.color;
      ctx.lineWidth = width;
      ctx.stroke();
      ctx.setLineDash([]);
      if (stepsApart(line, kk, sx, sy)) {
        ctx.fillStyle = r.color;
        drawDots(ctx, line, kk, area, sx, sy, big);
      }
      ctx.globalAlpha = 1;
      heads.push({index: r.index, x: line.x[kk], y: line.y[kk], step: kk,
                  px: (line.x[kk] - area.x0) * sx, py: (area.y1 - line.y[kk]) * sy, r: r});
    });
    fanOut(ctx, heads, big, area.w, area.h);
    heads.forEach(function (h) {
      ctx.globalAlpha = faded(h.r) ? 0.3 : 1;
      shape(ctx, h.r.marker, h.fx, h.fy, big ? 30 : 15);
      ctx.fillStyle = h.r.color;
      ctx.fill();
      ctx.lineWidth = big ? 3 : 2;
      ctx.strokeStyle = light(h.r.color) ? CASING : "white";
      ctx.stroke();
    });
    ctx.globalAlpha = 1;
    R.heads = heads.map(function (h) { return {index: h.index, x: h.x, y: h.y, step: h.step}; });
    // Where each marker was drawn (canvas pixels): fanned out where racers stand together.
    R.drawnHeads = heads.map(function (h) { return {index: h.index, px: h.fx, py: h.fy}; });
    emit("mapdraw", {ctx: ctx, k: k, sx: sx, sy: sy,
                     toPx: function (x, y) { return [(x - area.x0) * sx, (area.y1 - y) * sy]; }});
  }

  // Racers standing on their one start (every racer at step 0) would show one marker: their
  // markers are fanned out on a small ring about it, each joined to it by a thin line, so who
  // is who shows from the first frame (issue 25). Only at the start: racers that later meet
  // (at a minimum) are drawn where they are, as the caption and the ranking say they are.
  // Near an edge of the map (a start in a corner, or on the edge) the ring would put markers
  // off the map: they are fanned over a quarter of a circle facing the map's middle instead,
  // and kept whole inside it.
  function fanOut(ctx, heads, big, width, height) {
    var near = big ? 12 : 6, size = big ? 30 : 15, groups = [];
    heads.forEach(function (h) {
      h.fx = h.px;
      h.fy = h.py;
      if (h.step !== 0) return;
      var group = groups.find(function (g) {
        return Math.abs(g[0].px - h.px) <= near && Math.abs(g[0].py - h.py) <= near;
      });
      if (group) group.push(h); else groups.push([h]);
    });
    groups.forEach(function (g) {
      if (g.length < 2) return;
      // A ring clear of the start's ring (18 px) and wide enough for the markers side by side.
      var at = g[0], ring = Math.max(size * 1.5, g.length * (size + 3) / (2 * Math.PI));
      var margin = ring + size / 2, from = -Math.PI / 2, span = 2 * Math.PI, steps = g.length;
      if (at.px < margin || at.py < margin || at.px > width - margin || at.py > height - margin) {
        // A quarter circle towards the middle, wide enough for the markers side by side.
        span = Math.PI / 2;
        ring = Math.max(size * 1.5, (g.length - 1) * (size + 3) / span);
        steps = g.length - 1;
        from = Math.atan2(height / 2 - at.py, width / 2 - at.px) - span / 2;
      }
      var half = size / 2;
      g.forEach(function (h, i) {
        var angle = from + span * i / steps;
        h.fx = Math.min(Math.max(at.px + ring * Math.cos(angle), half), width - half);
        h.fy = Math.min(Math.max(at.py + ring * Math.sin(angle), half), height - half);
        ctx.beginPath();
        ctx.moveTo(at.px, at.py);
        ctx.lineTo(h.fx, h.fy);
        ctx.lineWidth = big ? 2 : 1;
        ctx.strokeStyle = CASING;
        ctx.stroke();
      });
    });
  }

  function drawCursor(gd, id, k, ranges) {
    var area = plotArea(gd, ranges);
    if (!area) return;
    var line = overlay(gd, "race-cursor", "div");
    var left = area.l + (k - area.x0) / (area.x1 - area.x0) * area.w;
    // Against work, step k is at a different place for each racer: no one cursor line.
    var inside = left >= area.l - 1 && left <= area.l + area.w + 1 &&
      !(id === R.ids.LOSS_GRAPH && R.lossAxis === "work");
    line.style.display = inside ? "block" : "none";
    line.style.left = left + "px";
    line.style.top = area.t + "px";
    line.style.height = area.h + "px";
    R.cursors[id] = k;
  }

  function draw(id, k, ranges) {
    var gd = graph(id);
    if (!gd) return;
    hook(gd, id);
    if (id === R.ids.RACE_GRAPH) drawMap(gd, k, ranges); else drawCursor(gd, id, k, ranges);
  }

  function attach(tries) {
    // Each plot is hooked (and its overlay drawn) as soon as Plotly has drawn it.
    var waiting = 0;
    [R.ids.RACE_GRAPH, R.ids.LOSS_GRAPH, R.ids.LR_GRAPH].forEach(function (id) {
      var g = graph(id);
      if (g && g.on && g._fullLayout && g._fullLayout._size) {
        if (!g.__raceHooked) { hook(g, id); draw(id, R.step, null); }
        if (id === R.ids.RACE_GRAPH) R.drawnAt = performance.now();
      } else {
        waiting += 1;
      }
    });
    if (waiting && tries > 0) {
      window.requestAnimationFrame(function () { attach(tries - 1); });
    }
  }

  function render(k) {
    R.step = k;
    draw(R.ids.RACE_GRAPH, k, null);
    draw(R.ids.LOSS_GRAPH, k, null);
    draw(R.ids.LR_GRAPH, k, null);
    leaderboard(k);
    R.rendered = k;
    R.frames += 1;
    R.drawnAt = performance.now();
    emit("step", k);
  }

  R.render = function () { render(R.step); };
  R.decode = decode;
  R.contourTrace = contourTrace;
  R.graph = graph;
  R.fmt = fmt;
  R.escapeHtml = escapeHtml;
  R.swatch = swatch;
  R.racerSwatch = racerSwatch;
  R.baseLayout = baseLayout;

  function setPlaying(on) {
    R.playing = on;
    R.last = null;
    R.carry = 0;
    if (on) {
      if (R.step >= R.steps) R.step = 0;
      window.requestAnimationFrame(tick);
    } else {
      emit("step", R.step);
    }
    return on ? "❚❚ Pause" : "▶ Play";
  }

  function tick(time) {
    if (!R.playing) return;
    if (R.last !== null) R.carry += (time - R.last) / 1000 * STEPS_PER_SECOND * R.speed;
    R.last = time;
    if (R.frameLog) R.frameLog.push(time);
    var whole = Math.floor(R.carry);
    if (whole > 0) {
      R.carry -= whole;
      var k = R.step + whole;
      // A lesson's beat plays a range: it stops at R.stopAt once, then plays on to the end.
      var end = R.stopAt !== null && R.stopAt > R.step ? R.stopAt : R.steps;
      if (k >= end) {
        if (R.loop && end === R.steps) { k = 0; } else {
          k = end;
          R.stopAt = null;
          R.playing = false;
          window.dash_clientside.set_props(R.ids.PLAY_BUTTON, {children: "▶ Play"});
          emit("step", k);
        }
      }
      render(k);
      // The scrubber follows four times a second, and exactly when playback stops: each of its
      // updates goes through Dash's store, whose every component is asked whether it changed
      // (with eight cards that took most of each frame).
      if (!R.playing || time - scrubbedAt >= SCRUBBER_INTERVAL) {
        scrubbedAt = time;
        scrub(k);
      }
    }
    if (R.playing) window.requestAnimationFrame(tick);
  }

  // The steps this script set the scrubber to (oldest first): their echoes through Dash are
  // not new seeks, however many quick presses are still on their way.
  var SCRUBBER_INTERVAL = 250, scrubbedAt = -Infinity, echoes = [];
  // The scrubber's value set from here: its own callback (seek) then only relabels it.
  // A step key or button: playback pauses, and the step delta away (inside the race).
  function pausedStep(delta) {
    if (R.playing) {
      setPlaying(false);
      window.dash_clientside.set_props(R.ids.PLAY_BUTTON, {children: "▶ Play"});
    }
    return Math.max(0, Math.min(R.steps, R.step + delta));
  }

  function scrub(k) {
    echoes.push(k);
    if (echoes.length > 32) echoes.shift();
    window.dash_clientside.set_props(R.ids.STEP_SLIDER, {value: k});
  }

  function triggeredIds() {
    var c = window.dash_clientside.callback_context;
    return (c && c.triggered ? c.triggered : []).map(function (t) { return t.prop_id; });
  }

  // A control that takes these keys itself: text is typed in a box; a slider, a radio or a
  // menu takes the arrows (and Page keys) when the keyboard brought the focus there. One
  // clicked or touched keeps the focus but must not keep the clicker's keys: after a tick of
  // "show", a drag of the scrubber or a choice of 3-D, PageDown did nothing in Present.
  // (:focus-visible cannot tell: a key pressed on a clicked control makes it match.)
  var CLICKER_KEYS = {ArrowLeft: true, ArrowRight: true, PageUp: true, PageDown: true};
  var pointing = false, pointerFocused = null;
  document.addEventListener("pointerdown", function () { pointing = true; }, true);
  document.addEventListener("keydown", function () { pointing = false; }, true);
  document.addEventListener("focusin", function (event) {
    // (A control refocused by its own script, the scrubber as it follows, stays as it came.)
    if (pointing) pointerFocused = event.target;
    else if (event.target !== pointerFocused) pointerFocused = null;
  });
  function takesKey(t, key) {
    if (!t || !t.tagName) return false;
    if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") return true;
    var control = t.tagName === "INPUT" || (t.getAttribute && t.getAttribute("role") === "slider");
    if (!control) return false;
    var box = t.tagName === "INPUT" && !/^(checkbox|radio|range|button)$/.test(t.type);
    if (box) return true;  // typing
    // A slider the pointer focused (the scrubber dragged) leaves Space and Esc to the page:
    // they play and leave Present as before the drag (a slider does nothing with them).
    var slider = t.type === "range" || t.getAttribute("role") === "slider";
    if (slider && t === pointerFocused && (key === " " || key === "Escape")) return false;
    if (!CLICKER_KEYS[key]) return true;  // a key the control is asked for
    return t !== pointerFocused;
  }

  function onKey(event) {
    var t = event.target;
    if (takesKey(t, event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
    // Keys pressed in an open dialog are the dialog's: Esc closes it (the browser does that)
    // and must not also leave presentation mode; P must not toggle it.
    if (t && t.closest && t.closest("dialog[open]")) return;
    // Presentation clickers send PageDown/PageUp (and the arrow keys).
    var id = {" ": "PLAY_BUTTON", ArrowLeft: "STEP_BACK", ArrowRight: "STEP_FORWARD",
              PageUp: "STEP_BACK", PageDown: "STEP_FORWARD"}[event.key];
    if (!id) {
      // Keys other scripts asked for (R.key): presentation's P and Esc, a dialog's Esc …
      (R.keys[event.key] || []).forEach(function (fn) { fn(event); });
      return;
    }
    if (/^Page/.test(event.key) && !R.presenting) return;  // else PageDown scrolls the page
    // In Present a lesson's beats take the clicker's keys (assets/lesson.js): play the beat,
    // then the next; past the last beat they step the race again.
    var beats = R.presenting && id !== "PLAY_BUTTON" && R.use("beats");
    if (beats && beats.key(id === "STEP_FORWARD" ? 1 : -1)) { event.preventDefault(); return; }
    event.preventDefault();
    if (id === "PLAY_BUTTON") {
      var button = R.el(id);
      if (button) button.click();
      return;
    }
    // A step is drawn at once (the buttons go through Dash, which could fold two quick
    // presses into one): a clicker pressed twice moves two steps.
    var k = pausedStep(id === "STEP_FORWARD" ? 1 : -1);
    render(k);
    scrub(k);
  }
  // A clicked control's own key handling (the scrubber's) runs before the document hears the
  // key: the clicker's keys on it are taken first, on the way down, and go no further.
  document.addEventListener("keydown", function (event) {
    if (!CLICKER_KEYS[event.key] || event.target !== pointerFocused) return;
    onKey(event);
    if (event.defaultPrevented) event.stopPropagation();
  }, true);
  document.addEventListener("keydown", function (event) {
    if (!event.defaultPrevented) onKey(event);
  });

  var NO = function () { return window.dash_clientside.no_update; };

  // A chart below the first screen (the phone's) or hidden (Present's lower chart) is drawn
  // when it comes into view: the first screen does not wait for plots nobody sees yet. The
  // newest figure waiting for a chart replaces the one before. (Dash swaps a graph's element
  // when its code loads, so the charts are looked up by id at each check, not observed.)
  var offscreen = {}, checking = false;

  function inView(el) {
    var box = el.getBoundingClientRect();
    return box.width > 0 && box.bottom > 0 && box.top < window.innerHeight;
  }

  function drawInView() {
    checking = false;
    Object.keys(offscreen).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el || !inView(el)) return;
      R.later(id, offscreen[id]);
      delete offscreen[id];
    });
  }

  function checkSoon() {
    if (checking || !Object.keys(offscreen).length) return;
    checking = true;
    window.requestAnimationFrame(drawInView);
  }
  window.addEventListener("scroll", checkSoon, {passive: true});
  window.addEventListener("resize", checkSoon);
  R.on("presenting", checkSoon);
  // The side charts drawn again with their own type and margins (seriesFigure's presented),
  // after assets/tools.js set every plot's to the map's.
  R.on("presenting", function () {
    if (!R.race) return;
    var gap = R.race.f_star !== null;
    window.requestAnimationFrame(function () {  // in the new layout: on screen or not
      chartLater(R.ids.LOSS_GRAPH, function () {
        window.dash_clientside.set_props(R.ids.LOSS_GRAPH,
          {figure: seriesFigure("loss", gap ? "f − f*" : "loss", 0, gap)});
      });
      chartLater(R.ids.LR_GRAPH, function () {
        window.dash_clientside.set_props(R.ids.LR_GRAPH, {figure: lowerFigure()});
      });
    });
  });

  var held = {};
  R.on("dragging", function (on) {
    if (on) return;
    Object.keys(held).forEach(function (id) { chartLater(id, held[id]); });
    held = {};
  });

  function chartLater(id, fn) {
    var el = document.getElementById(id);
    if (!el || inView(el)) {
      delete offscreen[id];
      R.later(id, fn);
      return;
    }
    offscreen[id] = fn;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.race = {
    syncRate: function (lr, slider) {
      var fired = triggeredIds().join(" ");
      // The box holds a number or text as typed; a rate its bounds refuse (text that is not a
      // number, 20, 0) leaves the slider at the last accepted rate (assets/inputs.js).
      var box = window.dash_clientside.callback_context.outputs_list[0].id;
      var rate = R.use("inputs").accepted(box, lr);
      if (fired.indexOf(R.ids.RACER_LR_SLIDER) >= 0) {
        if (typeof slider !== "number") return [NO(), NO()];
        // The slider echoing a typed rate must not round it: only a real move sets the box.
        if (rate !== null &&
            Math.abs(Math.min(1, Math.max(-5, Math.log10(rate))) - slider) < 1e-9) {
          return [NO(), NO()];
        }
        return [Number(Math.pow(10, slider).toPrecision(3)), NO()];
      }
      if (rate === null) return [NO(), NO()];
      return [NO(), Math.min(1, Math.max(-5, Math.log10(rate)))];
    },
    draw: function (store, surface, visibleValues) {
      if (!store || !surface) return [NO(), NO()];
      var ids = window.dash_clientside.callback_context.inputs_list[2] || [];
      R.visible = {};
      ids.forEach(function (entry) {
        R.visible[entry.id.index] = (entry.value || []).indexOf("on") >= 0;
      });
      R.surface = surface;
      load(store);
      var gap = store.f_star !== null;
      // The map's figure holds only the surface and the start (the racers are drawn on the
      // canvas above it): while those stay, Plotly is not asked to draw the map again.
      var start = String(store.start), map = graph(R.ids.RACE_GRAPH);
      var sameMap = R.mapOf && R.mapOf.surface === surface && R.mapOf.start === start &&
        map && map._fullLayout;
      R.mapOf = {surface: surface, start: start};
      var figures = [
        sameMap ? NO() : mapFigure(),
        seriesFigure("loss", gap ? "f − f*" : "loss", 0, gap),
        lowerFigure(),
      ];
      if (sameMap) draw(R.ids.RACE_GRAPH, R.step, null);
      if (typeof R.pending.step === "number") {
        // A shared link's playback step, once the race it belongs to is here.
        R.step = Math.max(0, Math.min(R.steps, R.pending.step));
        delete R.pending.step;
        window.dash_clientside.set_props(R.ids.STEP_SLIDER, {value: R.step});
      }
      leaderboard(R.step);
      mapKey();
      R.rendered = R.step;
      emit("load");
      // The overlays redraw when Plotly has drawn the new figures (plotly_afterplot); on the
      // first load the plots may not exist yet, so look for them on the next frames.
      attach(120);
      window.dash_clientside.set_props(R.ids.STEP_LABEL,
                                       {children: "step " + R.step + " / " + R.steps});
      // The map now; the loss and rate charts on the next frames, one each (or, below the
      // first screen, once scrolled to; during a quick slider's drag, once it is released:
      // the path follows the drag, and the charts would halve the paths drawn a second).
      [R.ids.LOSS_GRAPH, R.ids.LR_GRAPH].forEach(function (id, i) {
        var draw = function () { window.dash_clientside.set_props(id, {figure: figures[i + 1]}); };
        if (R.dragging) held[id] = draw; else chartLater(id, draw);
      });
      return [figures[0], R.steps];
    },
    // Each changed racer's update rule, one per frame: MathJax measures the page for every
    // formula it typesets, so typesetting all of them at once (noise on changes every rule)
    // would hold the page for one long frame.
    rules: function (equations) {
      Object.keys(equations || {}).forEach(function (index) {
        var id = R.partId("RACER_EQUATION", index);
        R.later("rule " + index, function () {
          // Typeset if its box is open, else kept until it opens (assets/rules.js).
          emit("rule", {index: id.index, text: equations[index]});
        });
      });
    },
    // What the lower chart shows; redrawn in a frame of its own.
    chooseAxis: function (value) {
      if ((value !== "step" && value !== "work") || value === R.lossAxis) return NO();
      R.lossAxis = value;
      if (R.race) {
        chartLater(R.ids.LOSS_GRAPH, function () {
          var gap = R.race.f_star !== null;
          window.dash_clientside.set_props(R.ids.LOSS_GRAPH,
            {figure: seriesFigure("loss", gap ? "f − f*" : "loss", 0, gap)});
        });
      }
      return NO();
    },
    chooseLower: function (value) {
      if (!LOWER[value] || value === R.lower) return NO();
      R.lower = value;
      if (R.race) {
        chartLater(R.ids.LR_GRAPH, function () {
          window.dash_clientside.set_props(R.ids.LR_GRAPH, {figure: lowerFigure()});
        });
      }
      return NO();
    },
    pickStart: function (click) {
      if (!click || !click.points || !click.points.length) return NO();
      // On a touch screen a tap moves the start only after "Move start" (assets/tools.js):
      // a tap meant to scroll the page must not restart the race.
      if (R.touch() && !R.moveStart) return NO();
      R.set("moveStart", false);
      var p = click.points[0];
      var at = clicked || [p.x, p.y];
      clicked = null;
      if (typeof at[0] !== "number" || typeof at[1] !== "number") return NO();
      return {surface: R.surface ? R.surface.name : null,
              point: [Number(at[0].toPrecision(6)), Number(at[1].toPrecision(6))]};
    },
    togglePlay: function () {
      var label = setPlaying(!R.playing);
      if (!R.playing) scrub(R.step);  // paused: the scrubber shows the exact step
      return label;
    },
    stepBy: function () {
      var fired = triggeredIds().join(" ");
      return pausedStep(fired.indexOf(R.ids.STEP_BACK) >= 0 ? -1 : 1);
    },
    seek: function (value) {
      var k = typeof value === "number" ? Math.max(0, Math.min(R.steps, Math.round(value))) : 0;
      var at = echoes.indexOf(k), mine = at >= 0;
      if (mine) echoes.splice(0, at + 1);
      if (!mine && k !== R.rendered) render(k);
      return "step " + k + " / " + R.steps;
    },
    setOptions: function (speed, loop) {
      if (typeof speed === "number" && speed > 0) R.speed = speed;
      R.loop = Array.isArray(loop) && loop.indexOf("on") >= 0;
      return R.ids.SPEED_SELECT;
    },
  };
})();
