/*
 * Optimizer Race: many racers in a laptop's side column (issue 25, session 13). The side
 * column holds the quick sliders (a row a racer), the ranking (a row a racer) and two charts;
 * with eight racers on a 1280×720 laptop the loss chart's plot was 48 px tall and the lower
 * chart 80 px. Where the loss chart's plot is under SHORT px, the side column folds, in this
 * order, until the plot has LEAST px (measured, not guessed):
 *
 *   1. the lower chart (and its choice), then
 *   2. the quick sliders (each racer's rate is also in its card below the race).
 *
 * Each fold leaves a line in its place that says what was folded and why, and opens it again
 * (aria-expanded): nothing goes without the page saying where. A fold stays for the window's
 * size and the race's racers (a ranking row that grows as the race plays does not unfold and
 * fold again); another size or race measures afresh. Present has its own arrangement
 * (assets/present.js, assets/stage.js); a phone's page scrolls in one column. A lesson's beat
 * folds nothing: its caption reads the charts it shows (a schedule's rate in the lower chart).
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var SHORT = 100;  // px: a loss chart's plot this short does not read: fold ...
  var LEAST = 120;  // px: ... until it has this much
  var FOLDS = ["lower", "quick"];

  function laptop() {
    return !R.presenting && window.matchMedia("(min-width: 1100px)").matches;
  }

  function lesson() {
    var caption = R.el("LESSON_CAPTION");
    return Boolean(caption && !caption.hidden && caption.offsetParent);
  }

  function side() { return document.querySelector(".side"); }

  // The loss chart's plot: its box less Plotly's top and bottom margins. Null: not shown.
  function lossPlot() {
    var box = R.el("LOSS_GRAPH");
    if (!box || !box.offsetParent) return null;
    var gd = R.graph(R.ids.LOSS_GRAPH);
    var size = gd && gd._fullLayout && gd._fullLayout._size;
    return box.clientHeight - (size ? size.t + size.b : 60);
  }

  function racers() { return R.racers ? R.racers.length : 0; }

  function label(fold, open) {
    var what = fold === "quick" ? "Rate sliders (" + racers() + " racers)" : "Lower chart";
    if (open) return what + " opened: the side column scrolls.";
    return fold === "quick" ? what + " folded for room; each is in its card below."
      : what + " folded to give the loss chart room.";
  }

  // The line a fold leaves in its place: a button that opens (and folds) it again.
  function bar(fold) {
    var el = document.querySelector(".fold-bar[data-fold='" + fold + "']");
    if (el) return el;
    var s = side(), before = fold === "quick" ? R.el("QUICK_CONTROLS")
      : s && s.querySelector(".lower-chart-choice");
    if (!before) return null;
    el = document.createElement("button");
    el.type = "button";
    el.className = "fold-bar";
    el.setAttribute("data-fold", fold);
    el.setAttribute("aria-expanded", "false");
    el.innerHTML = "<span class=\"fold-sign\" aria-hidden=\"true\">▸</span> " +
      "<span class=\"fold-text\"></span> <span class=\"fold-action\">Show</span>";
    el.addEventListener("click", function () {
      var open = el.getAttribute("aria-expanded") !== "true";
      el.setAttribute("aria-expanded", open ? "true" : "false");
      el.querySelector(".fold-sign").textContent = open ? "▾" : "▸";
      el.querySelector(".fold-action").textContent = open ? "Fold" : "Show";
      el.querySelector(".fold-text").textContent = label(fold, open);
      var s2 = side();
      if (s2) s2.classList.toggle("open-" + fold, open);
      redraw();
    });
    before.parentNode.insertBefore(el, before);
    return el;
  }

  function setFold(fold, on) {
    var s = side();
    if (!s) return;
    s.classList.toggle("fold-" + fold, on);
    var el = bar(fold);
    if (el) {
      el.querySelector(".fold-text").textContent =
        label(fold, el.getAttribute("aria-expanded") === "true");
    }
  }

  function folded(fold) {
    var s = side();
    return Boolean(s && s.classList.contains("fold-" + fold));
  }

  // The charts follow their boxes on a window resize (Plotly's responsive mode).
  function redraw() {
    window.requestAnimationFrame(function () { window.dispatchEvent(new Event("resize")); });
  }

  var measuredFor = "", fitting = false;
  function fit() {
    var s = side();
    if (!s || fitting) return;
    fitting = true;
    try {
      var changed = false;
      var key = laptop() ? window.innerWidth + "x" + window.innerHeight + "|" + racers() : "";
      if (key !== measuredFor) {
        // Another size or race: measured afresh, from nothing folded.
        measuredFor = key;
        var board = R.el("LEADERBOARD");
        if (board && board.classList.contains("wrap-names")) {
          board.classList.remove("wrap-names");
          changed = true;
        }
        FOLDS.forEach(function (fold) {
          if (folded(fold)) { setFold(fold, false); changed = true; }
        });
      }
      if (key) {
        changed = wrapNames() || changed;
        // Folded one after the other while the loss chart is short of room (a fold is kept
        // for this size and race: never unfolded here).
        var first = lesson() ? null : lossPlot();
        for (var i = 0; first !== null && first < SHORT && i < FOLDS.length; i++) {
          var plot = lossPlot();
          if (plot === null || plot >= LEAST) break;
          if (folded(FOLDS[i]) || !foldable(FOLDS[i])) continue;
          setFold(FOLDS[i], true);
          changed = true;
        }
      }
      if (changed) redraw();
      // Measured for this size and race (tests wait on it).
      document.documentElement.setAttribute("data-crowd", key || "off");
    } finally {
      fitting = false;
    }
  }

  // The ranking wider than the side column ("work to tol" cut at its right edge): its long
  // names wrap between their words (class wrap-names, assets/crowd.css). Only then: where the
  // ranking fits, a name on one line keeps it short.
  function wrapNames() {
    var board = R.el("LEADERBOARD"), table = board && board.querySelector("table");
    if (!table || !board.offsetParent || board.classList.contains("wrap-names")) return false;
    if (table.getBoundingClientRect().width <= board.clientWidth + 1) return false;
    board.classList.add("wrap-names");
    return true;
  }

  // Only what is shown can be folded (a students' link may hide the quick sliders).
  function foldable(fold) {
    var el = fold === "quick" ? R.el("QUICK_CONTROLS") : R.el("LR_GRAPH");
    return Boolean(el && el.offsetParent);
  }

  var observer = window.ResizeObserver ? new window.ResizeObserver(function () {
    window.requestAnimationFrame(fit);
  }) : null;
  var watched = false;
  R.on("load", function () {
    if (observer && !watched) {
      var s = side(), board = R.el("LEADERBOARD");
      if (s && board) {
        watched = true;
        observer.observe(s);
        observer.observe(board);
      }
    }
    window.requestAnimationFrame(fit);
  });
  R.on("presenting", function () { window.requestAnimationFrame(fit); });
  // The ranking's numbers widen as the race plays: looked at twice a second, and once it
  // stops.
  var widthSeen = 0;
  R.on("step", function () {
    var now = Date.now();
    if (R.playing && now - widthSeen < 500) return;  // and always once it stops
    widthSeen = now;
    if (laptop()) fit();
  });
  window.addEventListener("resize", function () { window.requestAnimationFrame(fit); });
})();
