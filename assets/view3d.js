/*
 * Optimizer Race: the 3-D view. The surface as a mesh with every racer's path on it, sharing
 * the playback of the map.
 *
 * Plotly's 3-D traces live in a separate bundle (assets/vendor/plotly-gl3d.min.js, 1.75 MB)
 * that loads the first time the view opens; the page's own Plotly (the cartesian bundle)
 * stays window.Plotly. A 3-D update re-builds the mesh (~25 ms), so during playback the
 * view follows at about ten updates a second, and exactly whenever playback stops.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var BUNDLE = "/assets/vendor/plotly-gl3d.min.js";
  var PLAYING_INTERVAL = 100;  // ms between 3-D updates while playing
  var ASPECT_Z = 0.4, MIN_ASPECT_Z = 0.2, SLOPE = 0.8;  // the height box against x and y
  var CAMERA_EYE = {x: -0.55, y: -0.8, z: 2.3};
  var SYMBOLS = {circle: "circle", square: "square", diamond: "diamond", cross: "cross",
                 x: "x", "triangle-up": "diamond-open", star: "cross", pentagon: "square-open"};
  var V = {plotly: null, loading: null, shown: false, drawnAt: 0, drawn: -1, failed: ""};
  var asked = 0;  // draws asked for: only the last one's end sets V.drawn
  R.provide("view3d", V);

  function box() { return R.el("RACE_3D"); }

  function load() {
    if (V.loading) return V.loading;
    V.loading = new Promise(function (resolve, reject) {
      var cartesian = window.Plotly;
      var script = document.createElement("script");
      script.src = BUNDLE;
      script.onload = function () {
        // The bundle claims window.Plotly; hand it back to the page's own copy.
        V.plotly = window.Plotly;
        window.Plotly = cartesian;
        resolve(V.plotly);
      };
      script.onerror = function () {
        window.Plotly = cartesian;
        reject(new Error("the 3-D view's plotly bundle is not installed (make run fetches it)"));
      };
      document.head.appendChild(script);
    });
    return V.loading;
  }

  // Heights. The map's colours are by decade (s.height.log) on some surfaces, but log heights
  // over the whole grid turned the ravine into a flat plate with a needle where its paths
  // near f*. So the mesh has a scale of its own, chosen per surface from the grid's values f
  // (undone from the colour grid):
  // - linear, clipped at the grid's TOP quantile, unless that leaves most of the surface flat
  //   (its median below FLAT of the clipped range: Rosenbrock, Beale, Goldstein–Price, the
  //   six-hump camel);
  // - else log₁₀(f − f*) (f − the grid's lowest value where f* is unknown) from the grid's
  //   highest value down to its lowest 1 − TOP quantile, at most DECADES.
  // Every height (mesh and paths) is clamped to [bottom, top]: nothing becomes a needle. A
  // path is drawn LIFT of that range above the mesh (its heads HEAD_LIFT more), so the mesh
  // cannot cover it.
  var TOP = 0.98, FLAT = 0.1, DECADES = 6, LIFT = 0.03, HEAD_LIFT = 2;

  function quantile(sorted, q) {
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }

  function heightScale(s) {
    if (V.scale && V.scale.surface === s) return V.scale;
    var grid = R.contourTrace(s).z, h = s.height, values = [];
    var f = grid.map(function (row) {
      return Array.from(row, function (z) {
        return h.log ? h.low + Math.pow(10, z) - h.offset : z;
      });
    });
    f.forEach(function (row) { row.forEach(function (v) { if (isFinite(v)) values.push(v); }); });
    values.sort(function (a, b) { return a - b; });
    var low = values[0], cap = quantile(values, TOP);
    var sc = {surface: s, log: (quantile(values, 0.5) - low) < FLAT * (cap - low)};
    if (sc.log) {
      sc.base = s.f_star === null ? low : Math.min(s.f_star, low);
      sc.top = Math.log10(Math.max(values[values.length - 1] - sc.base, 1e-300));
      sc.bottom = Math.max(Math.log10(Math.max(quantile(values, 1 - TOP) - sc.base, 1e-300)),
                           sc.top - DECADES);
      sc.height = function (v) {
        var d = Math.log10(Math.max(v - sc.base, 0));  // -Infinity at f*: clamped below
        return Math.min(sc.top, Math.max(sc.bottom, isNaN(d) ? sc.top : d));
      };
    } else {
      sc.bottom = low;
      sc.top = cap;
      sc.height = function (v) {
        return Math.min(sc.top, Math.max(sc.bottom, isNaN(v) ? sc.top : v));
      };
    }
    sc.lift = LIFT * (sc.top - sc.bottom);
    var xs = R.decode(s.x), ys = R.decode(s.y);
    sc.grid = {n: s.grid, x0: xs[0], y0: ys[0], dx: (xs[s.grid - 1] - xs[0]) / (s.grid - 1),
               dy: (ys[s.grid - 1] - ys[0]) / (s.grid - 1)};
    sc.z = f.map(function (row) { return row.map(sc.height); });
    // A bumpy surface (Rastrigin) is drawn flatter: its median slope, the heights scaled to
    // the box, at most SLOPE, so the pits a path sits in do not hide it from the camera.
    var n = sc.z.length, span = sc.top - sc.bottom || 1, slopes = [];
    for (var i = 1; i < n - 1; i++) {
      for (var j = 1; j < sc.z[i].length - 1; j++) {
        slopes.push(Math.hypot(sc.z[i][j + 1] - sc.z[i][j - 1], sc.z[i + 1][j] - sc.z[i - 1][j]) *
                    (n - 1) / 2 / span);
      }
    }
    slopes.sort(function (a, b) { return a - b; });
    sc.aspect = Math.max(MIN_ASPECT_Z, Math.min(ASPECT_Z, SLOPE / quantile(slopes, 0.5)));
    V.scale = sc;
    return sc;
  }

  // The mesh's highest corner around (x, y): the mesh between grid points is flat, so a
  // path point in a narrow valley (Rosenbrock's, a few grid cells wide) can lie below it.
  function meshTop(sc, x, y) {
    var g = sc.grid, n = g.n, fx = (x - g.x0) / g.dx, fy = (y - g.y0) / g.dy;
    if (!(fx >= 0 && fy >= 0 && fx <= n - 1 && fy <= n - 1)) return -Infinity;
    var i = Math.min(Math.floor(fy), n - 2), j = Math.min(Math.floor(fx), n - 2);
    return Math.max(sc.z[i][j], sc.z[i][j + 1], sc.z[i + 1][j], sc.z[i + 1][j + 1]);
  }

  // A path's heights: its loss on the surface's scale, never below the mesh, plus the lift.
  function heights(sc, r, upto) {
    var fStar = R.race.f_star === null ? 0 : R.race.f_star;
    var out = new Array(upto + 1);
    for (var i = 0; i <= upto; i++) {
      out[i] = Math.max(sc.height(r.loss[i] + fStar), meshTop(sc, r.x[i], r.y[i])) + sc.lift;
    }
    return out;
  }

  // The height axis: decades as powers of ten on a log scale, values on a linear one.
  function zAxis(s, sc) {
    var axis = {range: [sc.bottom, sc.top + (2 + HEAD_LIFT) * sc.lift]};
    if (!sc.log) return Object.assign(axis, {title: {text: "f"}});
    var vals = [], text = [];
    for (var d = Math.ceil(sc.bottom); d <= Math.floor(sc.top); d++) {
      vals.push(d);
      text.push("1e" + d);
    }
    return Object.assign(axis, {
      title: {text: s.f_star !== null ? "f − f*" : "f − min"},
      tickvals: vals, ticktext: text,
    });
  }

  function figure(k) {
    var s = R.surface, sc = heightScale(s);
    var data = [{
      // The heights computed once per surface, from the map's decoded grid.
      type: "surface", x: s.x, y: s.y, z: sc.z, colorscale: "Viridis",
      showscale: false, opacity: 0.9, hoverinfo: "skip",
      contours: {z: {show: true, usecolormap: true, project: {z: false}}},
    }];
    R.racers.forEach(function (r) {
      if (R.visible[r.index] === false) return;
      var kk = Math.min(k, r.n - 1), z = heights(sc, r, kk);
      var xs = Array.from(r.x.subarray(0, kk + 1)), ys = Array.from(r.y.subarray(0, kk + 1));
      data.push({type: "scatter3d", mode: "lines", name: r.label, x: xs, y: ys, z: z,
                 line: {color: r.color, width: R.presenting ? 10 : 6}, hoverinfo: "name"});
      data.push({type: "scatter3d", mode: "markers", name: r.label,
                 x: [xs[kk]], y: [ys[kk]], z: [z[kk] + HEAD_LIFT * sc.lift],
                 marker: {color: r.color, size: R.presenting ? 10 : 6,
                          symbol: SYMBOLS[r.marker] || "circle",
                          line: {color: "white", width: 1}},
                 hovertemplate: r.label + "<extra></extra>"});
    });
    return {
      data: data,
      layout: {
        uirevision: s.name,  // the camera stays where the user turned it
        margin: {l: 0, r: 0, t: 0, b: 0},
        showlegend: false,
        font: {size: R.presenting ? 20 : 13, family: "system-ui, sans-serif"},
        scene: {xaxis: {title: {text: "x"}, range: s.view[0]},
                yaxis: {title: {text: "y"}, range: s.view[1]},
                zaxis: zAxis(s, sc),
                // Flatter than a cube, seen from high up (about 50° above the horizon): the
                // paths on the valley floors are in sight, not behind the walls.
                aspectmode: "manual", aspectratio: {x: 1, y: 1, z: sc.aspect},
                camera: {eye: CAMERA_EYE}},
      },
    };
  }

  function draw(k) {
    var el = box();
    if (!V.shown || !V.plotly || !el || !R.race || !R.surface) return;
    var fig = figure(k);
    V.drawnAt = performance.now();
    var mine = ++asked;
    // Drawn once Plotly's promise says so: set at the call, a reader found no scene yet (Plotly
    // queues a draw behind one still running).
    V.plotly.react(el, fig.data, fig.layout, {displaylogo: false, responsive: true})
      .then(function () { if (mine === asked) V.drawn = k; }, function () { return null; });
  }

  function show(on) {
    V.shown = on;
    document.documentElement.classList.toggle("view-3d", on);
    var el = box();
    if (el) el.hidden = !on;
    R.set("view", on ? "3d" : "2d");  // the link says which view is open
    if (!on) {
      window.dispatchEvent(new Event("resize"));  // the map takes its place again
      return;
    }
    load().then(function () { V.failed = ""; draw(R.step); }, function (error) {
      V.failed = error.message;
      if (el) el.textContent = "The 3-D view is unavailable: " + error.message + ".";
    });
  }

  // Playback and new races reach the view through playback.js's events.
  R.on("step", function (k) {
    if (!V.shown) return;
    if (!R.playing || performance.now() - V.drawnAt >= PLAYING_INTERVAL) draw(k);
  });
  R.on("load", function () {
    if (V.shown) {
      draw(R.step);
    } else if (R.view === "3d" && !V.loading) {
      // A link opened in the 3-D view: the radio follows, and the view opens with the race.
      window.dash_clientside.set_props(R.ids.VIEW_SELECT, {value: "3d"});
      show(true);
    }
  });

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.name === R.ids.VIEW_SELECT) show(t.value === "3d");
  });
})();
