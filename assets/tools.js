/*
 * Optimizer Race: the page's state in its URL, presentation mode, export and the step
 * inspector. Everything here works on the race already in the browser (assets/playback.js),
 * or asks the API for what needs full precision (exports, the inspector's trace).
 *
 * The URL always describes the page: the server reads ``race`` and ``lesson`` to build it;
 * the rest (step, zoom, view, inspected racer, presentation, hidden groups) is restored here.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  // Control groups a course page may hide in an embed (?hide=settings,racers).
  var HIDEABLE = ["header", "lessons", "caption", "toolbar", "charts", "playback", "settings",
                  "racers", "controls", "analysis"];
  var ANALYSES = ["sweep", "starts"];
  var query = new URLSearchParams(window.location.search);
  var root = document.documentElement;
  // What only this script keeps; the page's shared settings (view, analysis, inspect,
  // presenting) live on R and change through R.set.
  var state = {
    lesson: query.get("lesson"),
    beat: /^\d{1,2}$/.test(query.get("beat") || "") ? query.get("beat") : "",
    hide: (query.get("hide") || "").split(",").filter(function (name, i, all) {
      return HIDEABLE.indexOf(name) >= 0 && all.indexOf(name) === i;
    }),
    analysisPending: ANALYSES.indexOf(query.get("analysis")) >= 0,
    // A link to an auto-tuned race names the criterion; the server checks the claim.
    tuned: /^[a-z_]{1,20}$/.test(query.get("tuned") || "") ? query.get("tuned") : "",
    syncTimer: null,
  };
  R.set("view", query.get("view") === "3d" ? "3d" : "2d");
  R.set("analysis", ANALYSES.indexOf(query.get("analysis")) >= 0 ? query.get("analysis") : "");
  R.set("inspect", /^\d{1,3}$/.test(query.get("inspect") || "") ? query.get("inspect") : "");
  state.hide.forEach(function (name) { root.classList.add("hide-" + name); });
  if (/^\d{1,5}$/.test(query.get("step") || "")) R.pending.step = Number(query.get("step"));
  var zoom = ["x", "y"].map(function (axis) {
    var parts = (query.get(axis) || "").split(",").map(Number);
    return parts.length === 2 && parts.every(isFinite) && parts[0] < parts[1] ? parts : null;
  });
  if (zoom[0] && zoom[1]) R.pending.view = {x: zoom[0], y: zoom[1]};

  function byId(name) { return R.el(name); }

  function announce(text) {
    var el = byId("TOOL_STATUS");
    if (el) el.textContent = text;
  }

  function api(path, params) {
    var q = new URLSearchParams(params);
    return "/api/" + path + "?" + q.toString();
  }

  function position(index) {
    return R.race ? R.race.order.indexOf(String(index)) : -1;
  }

  // ----- the URL -------------------------------------------------------------------------

  function rounded(range) {
    return range.map(function (v) { return Number(Number(v).toPrecision(6)); }).join(",");
  }

  function currentQuery() {
    var q = new URLSearchParams();
    if (state.lesson) q.set("lesson", state.lesson);
    if (state.lesson && state.beat) q.set("beat", state.beat);
    if (R.race && R.race.share) q.set("race", R.race.share);
    // Each racer's card index (its colour, marker and pattern), where it is not 0, 1, 2, …:
    // a race whose first racers were removed reopened with the others' colours changed.
    var slots = R.race ? R.race.order.join(".") : "";
    if (R.race && slots !== R.race.order.map(function (k, i) { return i; }).join(".")) {
      q.set("slots", slots);
    }
    if (R.step > 0) q.set("step", String(R.step));
    var gd = R.graph(R.ids.RACE_GRAPH);
    if (gd && gd.layout && gd.layout.xaxis && R.surface) {
      var x = gd.layout.xaxis.range, y = gd.layout.yaxis.range, view = R.surface.view;
      if (x && y && (rounded(x) !== rounded(view[0]) || rounded(y) !== rounded(view[1]))) {
        q.set("x", rounded(x));
        q.set("y", rounded(y));
      }
    }
    if (R.view === "3d") q.set("view", "3d");
    if (R.analysis) q.set("analysis", R.analysis);
    if (R.tuned && R.race && R.tuned.share === R.race.share) q.set("tuned", R.tuned.criterion);
    if (R.inspect !== "") q.set("inspect", R.inspect);
    if (R.presenting) q.set("present", "1");
    if (state.hide.length) q.set("hide", state.hide.join(","));
    return q.toString();
  }

  function syncUrl() {
    // Coalesced: a burst of changes (a drag, a scrub) writes the address once.
    if (state.syncTimer) return;
    state.syncTimer = window.setTimeout(function () {
      state.syncTimer = null;
      // Until the race is here the address is the link itself: Dash's renderer reads the
      // race it asks for from the address (as the Referer of /_dash-layout), so a ?present=1
      // link written over before that opened the opening race. The race's arrival syncs.
      if (!R.race) return;
      window.history.replaceState(null, "", "?" + currentQuery());
      // Before Dash's renderer is up (a link's settings applied as the page loads) there is
      // no box to fill yet: the race's arrival syncs again.
      var dash = window.dash_clientside;
      if (dash && dash.set_props && R.el("SHARE_LINK")) {
        dash.set_props(R.ids.SHARE_LINK, {value: window.location.href});
      }
    }, 120);
  }
  // The address follows every shared setting, and the map's zoom and pan.
  ["mapview", "view", "analysis", "inspect", "tuned", "presenting"].forEach(function (name) {
    R.on(name, syncUrl);
  });

  function copyText(text, done) {
    var fallback = function () {
      var box = document.createElement("textarea");
      box.value = text;
      document.body.appendChild(box);
      box.select();
      var ok = document.execCommand && document.execCommand("copy");
      box.remove();
      announce(ok ? done : "Select the text and copy it (Ctrl+C).");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { announce(done); }, fallback);
    } else {
      fallback();
    }
  }

  // ----- presentation mode ---------------------------------------------------------------

  function presentButton() {
    var button = byId("PRESENT_BUTTON");
    if (button) {
      button.setAttribute("aria-pressed", R.presenting ? "true" : "false");
      button.textContent = R.presenting ? "Leave presentation" : "Present";
    }
  }

  R.on("presenting", function (on) {
    root.classList.toggle("presenting", on);
    presentButton();
    // Larger type in the plots, and the plots resized to their new boxes.
    [R.ids.RACE_GRAPH, R.ids.LOSS_GRAPH, R.ids.LR_GRAPH].forEach(function (id) {
      var gd = R.graph(id);
      if (gd && window.Plotly && gd._fullLayout) {
        window.Plotly.relayout(gd, R.layoutSize());
        window.Plotly.Plots.resize(gd);
      }
    });
    if (R.race) R.render();
  });
  R.set("presenting", query.get("present") === "1");

  // ----- export --------------------------------------------------------------------------

  function exportLinks() {
    var share = R.race && R.race.share;
    var json = byId("EXPORT_JSON");
    if (!share || !json) return;
    json.setAttribute("href", api("export", {race: share, format: "json"}));
    json.setAttribute("download", "race.json");
    var list = byId("EXPORT_CSV");
    if (!list) return;
    list.textContent = "";
    R.racers.forEach(function (r, i) {
      var link = document.createElement("a");
      link.href = api("export", {race: share, format: "csv", racer: String(i)});
      link.setAttribute("download", "racer-" + (i + 1) + ".csv");
      link.textContent = r.label + " as CSV";
      link.className = "export-racer";
      list.appendChild(link);
    });
  }

  function download(blob, name) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  function exportPng() {
    // Plotly's image of the map, with the trails and heads of the canvas overlay on top.
    var gd = R.graph(R.ids.RACE_GRAPH);
    if (!gd || !window.Plotly) return;
    var fl = gd._fullLayout, scale = 2;
    var overlay = gd.parentElement.querySelector("canvas.race-overlay");
    window.Plotly.toImage(gd, {format: "png", width: fl.width, height: fl.height, scale: scale})
      .then(function (url) {
        var img = new Image();
        img.onload = function () {
          var canvas = document.createElement("canvas");
          canvas.width = fl.width * scale;
          canvas.height = fl.height * scale;
          var ctx = canvas.getContext("2d");
          ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
          if (overlay) {
            // The overlay covers the axes' own area (equal aspect may leave it inside _size).
            var xa = fl.xaxis, ya = fl.yaxis;
            ctx.drawImage(overlay, xa._offset * scale, ya._offset * scale,
                          xa._length * scale, ya._length * scale);
          }
          R.set("exported", canvas);
          canvas.toBlob(function (blob) {
            download(blob, "optimizer-race.png");
            announce("Figure saved as PNG.");
          });
        };
        img.src = url;
      });
  }

  function showCode(index) {
    var share = R.race && R.race.share, pos = position(index);
    var dialog = byId("CODE_DIALOG"), text = byId("CODE_TEXT");
    if (!share || pos < 0 || !dialog || !text) return;
    fetch(api("export", {race: share, format: "pytorch", racer: String(pos)}))
      .then(function (response) {
        return response.ok ? response.text() : response.json().then(function (body) {
          return "# " + (body.error || "This racer cannot be exported.");
        });
      })
      .then(function (code) {
        text.textContent = code;
        dialog.dataset.racer = String(index);
        if (!dialog.open) dialog.showModal();
      });
  }

  // ----- the step inspector --------------------------------------------------------------

  var ARROW = {gradient: "#000000", moment: "#D55E00", step: "#ffffff"};
  // Okabe–Ito: SAM's probe reddish purple, Shampoo's preconditioner ellipse blue.
  var PROBE = "#CC79A7", ELLIPSE = "#0072B2";

  function inspectOptions() {
    var select = byId("INSPECT_SELECT");
    if (!select) return;
    var keep = R.inspect;
    select.textContent = "";
    var off = document.createElement("option");
    off.value = "";
    off.textContent = "off";
    select.appendChild(off);
    R.racers.forEach(function (r) {
      var option = document.createElement("option");
      option.value = String(r.index);
      option.textContent = r.label;
      select.appendChild(option);
    });
    if (keep !== "" && position(keep) < 0) keep = "";
    select.value = keep;
    R.set("inspect", keep);
  }

  function loadTrace() {
    var panel = byId("INSPECT_PANEL");
    var index = R.inspect, share = R.race && R.race.share;
    if (index === "" || !share || position(index) < 0) {
      R.set("trace", null);
      if (panel) panel.hidden = true;
      if (R.race) R.render();
      return;
    }
    var wanted = share + "#" + index;
    if (R.trace && R.trace.key === wanted) { inspectPanel(R.step); return; }
    fetch(api("inspect", {race: share, racer: String(position(index))}))
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || R.inspect !== index || !R.race || R.race.share !== share) return;
        R.set("trace", {key: wanted, index: Number(index), data: data});
        R.render();
      });
  }

  // What a state row means, where its name alone does not say (the racers of issue 18).
  var STATE_NOTES = {
    y: "y (gradient taken here)",
    z: "z (base sequence)",
    x: "x (average: the point drawn)",
    hessian_moment: "curvature estimate h",
    hessian: "last curvature sample ĥ",
    clipped: "clipped (step ±lr·p)",
    d: "d (Prodigy's estimate)",
    d_lr: "rate d·lr",
    trust_ratio: "trust ratio φ",
    weight_norm: "‖θ‖ (clamped to 10)",
    sam_point: "θ (gradient asked here)",
    sam_probe: "SAM probe θ+e (gradient taken here)",
    sam_e: "SAM's perturbation e",
    L_row_1: "L = εI + Σggᵀ, row 1",
    L_row_2: "L, row 2",
    L_eigenvalues: "eigenvalues of L",
    P_eigenvalues: "L⁻½ semi-axes (λ⁻½ of L)",
    P_axis_1: "L⁻½ long axis",
    P_axis_2: "L⁻½ short axis",
    // Every other row an optimizer's trace has, in words (issue 25: raw names such as m_hat
    // and bias_correction1 were shown).
    buf: "momentum buffer b",
    momentum_buffer: "momentum buffer b",
    sum: "sum of squared gradients Σg²",
    square_avg: "running mean of g²",
    acc_delta: "running mean of Δθ²",
    effective_lr: "rate per coordinate",
    m: "first moment m (mean of g)",
    v: "second moment v (mean of g²)",
    u: "u (decayed largest |g|)",
    m_hat: "m̂ = m/(1 − β1ᵗ)",
    v_hat: "v̂ = v/(1 − β2ᵗ)",
    bias_correction1: "bias correction 1 − β1ᵗ",
    bias_correction2: "bias correction 1 − β2ᵗ",
    s: "s (Prodigy's weighted sum of g)",
    x0: "θ₀ (the start)",
    direction: "direction of the step",
    prev_grad: "previous gradient"
  };
  // A name two optimizers use for different things, by optimizer.
  var STATE_NOTES_OF = {lbfgs: {d: "search direction d"}};
  // One line under the table on what a row means, for the rows a student cannot guess.
  var ROW_EXPLAINED = {
    trust_ratio: {
      lamb: "Step length ∝ ‖θ‖: the trust ratio φ = min(‖θ‖, 10)/‖u‖ rescales Adam's " +
        "direction u to length min(‖θ‖, 10), and the step size lr/(1 − β1ᵗ) carries the bias " +
        "correction: each step is lr·min(‖θ‖, 10)/(1 − β1ᵗ) long whatever the gradient's " +
        "size (lr·‖θ‖ once the correction has faded).",
      lars: "Step length ∝ ‖θ‖: the trust ratio φ = tc·‖θ‖/(‖g‖ + λ‖θ‖) rescales the " +
        "gradient, so each step is about lr·tc·‖θ‖ long whatever the gradient's size."
    },
    L_eigenvalues: {
      shampoo: "The step is lr·L⁻½g: the ellipse on the map is where L⁻½ sends " +
        "unit gradients (long axis: the direction gradients have been small in, stretched " +
        "most)."
    }
  };
  var DERIVED_ORDER = ["L_row_1", "L_row_2", "L_eigenvalues", "P_eigenvalues", "P_axis_1",
                       "P_axis_2"];
  // Rows whose values are yes/no flags (1 or 0) rather than numbers.
  var FLAGS = {clipped: true};

  function row(name, values, note) {
    // A scalar row (one number a step) is drawn as one cell.
    values = Array.isArray(values) ? values : [values];
    var cells = values.map(function (v) {
      var text = FLAGS[name] ? (v ? "yes" : "no") : R.fmt(v);
      return "<td data-value=\"" + String(v) + "\">" + text + "</td>";
    });
    while (cells.length < 2) cells.push("<td></td>");
    return "<tr data-name=\"" + name + "\"><th scope=\"row\">" + R.escapeHtml(note || name) +
      "</th>" + cells.join("") + "</tr>";
  }

  function inspectPanel(k) {
    var panel = byId("INSPECT_PANEL");
    if (!panel || !R.trace) return;
    var d = R.trace.data, r = k;  // row r is step k+1: the step that leaves x_k
    var racer = R.racers.filter(function (q) { return q.index === R.trace.index; })[0];
    panel.hidden = false;
    if (r >= d.gradient.length) {
      panel.innerHTML = "<p><strong>" + R.escapeHtml(racer ? racer.label : "") +
        "</strong>: no step leaves step " + k + " (the race ends or diverged here).</p>";
      return;
    }
    var next = d.path[r + 1], here = d.path[r];
    // Led by the step playback shows (it said "step 13 (from x12)" beside playback's 12).
    var html = "<p><strong>" + R.escapeHtml(racer ? racer.label : "") + "</strong> at " +
      "<span class=\"inspect-step\">step " + k + "</span>, and the update it makes next " +
      "(to step " + (r + 1) + "). Arrows: <span class=\"key key-gradient\">" +
      "−gradient</span> " +
      (d.moment ? "<span class=\"key key-moment\">−" + R.escapeHtml(d.moment) + "</span> " : "") +
      "<span class=\"key key-step\">step taken</span> (directions; sizes below)" +
      (d.sam ? "; <span class=\"key key-sam\">SAM probe θ+e</span>: where SAM took the " +
        "gradient this step used" : "") +
      (d.derived.P_axis_1 ? "; <span class=\"key key-ellipse\">L⁻½'s ellipse</span> " +
        "(shape only)" : "") + "</p>" +
      "<table class=\"inspect\"><thead><tr><th></th><th>x</th><th>y</th></tr></thead><tbody>";
    html += row("point", here, "point x");
    var noisy = R.racers.some(function (q) { return Boolean(q.fan); });  // a noisy race fans out
    html += row("gradient", d.gradient[r], noisy ? "gradient g (noise added)" : "gradient g");
    html += row("clip_factor", [d.clip_factor[r]], "clip factor");
    // An optimizer that estimates its own rate shows that (Prodigy: d·lr after the step).
    html += row("lr", [d.lr[r]], racer && racer.rate_name ? racer.rate_name + " after this step (its estimate)"
      : "learning rate");
    var notes = Object.assign({}, STATE_NOTES, STATE_NOTES_OF[d.optimizer] || {});
    Object.keys(d.state).forEach(function (name) {
      html += row(name, d.state[name][r], notes[name]);
    });
    // The API sends keys sorted; the inspector's own order reads better (Shampoo: L, then
    // its eigenvalues, then L⁻½'s ellipse).
    var order = function (name) { var i = DERIVED_ORDER.indexOf(name); return i < 0 ? 99 : i; };
    var names = Object.keys(d.derived).sort(function (a, b) { return order(a) - order(b); });
    names.forEach(function (name) {
      var v = d.derived[name][r];
      var same = Array.isArray(v) && v[0] === v[1] && /^bias/.test(name);
      html += row(name, same ? [v[0]] : v, notes[name]);
    });
    if (d.sam) {
      var at = d.sam.point[r], probe = d.sam.probe[r];
      html += row("sam_point", at, STATE_NOTES.sam_point);
      html += row("sam_probe", probe, STATE_NOTES.sam_probe);
      html += row("sam_e", [probe[0] - at[0], probe[1] - at[1]], STATE_NOTES.sam_e);
    }
    html += row("step", [next[0] - here[0], next[1] - here[1]], "step taken");
    html += "</tbody></table>";
    Object.keys(ROW_EXPLAINED).forEach(function (name) {
      var line = ROW_EXPLAINED[name][d.optimizer];
      if (line && d.derived[name]) {
        html += "<p class=\"inspect-note\" data-explains=\"" + name + "\">" +
          R.escapeHtml(line) + "</p>";
      }
    });
    panel.innerHTML = html;
  }

  function arrow(ctx, from, dx, dy, length, color, dash) {
    var norm = Math.sqrt(dx * dx + dy * dy);
    if (!(norm > 0)) return;
    var ux = dx / norm, uy = dy / norm;
    var tip = [from[0] + ux * length, from[1] + uy * length];
    ctx.save();
    ctx.setLineDash(dash);
    ctx.lineWidth = R.presenting ? 5 : 3;
    ctx.strokeStyle = "#111";
    ctx.beginPath(); ctx.moveTo(from[0], from[1]); ctx.lineTo(tip[0], tip[1]); ctx.stroke();
    ctx.lineWidth = R.presenting ? 3 : 1.5;
    ctx.strokeStyle = color;
    ctx.stroke();
    ctx.setLineDash([]);
    var head = R.presenting ? 16 : 10;
    ctx.beginPath();
    ctx.moveTo(tip[0], tip[1]);
    ctx.lineTo(tip[0] - head * (ux - uy * 0.5), tip[1] - head * (uy + ux * 0.5));
    ctx.lineTo(tip[0] - head * (ux + uy * 0.5), tip[1] - head * (uy - ux * 0.5));
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.fill();
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 1;
    ctx.stroke();
    ctx.restore();
  }

  R.on("mapdraw", function (on) {
    // Arrows from the racer's point x_k: their directions on the map, at fixed lengths
    // (the panel gives the sizes, which span many orders of magnitude).
    var ctx = on.ctx, toPx = on.toPx, k = on.k, sx = on.sx, sy = on.sy;
    drawn = {probe: null, ellipse: null};
    if (!R.trace || R.visible[R.trace.index] === false) return;
    var d = R.trace.data;
    if (k >= d.gradient.length) return;
    var here = d.path[k], next = d.path[k + 1], from = toPx(here[0], here[1]);
    var toward = function (v) { return [-v[0] * sx, v[1] * sy]; };  // −v, in pixels
    var length = R.presenting ? 110 : 70;
    var g = toward(d.gradient[k]);
    arrow(ctx, from, g[0], g[1], length, ARROW.gradient, [8, 5]);
    if (d.moment) {
      var m = toward(d.state[d.moment][k]);
      arrow(ctx, from, m[0], m[1], length * 0.85, ARROW.moment, [3, 3]);
    }
    var s = toward([here[0] - next[0], here[1] - next[1]]);
    arrow(ctx, from, s[0], s[1], length * 0.7, ARROW.step, []);
    if (d.derived.P_axis_1) drawn.ellipse = ellipse(on, from, d, k, length);
    if (d.sam) drawn.probe = samProbe(on, d.sam.point[k], d.sam.probe[k]);
  });

  // What the map last drew at the inspected step (data coordinates), for the browser tests.
  var drawn = {probe: null, ellipse: null};

  function label(ctx, at, gap, body) {
    // Beside ``at`` (``gap`` pixels right and below), or to its left where the text would
    // run off the map's right edge; never above or below the map.
    var size = R.presenting ? 18 : 13, ratio = window.devicePixelRatio || 1;
    ctx.font = size + "px sans-serif";
    var width = ctx.measureText(body).width;
    var right = ctx.canvas.width / ratio, bottom = ctx.canvas.height / ratio;
    var x = at[0] + gap + width + 2 > right ? at[0] - gap - width : at[0] + gap;
    var y = Math.max(size, Math.min(at[1] + gap + size * 0.8, bottom - 4));
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
    ctx.strokeText(body, Math.max(2, x), y);
    ctx.fillStyle = "#111";
    ctx.fillText(body, Math.max(2, x), y);
  }

  function samProbe(on, point, probe) {
    // SAM's θ + e, joined to θ (where the step asked for its gradient) by a dotted line.
    var ctx = on.ctx, a = on.toPx(point[0], point[1]), b = on.toPx(probe[0], probe[1]);
    var size = R.presenting ? 9 : 6;
    ctx.save();
    ctx.setLineDash([2, 3]);
    ctx.lineWidth = R.presenting ? 3 : 2;
    ctx.strokeStyle = "#111";
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();  // a diamond, unlike the racers' round markers
    ctx.moveTo(b[0], b[1] - size); ctx.lineTo(b[0] + size, b[1]);
    ctx.lineTo(b[0], b[1] + size); ctx.lineTo(b[0] - size, b[1]);
    ctx.closePath();
    ctx.fillStyle = PROBE;
    ctx.fill();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#111";
    ctx.stroke();
    label(ctx, b, size + 3, "SAM probe θ+e");
    ctx.restore();
    return {point: point, probe: probe, px: b};
  }

  function ellipse(on, from, d, k, length) {
    // Shampoo's L⁻½: the image of the unit circle (semi-axes its eigenvalues along its
    // eigenvectors), drawn about the racer through the curvature view's level-set code, with
    // the long semi-axis ``length`` pixels: its shape and turn, not its size.
    var lam = d.derived.P_eigenvalues[k], axes = [d.derived.P_axis_1[k], d.derived.P_axis_2[k]];
    var curvature = R.use("curvature");
    if (!curvature || !(lam[0] > 0 && lam[1] > 0)) return null;
    // λ₁u₁² + λ₂u₂² = 1 with λ = p⁻² has semi-axes p.
    var run = curvature.levelSet({level_set: ["ellipse"], level: [1], newton_step: [[0, 0]],
                                  eigenvalues: [[1 / (lam[0] * lam[0]), 1 / (lam[1] * lam[1])]],
                                  eigenvectors: [axes]}, 0, 0)[0];
    if (!run) return null;
    var big = Math.max.apply(null, run.map(function (p) {
      return Math.hypot(p[0] * on.sx, p[1] * on.sy);
    }));
    if (!(big > 0 && isFinite(big))) return null;
    var scale = length / big, ctx = on.ctx;
    ctx.save();
    ctx.lineWidth = R.presenting ? 4 : 2.5;
    ctx.strokeStyle = ELLIPSE;
    ctx.setLineDash([]);
    ctx.beginPath();
    run.forEach(function (p, i) {
      var x = from[0] + p[0] * on.sx * scale, y = from[1] - p[1] * on.sy * scale;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    var tip = [from[0] + axes[0][0] * lam[0] * on.sx * scale,
               from[1] - axes[0][1] * lam[0] * on.sy * scale];
    label(ctx, tip, 6, "L⁻½");
    ctx.restore();
    return {semi_axes: lam, axes: axes};
  }

  // On a laptop an open inspector takes the side column's charts' place (assets/laptop.css),
  // so the map keeps its size: where the charts begin, below the quick controls and the
  // ranking; with a ranking so long that this leaves under 55% of the stage, from 45% down.
  function placeInspector() {
    var stage = document.querySelector(".stage");
    var charts = stage && stage.querySelector(".side .charts");
    if (!charts) return;
    var height = stage.clientHeight;
    var at = charts.getClientRects().length
      ? charts.getBoundingClientRect().top - stage.getBoundingClientRect().top : height;
    var value = Math.round(Math.min(at, 0.45 * height)) + "px";
    if (stage.style.getPropertyValue("--inspect-top") !== value) {
      stage.style.setProperty("--inspect-top", value);
    }
  }
  R.on("trace", placeInspector);
  window.addEventListener("resize", placeInspector);
  if (window.ResizeObserver) {
    var chartsObserver = new window.ResizeObserver(placeInspector);
    R.on("load", function () {
      var charts = document.querySelector(".stage .side .charts");
      if (charts && !charts.__inspectObserved) {
        charts.__inspectObserved = true;
        chartsObserver.observe(charts);
      }
    });
  }

  // ----- events from playback.js ---------------------------------------------------------

  R.provide("inspector", {drawn: function () { return drawn; }});

  R.on("load", function () {
    presentButton();  // a ?present=1 link: the button says which mode the page is in
    if (state.analysisPending) {
      // A link opened with the sweep or many-starts view: open it once the race is here.
      state.analysisPending = false;
      window.dash_clientside.set_props(R.ids.ANALYSIS_SELECT, {value: R.analysis});
    }
    if (state.tuned) {
      window.dash_clientside.set_props(R.ids.TUNE_CLAIM, {data: {criterion: state.tuned}});
      state.tuned = "";
    }
    exportLinks();
    inspectOptions();
    loadTrace();
    syncUrl();
  });

  // The address follows the step: once a second while playing (a link copied from the
  // address bar mid-race opens there; Chromium refuses more than 200 writes in 10 s), and
  // exactly when playback stops.
  var PLAYING_SYNC_MS = 1000, playingSyncedAt = -Infinity;
  R.on("step", function (k) {
    inspectPanel(k);
    if (!R.playing) { syncUrl(); return; }
    var now = performance.now();
    if (now - playingSyncedAt >= PLAYING_SYNC_MS) {
      playingSyncedAt = now;
      syncUrl();
    }
  });

  // ----- events --------------------------------------------------------------------------

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.name === R.ids.ANALYSIS_SELECT) {
      R.set("analysis", ANALYSES.indexOf(t.value) >= 0 ? t.value : "");
    } else if (t && t.id === R.ids.INSPECT_SELECT) {
      R.set("inspect", t.value);
      loadTrace();
    }
  });

  R.action("present", function () { R.set("presenting", !R.presenting); });
  R.action("copy-link", function () { copyText(window.location.href, "Link copied."); });
  R.action("png", exportPng);
  R.action("pytorch", function (target) { showCode(target.getAttribute("data-index")); });
  R.action("copy-code", function () { copyText(byId("CODE_TEXT").textContent, "Code copied."); });
  R.action("close-code", function () { byId("CODE_DIALOG").close(); });

  function togglePresenting(event) {
    event.preventDefault();
    R.set("presenting", !R.presenting);
  }
  R.key("p", togglePresenting);
  R.key("P", togglePresenting);
  R.key("Escape", function () { if (R.presenting) R.set("presenting", false); });
})();
