/*
 * Optimizer Race: a lesson's beat on the page. The index page carries the beat's settings
 * (a JSON block, layouts/page.py beat_block); a beat is a page load, so its link holds it.
 *
 * Before assets/tools.js reads the address, the beat's view settings that the address can
 * hold (zoom, 3-D, the open view, the inspected racer) are written into it where the link
 * does not already say otherwise: a beat then opens exactly as its share link would, and the
 * link the page shows reopens it. The rest is applied once the race is here: playback starts
 * at the beat's first step and stops at its last (R.stopAt), the speed, hidden racers, the
 * racers it points at (R.highlight: the map fades the rest), what the lower chart shows, points
 * marked on the map, and a measure under the caption (distance to a marked point); a view
 * the beat opens is scrolled to once it is drawn.
 * In Present, a clicker's PageDown (or →) plays the beat to its step, then goes on to the next
 * beat (after the last, the next lesson); PageUp (or ←) goes back a beat. While a question is
 * open (predict first) PageDown does not play: see assets/predict.js.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var block = R.el("LESSON_BEAT");
  if (!block) return;
  var beat;
  try { beat = JSON.parse(block.textContent); } catch (e) { return; }

  var query = new URLSearchParams(window.location.search);
  var linked = query.has("race");  // a link written by the page: it already says how to look
  function put(key, value) {
    if (!linked && !query.has(key) && value !== null && value !== undefined) {
      query.set(key, String(value));
    }
  }
  if (beat.zoom) {
    put("x", beat.zoom[0].join(","));
    put("y", beat.zoom[1].join(","));
  }
  if (beat.view === "3d") put("view", "3d");
  if (beat.view === "sweep" || beat.view === "starts") put("analysis", beat.view);
  if (beat.inspect !== null) put("inspect", beat.inspect);
  if (beat.play_from) put("step", beat.play_from);
  window.history.replaceState(null, "", "?" + query.toString());

  R.highlight = beat.highlight.slice();

  // Playing stops where the beat's observation is (once; Play again goes on to the end).
  var first = beat.play_from || 0;
  if (beat.step !== null && beat.step > first && !query.has("step")) R.stopAt = beat.step;

  // A beat's link ("?lesson=…&beat=…") as this page shows it: presenting, and a student view
  // stays one.
  function asShown(link) {
    var next = new URLSearchParams(link.slice(1));
    if (R.presenting) next.set("present", "1");
    var hide = query.get("hide");
    if (hide) next.set("hide", hide);
    return "?" + next.toString();
  }
  // After the last beat, the next lesson (layouts/page.py next_lesson).
  function nextLesson() {
    var link = document.querySelector(".beat-nav a.next-lesson");
    return link ? link.getAttribute("href") : null;
  }
  function go(delta) {
    var target = delta > 0 ? beat.next || nextLesson() : beat.previous;
    if (!target) return false;
    window.location.assign(asShown(target));
    return true;
  }
  // A clicker's one button drives the lesson: the first press plays the beat to where its
  // caption looks, the next goes on to the next beat. False: nothing left, the keys step.
  function stop() { return beat.step === null ? R.steps : Math.min(beat.step, R.steps); }
  function playToStop() {
    if (R.playing || R.step >= stop()) return false;
    // Stop there again: after a step back, playing on had run past the beat's step.
    if (beat.step !== null) R.stopAt = stop();
    var play = R.el("PLAY_BUTTON");
    if (play) play.click();
    return true;
  }
  function key(delta) {
    if (delta < 0) return go(-1);
    // A question still open (assets/predict.js): the clicker does not play the race before
    // the class has chosen; its first press brings Reveal forward, the next reveals.
    var predict = R.use("predict");
    if (predict && predict.hold()) return true;
    if (R.playing || playToStop()) return true;
    return go(1);
  }
  R.provide("beats", {go: go, key: key, beat: beat});
  R.action("beat-next", function (el, event) { if (go(1)) event.preventDefault(); });
  R.action("beat-back", function (el, event) { if (go(-1)) event.preventDefault(); });
  // The caption's "Play to step N" (layouts/page.py play_to): shown until the map is there.
  R.action("beat-play", function (el, event) { event.preventDefault(); playToStop(); });
  R.on("step", function (k) {
    var button = document.querySelector(".beat-play");
    if (button) button.hidden = k >= stop() || R.playing;
  });

  // ----- a measure under the caption -------------------------------------------------------

  var measurePoint = beat.marks.length ? beat.marks[0] : [0, 0, "origin"];

  function distanceText(k) {
    var parts = R.racers.filter(function (r) { return R.visible[r.index] !== false; })
      .map(function (r) {
        var i = Math.min(k, r.x.length - 1);
        var d = Math.hypot(r.x[i] - measurePoint[0], r.y[i] - measurePoint[1]);
        return R.shortLabel(r.label) + " " + R.fmt(d);
      });
    return "Distance from the " + measurePoint[2].split(":")[0] + " at step " + k + ": " +
      parts.join(" · ");
  }

  function showMeasure(k) {
    var el = document.querySelector(".beat-measure");
    if (!el || beat.measure !== "distance") return;
    el.textContent = distanceText(k);
  }

  // ----- marks on the map ------------------------------------------------------------------

  R.on("mapdraw", function (on) {
    if (!beat.marks.length) return;
    var ctx = on.ctx;
    ctx.save();
    ctx.font = (R.presenting ? 20 : 14) + "px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    beat.marks.forEach(function (mark) {
      var p = on.toPx(mark[0], mark[1]);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#000";
      ctx.beginPath();
      ctx.moveTo(p[0] - 9, p[1]); ctx.lineTo(p[0] + 9, p[1]);
      ctx.moveTo(p[0], p[1] - 9); ctx.lineTo(p[0], p[1] + 9);
      ctx.stroke();
      // The label beside the mark, on whichever side keeps it inside the map.
      var width = ctx.measureText(mark[2]).width, room = ctx.canvas.clientWidth;
      var left = p[0] + 12 + width > room && p[0] - 12 - width >= 0;
      var x = left ? p[0] - 12 - width : Math.max(2, Math.min(p[0] + 12, room - width - 2));
      var y = p[1] - 12 < 12 ? p[1] + 16 : p[1] - 12;
      ctx.lineWidth = 4;
      ctx.strokeStyle = "#fff";
      ctx.strokeText(mark[2], x, y);
      ctx.fillStyle = "#000";
      ctx.fillText(mark[2], x, y);
    });
    ctx.restore();
  });

  // ----- once the race is here -------------------------------------------------------------

  var applied = false;
  R.on("load", function () {
    if (!applied) {
      applied = true;
      if (beat.speed !== 1) {
        window.dash_clientside.set_props(R.ids.SPEED_SELECT, {value: beat.speed});
      }
      if (beat.chart) {
        window.dash_clientside.set_props(R.ids.LOWER_CHART, {value: beat.chart});
        // In Present the beat's chart takes the loss chart's place (assets/style.css): the
        // caption is about it, and Present has room for one chart.
        document.documentElement.classList.add("beat-chart");
      }
      if (beat.loss_axis !== "step") {
        // A beat read off the work clock: the loss chart by work.
        window.dash_clientside.set_props(R.ids.LOSS_AXIS, {value: beat.loss_axis});
      }
      if (beat.loss_axis !== "step" || beat.reads.indexOf("loss_chart") >= 0) {
        // A beat read off the loss chart (by work, or a claim such as "then jitters just
        // above it": lessons/beats.py's reads): in Present the chart gets the quick sliders'
        // room (assets/style.css), where three racers left it none.
        document.documentElement.classList.add("beat-loss");
        window.dispatchEvent(new Event("resize"));
      }
      beat.hidden.forEach(function (index) {
        window.dash_clientside.set_props(R.partId("RACER_VISIBLE", index), {value: []});
      });
      var caption = R.el("LESSON_CAPTION");
      if (caption && beat.measure === "distance" && !caption.querySelector(".beat-measure")) {
        var line = document.createElement("span");
        line.className = "beat-measure";
        line.setAttribute("aria-live", "off");
        caption.insertBefore(line, caption.querySelector(".beat-nav"));
      }
    }
    showMeasure(R.step);
    showChanged();
  });
  R.on("step", showMeasure);

  // ----- a race the person changed ---------------------------------------------------------
  // The caption describes the beat's own race; once a rate, an optimizer or the start is
  // changed (a slider touched by mistake as much as on purpose) it may no longer hold, and the
  // caption says so, with the way back. Changing it back takes the note away.
  var opened = null;

  function showChanged() {
    if (!R.race) return;
    if (opened === null) opened = R.race.share;
    var caption = R.el("LESSON_CAPTION"), note = caption && caption.querySelector(".beat-changed");
    if (!caption) return;
    if (R.race.share === opened) {
      if (note) note.remove();
      return;
    }
    if (note) return;
    note = document.createElement("span");
    note.className = "beat-changed";
    note.setAttribute("role", "status");
    note.innerHTML = "<span class=\"beat-changed-why\">You changed this beat's race; the " +
      "caption is about its own. </span><a>↺ Back to the beat's race</a>";
    note.querySelector("a").setAttribute("href", asShown(beat.self));
    // First in the beat links' row (in Present only the link shows, on that row).
    var nav = caption.querySelector(".beat-nav");
    if (nav) nav.insertBefore(note, nav.firstChild); else caption.appendChild(note);
  }

  // A beat that opens a view is about what the view shows: once it is drawn, bring it on
  // screen: below the race on a laptop or a phone it is scrolled to; Present has no room
  // below the race, so the view's chart is drawn beside the map instead of the loss chart.
  // Many starts also bring their table, the chart's colour key with each basin's count (a
  // caption quotes them: "8 end in the narrow well, 56 in the wide one").
  var VIEWS = {sweep: ["SWEEP_PANEL", "SWEEP_GRAPH", null],
               starts: ["STARTS_PANEL", "STARTS_GRAPH", "STARTS_SUMMARY"]};

  // The many-starts table cut to what fits a third of a projector: each group's swatch (and
  // ★ for a basin), where it ends (a basin's point, or "still moving", "diverged") and its runs.
  function compactKey(summary) {
    var table = summary.querySelector("table");
    if (!table) return "";
    var rows = Array.prototype.map.call(table.tBodies[0] ? table.tBodies[0].rows : [],
      function (tr) {
        var first = tr.cells[0], swatch = first.querySelector(".swatch");
        var star = first.querySelector(".basin-star") ? "★ " : "";
        var where = star ? tr.cells[1].textContent : first.textContent.trim();
        return "<tr><td>" + (swatch ? swatch.outerHTML : "") + star + R.escapeHtml(where) +
          "</td><td>" + R.escapeHtml(tr.cells[3].textContent) + "</td></tr>";
      });
    return "<table><thead><tr><th>ends at</th><th>runs</th></tr></thead><tbody>" +
      rows.join("") + "</tbody></table>";
  }

  function besideTheMap(view) {
    var source = R.graph(R.ids[VIEWS[view][1]]), side = document.querySelector(".side");
    if (!source || !side || !window.Plotly) return;
    var holder = side.querySelector(".beat-view"), box, key;
    if (!holder) {
      holder = document.createElement("div");
      holder.className = "beat-view";
      holder.innerHTML = "<div class=\"beat-view-chart\"></div><div class=\"beat-view-key\"></div>";
      side.appendChild(holder);
    }
    box = holder.querySelector(".beat-view-chart");
    key = holder.querySelector(".beat-view-key");
    var table = VIEWS[view][2] && R.el(VIEWS[view][2]);
    key.innerHTML = table ? compactKey(table) : "";
    // The side is narrow: no legend (the key under the map names the racers in the same
    // colours and lines); the type as small as the back row still reads (16 px), and each
    // axis makes room for its tick labels and title.
    var layout = Object.assign({}, source.layout, {
      autosize: true, height: null, width: null,
      font: Object.assign({}, source.layout.font, {size: 16}),
      showlegend: false,
      margin: {l: 40, r: 10, t: 30, b: 40},
      annotations: (source.layout.annotations || []).map(function (note) {
        return Object.assign({}, note, {font: Object.assign({}, note.font, {size: 16})});
      }),
    });
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis/.test(key) && layout[key]) {
        var axis = Object.assign({}, layout[key], {automargin: true, nticks: 4,
                                                   exponentformat: "e", tickfont: {size: 16}});
        if (axis.title) {
          axis.title = Object.assign({}, axis.title, {font: {size: 16}, standoff: 6});
        }
        layout[key] = axis;
      }
    });
    window.Plotly.react(box, source.data, layout, {displaylogo: false, responsive: true,
                                                   displayModeBar: false});
  }

  R.on("presenting", function (on) {
    if (on && VIEWS[beat.view] && R[beat.view]) besideTheMap(beat.view);
  });

  Object.keys(VIEWS).forEach(function (view) {
    var scrolled = false;
    R.on(view, function (store) {
      if (beat.view !== view || !store || store.refused) return;
      if (R.presenting) {
        window.requestAnimationFrame(function () { besideTheMap(view); });
      } else if (!scrolled) {
        scrolled = true;
        var panel = R.el(VIEWS[view][0]);
        if (panel) panel.scrollIntoView({block: "start"});
      }
    });
  });
})();
