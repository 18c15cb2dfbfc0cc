/*
 * Optimizer Race: the step inspector's curvature view (issue 17), for racers that use
 * curvature (newton, gauss_newton, lbfgs, gd_line_search). The trace from /api/inspect
 * carries it (service/curvature.py): at the step's starting point θ, the matrix M (H or JᵀJ),
 * its eigenvalues and eigenvectors, the quadratic model's level set through θ, the Newton and
 * gradient steps, and for line searches the slice φ(t) = f(θ + t·d) with its trials.
 *
 * Drawn here: two small SVG charts below the inspector's table (the model around θ at equal
 * scale on both axes, and the line search's slice), and on the map the model's level set,
 * the Newton point and the line search's trial points at the inspected step.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var NS = "http://www.w3.org/2000/svg";
  // Okabe–Ito colours, as the rest of the page: Newton blue, level set purple, trials orange.
  var COLOR = {newton: "#0072B2", gradient: "#000000", taken: "#555555", level: "#CC79A7",
               axis: "#009E73", armijo: "#D55E00", band: "#009E73", trial: "#E69F00",
               phi: "#0072B2"};
  var SUB = ["₁", "₂"];

  function data() {
    var t = R.trace;
    return t && t.data && t.data.curvature ? t.data.curvature : null;
  }

  function num(v) { return v === null || v === undefined ? "–" : R.fmt(v); }
  function pair(v) { return v ? "(" + num(v[0]) + ", " + num(v[1]) + ")" : "–"; }

  // ----- the model's level set: λ₁u₁² + λ₂u₂² = K about the model's centre, in M's eigenbasis

  function levelSet(c, r, reach) {
    // Points (relative to θ) of the level set through θ, in runs (one per branch), within
    // ``reach`` of the centre; [] where M is singular.
    var kind = c.level_set[r], lam = c.eigenvalues[r], vec = c.eigenvectors[r];
    var K = c.level[r], n = c.newton_step[r];
    if (kind === "none" || !n || K === null) return [];
    var point = function (u1, u2) {
      return [n[0] + u1 * vec[0][0] + u2 * vec[1][0], n[1] + u1 * vec[0][1] + u2 * vec[1][1]];
    };
    var runs = [], i, s, N = 96;
    if (kind === "ellipse") {
      var a = Math.sqrt(K / lam[0]), b = Math.sqrt(K / lam[1]), run = [];
      if (!(isFinite(a) && isFinite(b))) return [];
      for (i = 0; i <= N; i++) {
        s = 2 * Math.PI * i / N;
        run.push(point(a * Math.cos(s), b * Math.sin(s)));
      }
      return [run];
    }
    // A hyperbola: its branches open along the axis whose eigenvalue has K's sign.
    var along = (K > 0) === (lam[0] > 0) ? 0 : 1, across = 1 - along;
    if (K === 0) {  // the two asymptotes
      var slope = Math.sqrt(Math.abs(lam[along] / lam[across]));
      [-1, 1].forEach(function (sign) {
        var u = [[-reach, 0], [reach, 0]].map(function (q) {
          var w = []; w[along] = q[0]; w[across] = sign * slope * q[0]; return point(w[0], w[1]);
        });
        runs.push(u);
      });
      return runs;
    }
    var p = Math.sqrt(K / lam[along]), q = Math.sqrt(Math.abs(K / lam[across]));
    var S = Math.min(Math.asinh(reach / Math.min(p, q)) + 0.2, 30);
    [-1, 1].forEach(function (sign) {
      var run = [];
      for (i = 0; i <= N; i++) {
        s = -S + 2 * S * i / N;
        var w = [];
        w[along] = sign * p * Math.cosh(s);
        w[across] = q * Math.sinh(s);
        run.push(point(w[0], w[1]));
      }
      runs.push(run);
    });
    return runs;
  }

  // ----- small SVG helpers ---------------------------------------------------------------

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, body, attrs) {
    var t = el("text", Object.assign({x: x, y: y}, attrs || {}), parent);
    t.textContent = body;
    return t;
  }

  function polyline(parent, pts, attrs) {
    return el("polyline", Object.assign({points: pts.map(function (p) {
      return p[0].toFixed(1) + "," + p[1].toFixed(1);
    }).join(" "), fill: "none"}, attrs), parent);
  }

  function svgArrow(parent, from, to, color, dash, name) {
    var dx = to[0] - from[0], dy = to[1] - from[1], len = Math.hypot(dx, dy);
    if (!(len > 0.5)) return;
    var ux = dx / len, uy = dy / len, h = Math.min(10, len / 2);
    var g = el("g", {"data-arrow": name}, parent);
    el("line", {x1: from[0], y1: from[1], x2: to[0] - ux * h * 0.6, y2: to[1] - uy * h * 0.6,
                stroke: color, "stroke-width": 2.5, "stroke-dasharray": dash || "none"}, g);
    el("polygon", {points: [to, [to[0] - h * (ux - uy * 0.5), to[1] - h * (uy + ux * 0.5)],
                            [to[0] - h * (ux + uy * 0.5), to[1] - h * (uy - ux * 0.5)]]
      .map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" "),
                   fill: color}, g);
  }

  // ----- the model around θ --------------------------------------------------------------

  function modelView(c, r, taken) {
    var W = 260, pad = 14;
    var svg = el("svg", {viewBox: "0 0 " + W + " " + W, class: "curv-chart curv-model",
                         role: "img", "data-level-set": c.level_set[r]});
    // The frame: θ, the Newton point, the gradient step's end and where the racer went, with
    // room around them; equal scale on both axes, so the level set keeps its true shape.
    var pts = [[0, 0], taken];
    if (c.newton_step[r]) pts.push(c.newton_step[r]);
    if (c.cauchy_step[r]) pts.push(c.cauchy_step[r]);
    // An ellipse is bounded: the whole of it is in the frame (a hyperbola's branches run on).
    if (c.level_set[r] === "ellipse") {
      levelSet(c, r, 0).forEach(function (run) {
        run.forEach(function (p, i) { if (i % 8 === 0) pts.push(p); });
      });
    }
    var xs = pts.map(function (p) { return p[0]; }), ys = pts.map(function (p) { return p[1]; });
    var cx = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2;
    var cy = (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2;
    var half = Math.max(Math.max.apply(null, xs) - Math.min.apply(null, xs),
                        Math.max.apply(null, ys) - Math.min.apply(null, ys)) * 0.75;
    if (!(half > 0)) half = 1;
    var scale = (W / 2 - pad) / half;
    var px = function (p) { return [W / 2 + (p[0] - cx) * scale, W / 2 - (p[1] - cy) * scale]; };
    var clip = "curv-clip-" + r;
    var defs = el("defs", {}, svg);
    el("rect", {x: 0, y: 0, width: W, height: W}, el("clipPath", {id: clip}, defs));
    var body = el("g", {"clip-path": "url(#" + clip + ")"}, svg);
    el("rect", {x: 0, y: 0, width: W, height: W, fill: "#fafafa", stroke: "#ccc"}, body);
    // M's eigenvectors through the model's centre (or θ when M is singular).
    var centre = c.newton_step[r] || [0, 0];
    c.eigenvectors[r].forEach(function (v, k) {
      var a = px([centre[0] - v[0] * half * 3, centre[1] - v[1] * half * 3]);
      var b = px([centre[0] + v[0] * half * 3, centre[1] + v[1] * half * 3]);
      el("line", {x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke: COLOR.axis,
                  "stroke-width": 1.2, "stroke-dasharray": "4 3", "data-eigen": k}, body);
    });
    levelSet(c, r, half * 4).forEach(function (run) {
      polyline(body, run.map(px), {stroke: COLOR.level, "stroke-width": 2.5,
                                   class: "curv-level"});
    });
    var o = px([0, 0]);
    svgArrow(body, o, px(taken), COLOR.taken, null, "taken");
    if (c.cauchy_step[r]) svgArrow(body, o, px(c.cauchy_step[r]), COLOR.gradient, "6 4",
                                   "gradient");
    if (c.newton_step[r]) {
      svgArrow(body, o, px(c.newton_step[r]), COLOR.newton, null, "newton");
      var n = px(c.newton_step[r]);
      el("circle", {cx: n[0], cy: n[1], r: 4, fill: "white", stroke: COLOR.newton,
                    "stroke-width": 2}, body);
    }
    el("circle", {cx: o[0], cy: o[1], r: 4, fill: "#111"}, body);
    text(body, o[0] + 6, o[1] - 6, "θ", {class: "curv-label"});
    return svg;
  }

  // ----- the line search's slice φ(t) ----------------------------------------------------

  function sliceView(ls, s) {
    var W = 260, H = 180, L = 8, B = 22, T = 8;
    var n = s.phi.length, ts = s.phi.map(function (_, i) { return s.end * i / (n - 1); });
    var armijo = function (t) { return s.phi0 + ls.c1 * t * s.slope0; };
    var inside = s.trials.map(function (t) { return t <= s.end; });
    var ys = s.phi.concat(s.trial_phi.filter(function (_, i) { return inside[i]; }),
                          [armijo(s.end)]).filter(isFinite);
    var lo = Math.min.apply(null, ys), hi = Math.max.apply(null, ys);
    // φ(0) and the trials decide the scale; a far-off sample is cut at the frame.
    var span = hi - lo || Math.abs(hi) || 1;
    lo -= span * 0.08; hi += span * 0.08;
    var px = function (t, v) {
      return [L + t / s.end * (W - 2 * L), T + (hi - v) / (hi - lo) * (H - T - B)];
    };
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, class: "curv-chart curv-slice",
                         role: "img", "data-trials": s.trials.length});
    el("rect", {x: 0, y: 0, width: W, height: H - B + 2, fill: "#fafafa", stroke: "#ccc"}, svg);
    s.band.forEach(function (iv) {
      var a = px(iv[0], hi)[0], b = px(iv[1], hi)[0];
      el("rect", {x: a, y: T, width: Math.max(b - a, 2), height: H - T - B,
                  fill: COLOR.band, opacity: 0.15, class: "curv-band"}, svg);
    });
    polyline(svg, ts.map(function (t, i) { return px(t, s.phi[i]); }),
             {stroke: COLOR.phi, "stroke-width": 2.5, class: "curv-phi"});
    polyline(svg, [px(0, s.phi0), px(s.end, armijo(s.end))],
             {stroke: COLOR.armijo, "stroke-width": 2, "stroke-dasharray": "6 4",
              class: "curv-armijo"});
    s.trials.forEach(function (t, i) {
      if (!inside[i]) return;  // listed under the chart
      var p = px(t, s.trial_phi[i]), last = i === s.trials.length - 1;
      el("circle", {cx: p[0], cy: p[1], r: last ? 6 : 4.5, fill: last ? COLOR.trial : "white",
                    stroke: "#111", "stroke-width": 1.5, class: "curv-trial",
                    "data-t": String(t)}, svg);
      text(svg, p[0] + 6, p[1] - 6, String(i + 1), {class: "curv-label"});
    });
    text(svg, L, H - 6, "0", {class: "curv-label"});
    text(svg, W - L, H - 6, "t = " + num(s.end), {class: "curv-label", "text-anchor": "end"});
    return svg;
  }

  // ----- the panel -----------------------------------------------------------------------

  function row(name, label, body) {
    return "<tr data-name=\"" + name + "\"><th scope=\"row\">" + label + "</th><td>" + body +
      "</td></tr>";
  }

  function offFrame(s) {
    var out = [];
    s.trials.forEach(function (t, i) { if (t > s.end) out.push((i + 1) + " at t = " + num(t)); });
    return out.length ? " (beyond the chart: " + out.join(", ") + ")" : "";
  }

  function show(k) {
    var box = R.el("INSPECT_CURVATURE"), c = data();
    if (!box) return;
    var d = R.trace && R.trace.data;
    var shown = Boolean(c && d && k < d.gradient.length);
    // The inspector's box knows, so Present can give the curvature view the room.
    if (box.parentElement) box.parentElement.classList.toggle("has-curvature", shown);
    if (!shown) { box.hidden = true; box.textContent = ""; return; }
    var r = k, M = c.matrix_name, lam = c.eigenvalues[r], vec = c.eigenvectors[r];
    var here = d.path[r], next = d.path[r + 1], taken = [next[0] - here[0], next[1] - here[1]];
    var kind = c.level_set[r];
    var shape = kind === "ellipse" ? (lam[0] > 0 ? "an ellipse (a bowl)" : "an ellipse (a cap)")
      : kind === "hyperbola" ? "a hyperbola (" + M + " is indefinite: a saddle)"
        : "none (" + M + " is singular)";
    var html = "<h3>Curvature at x<sub>" + k + "</sub></h3><table class=\"inspect curv\">" +
      "<tbody>" +
      row("eigenvalues", "eigenvalues of " + M, lam.map(function (v, i) {
        return "<span class=\"curv-item\">λ" + SUB[i] + " = <span data-value=\"" + v + "\">" +
          num(v) + "</span></span>";
      }).join(" ")) +
      row("eigenvectors", "eigenvectors", vec.map(function (v, i) {
        return "<span class=\"curv-item\">v" + SUB[i] + " = " + pair(v) + "</span>";
      }).join(" ")) +
      row("level_set", "model's level set", shape) +
      row("newton_step", "<span class=\"key curv-key-newton\">Newton step</span> −" + M +
          "⁻¹g", pair(c.newton_step[r])) +
      row("cauchy_step", "<span class=\"key key-gradient\">gradient step</span> (best on " +
          "the model)", c.cauchy_step[r] ? pair(c.cauchy_step[r])
            : "none: along −g the model falls without end") +
      row("taken", "<span class=\"key curv-key-taken\">step taken</span>", pair(taken)) +
      "</tbody></table>";
    var ls = c.line_search, s = ls && r < ls.slices.length ? ls.slices[r] : null;
    if (s) {
      html += "<p class=\"curv-note curv-search\">Line search (" + R.escapeHtml(ls.search.replace("_", " ")) +
        ") along d = " + R.escapeHtml(ls.direction) + ": <span data-name=\"evaluated\">" +
        s.evaluated + "</span> trial" + (s.evaluated === 1 ? "" : "s") +
        (s.evaluated > s.trials.length ? " (the first " + s.trials.length + " drawn)" : "") +
        ", accepted t = <span data-name=\"accepted\">" + num(s.accepted) + "</span>" +
        offFrame(s) + ". " +
        "<span class=\"key curv-key-phi\">φ(t)</span> " +
        "<span class=\"key curv-key-armijo\">Armijo line (c₁ = " + num(ls.c1) + ")</span> " +
        "<span class=\"key curv-key-band\">|φ′| ≤ c₂|φ′(0)| (c₂ = " + num(ls.c2) + ")</span>" +
        "</p>";
    } else if (ls && r >= ls.slices.length) {
      html += "<p class=\"curv-note\">The line search's slice is kept for the first " +
        ls.slice_steps + " steps.</p>";
    }
    html += "<p class=\"curv-note curv-model-note\">The first chart: the model m(p) = f + gᵀp + ½pᵀ" + M + "p " +
      "around θ, equal scale: <span class=\"key curv-key-level\">its level set through " +
      "θ</span>, <span class=\"key curv-key-axis\">" + M + "'s eigenvectors</span> through " +
      "its centre, where the Newton step lands" + (s ? "; the second: φ(t) and the trials" : "") +
      ".</p>";
    box.innerHTML = "<div class=\"curv-text\">" + html + "</div><div class=\"curv-charts\">" +
      "</div>";
    var charts = box.querySelector(".curv-charts");
    charts.appendChild(modelView(c, r, taken));
    if (s) charts.appendChild(sliceView(ls, s));
    box.hidden = false;
  }

  R.on("step", show);
  R.on("trace", function () { show(R.step); });

  // ----- on the map: the level set, the Newton point and the trials ------------------------

  var drawn = [];  // the trial points last drawn on the map (for tests: use("curvature"))
  R.on("mapdraw", function (on) {
    drawn = [];
    var c = data(), d = R.trace && R.trace.data, k = on.k;
    if (!c || !d || R.visible[R.trace.index] === false || k >= d.gradient.length) return;
    var ctx = on.ctx, here = d.path[k], big = R.presenting;
    var at = function (p) { return on.toPx(here[0] + p[0], here[1] + p[1]); };
    var reach = Math.max(Math.abs(on.ctx.canvas.width / on.sx),
                         Math.abs(on.ctx.canvas.height / on.sy));
    ctx.save();
    ctx.lineWidth = big ? 3 : 2;
    ctx.strokeStyle = COLOR.level;
    ctx.setLineDash([]);
    levelSet(c, k, reach).forEach(function (run) {
      ctx.beginPath();
      run.forEach(function (p, i) {
        var q = at(p);
        if (i === 0) ctx.moveTo(q[0], q[1]); else ctx.lineTo(q[0], q[1]);
      });
      ctx.stroke();
    });
    if (c.newton_step[k]) {
      var n = at(c.newton_step[k]);
      ctx.beginPath();
      ctx.arc(n[0], n[1], big ? 9 : 6, 0, 2 * Math.PI);
      ctx.fillStyle = "white";
      ctx.fill();
      ctx.lineWidth = big ? 4 : 2.5;
      ctx.strokeStyle = COLOR.newton;
      ctx.stroke();
    }
    // The line search's trials at this step, where it evaluated them (small, numbered).
    var ls = c.line_search, s = ls && k < ls.slices.length ? ls.slices[k] : null;
    if (s) {
      var dir = ls.direction === "−g" ? [-d.gradient[k][0], -d.gradient[k][1]]
        : [d.path[k + 1][0] - here[0], d.path[k + 1][1] - here[1]];
      ctx.font = (big ? 18 : 12) + "px sans-serif";
      s.trials.forEach(function (t, i) {
        var q = at([t * dir[0], t * dir[1]]);
        ctx.beginPath();
        ctx.arc(q[0], q[1], big ? 7 : 4.5, 0, 2 * Math.PI);
        ctx.fillStyle = i === s.trials.length - 1 ? COLOR.trial : "white";
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = "#111";
        ctx.stroke();
        ctx.fillStyle = "#111";
        ctx.fillText(String(i + 1), q[0] + (big ? 9 : 6), q[1] - (big ? 9 : 6));
      });
      drawn = s.trials.map(function (t) {
        return [here[0] + t * dir[0], here[1] + t * dir[1]];
      });
    }
    ctx.restore();
  });

  R.provide("curvature", {levelSet: levelSet, trials: function () { return drawn; }});
})();
