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
  var SYMBOLS = {circle: "circle", square: "square", diamond: "diamond", cross: "cross",
                 x: "x", "triangle-up": "diamond-open", star: "cross", pentagon: "square-open"};
  var V = {plotly: null, loading: null, shown: false, drawnAt: 0, drawn: -1, failed: ""};
  R.view3d = V;

  function box() { return document.getElementById("race-3d"); }

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

  function heights(r, upto) {
    var h = R.surface.height, fStar = R.race.f_star === null ? 0 : R.race.f_star;
    var out = new Array(upto + 1);
    for (var i = 0; i <= upto; i++) {
      var f = r.loss[i] + fStar;
      out[i] = h.log ? Math.log10(Math.max(f - h.low + h.offset, 1e-300)) : f;
    }
    return out;
  }

  function figure(k) {
    var s = R.surface;
    var data = [{
      // The grid decoded once per surface (the map's contour holds it), not on every draw.
      type: "surface", x: s.x, y: s.y, z: R.contourTrace(s).z, colorscale: "Viridis",
      showscale: false, opacity: 0.9, hoverinfo: "skip",
      contours: {z: {show: true, usecolormap: true, project: {z: false}}},
    }];
    R.racers.forEach(function (r) {
      if (R.visible[r.index] === false) return;
      var kk = Math.min(k, r.n - 1), z = heights(r, kk);
      var xs = Array.from(r.x.subarray(0, kk + 1)), ys = Array.from(r.y.subarray(0, kk + 1));
      data.push({type: "scatter3d", mode: "lines", name: r.label, x: xs, y: ys, z: z,
                 line: {color: r.color, width: R.presenting ? 10 : 6}, hoverinfo: "name"});
      data.push({type: "scatter3d", mode: "markers", name: r.label,
                 x: [xs[kk]], y: [ys[kk]], z: [z[kk]],
                 marker: {color: r.color, size: R.presenting ? 10 : 6,
                          symbol: SYMBOLS[r.marker] || "circle",
                          line: {color: "white", width: 1}},
                 hovertemplate: r.label + "<extra></extra>"});
    });
    var title = s.height.log ? "log₁₀ height" : "f";
    return {
      data: data,
      layout: {
        uirevision: s.name,  // the camera stays where the user turned it
        margin: {l: 0, r: 0, t: 0, b: 0},
        showlegend: false,
        font: {size: R.presenting ? 20 : 13, family: "system-ui, sans-serif"},
        scene: {xaxis: {title: {text: "x"}, range: s.view[0]},
                yaxis: {title: {text: "y"}, range: s.view[1]},
                zaxis: {title: {text: title}}, aspectmode: "cube"},
      },
    };
  }

  function draw(k) {
    var el = box();
    if (!V.shown || !V.plotly || !el || !R.race || !R.surface) return;
    var fig = figure(k);
    V.plotly.react(el, fig.data, fig.layout, {displaylogo: false, responsive: true});
    V.drawn = k;
    V.drawnAt = performance.now();
  }

  function show(on) {
    V.shown = on;
    document.documentElement.classList.toggle("view-3d", on);
    var el = box();
    if (el) el.hidden = !on;
    if (R.state) R.state.view = on ? "3d" : "2d";
    if (R.syncUrl) R.syncUrl();
    if (!on) {
      window.dispatchEvent(new Event("resize"));  // the map takes its place again
      return;
    }
    load().then(function () { V.failed = ""; draw(R.step); }, function (error) {
      V.failed = error.message;
      if (el) el.textContent = "The 3-D view is unavailable: " + error.message + ".";
    });
  }
  R.showView3d = show;

  // Playback and new races reach the view through playback.js's events.
  R.on("step", function (k) {
    if (!V.shown) return;
    if (!R.playing || performance.now() - V.drawnAt >= PLAYING_INTERVAL) draw(k);
  });
  R.on("load", function () {
    if (V.shown) {
      draw(R.step);
    } else if (R.state && R.state.view === "3d" && !V.loading) {
      // A link opened in the 3-D view: the radio follows, and the view opens with the race.
      window.dash_clientside.set_props("view-select", {value: "3d"});
      show(true);
    }
  });

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.name === "view-select") show(t.value === "3d");
  });
})();
