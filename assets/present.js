/*
 * Optimizer Race: Present on a projector keeps the map large and every word readable.
 *
 * The map keeps at least half the screen's height in every beat of every lesson: a long
 * caption gives way first. Its type shrinks, down to a floor that still reads from the back
 * row (FLOOR px); if the map is still too short, the caption moves into the side column,
 * beside the map, above the ranking (html.caption-aside, assets/present.css), its type again
 * as large as the side's room allows (down to Present's floor, 16 px, where an inspector's
 * rows or the chart the beat is read off share the column). Measured, not guessed: the map's box follows the CSS
 * as soon as the caption's size changes. Once fitted, html[data-fitted] names the window's
 * size (tests wait on it).
 *
 * The Lessons menu opens in Present (the header is hidden there; assets/present.css keeps the
 * menu in the top corner), every lesson in it on the screen at once, and its links keep the
 * page presenting.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var root = document.documentElement;
  var FLOOR = 18;  // px: the caption's smallest type above the map
  var CHART = 210;  // px: the least height of a chart a beat is read off
  var LEAST = 16;  // px: beside the map, with an inspector's rows to show (Present's floor)
  var TOP = 24;  // px: the caption's type when it has room (1.1rem of Present's 22 px)

  function caption() {
    var el = R.el("LESSON_CAPTION");
    return el && !el.hidden && el.offsetParent ? el : null;
  }

  // What stage.js keeps in --above-stage, set here at once so the map's box follows.
  function above() {
    var stage = document.querySelector(".stage");
    if (!stage) return;
    var top = Math.round(stage.getBoundingClientRect().top + window.scrollY);
    root.style.setProperty("--above-stage", top + "px");
  }

  // The map's plot is its box less Plotly's top and bottom margins.
  function plotHeight() {
    var box = R.el("RACE_GRAPH"), gd = R.graph(R.ids.RACE_GRAPH);
    if (!box) return 0;
    var size = gd && gd._fullLayout && gd._fullLayout._size;
    var margins = size ? size.t + size.b : 74;
    return box.clientHeight - margins;
  }

  function mapShort() { return plotHeight() < 0.5 * window.innerHeight + 2; }

  // A beat read off a chart (assets/lesson.js: the loss by work, or the lower chart).
  function chartBeat() {
    return root.classList.contains("beat-loss") || root.classList.contains("beat-chart");
  }

  // An open inspector, in the side column's place (assets/curvature.css).
  function inspecting() {
    var inspector = document.querySelector(".inspector");
    return Boolean(inspector && inspector.getClientRects().length &&  // (fixed: no offsetParent)
                   window.getComputedStyle(inspector).position === "fixed");
  }

  // A beat's view beside the map: its chart at its least height, and its key.
  function least(view) {
    var total = 0;
    Array.prototype.forEach.call(view.children, function (child) {
      total += child.classList.contains("beat-view-chart")
        ? parseFloat(window.getComputedStyle(child).minHeight) || 0
        : child.getBoundingClientRect().height;
    });
    return total;
  }

  // The side column with the caption in it: the caption and the ranking (or the beat's view
  // at its least height) within the screen, and with "quick" the quick sliders too; the
  // charts give way to them (assets/stage.js), unless the beat is read off one.
  function sideOver(quick) {
    var side = document.querySelector(".side"), cap = caption();
    if (!side || !cap) return false;
    var room = window.innerHeight - 4;
    // An open inspector takes the side column's place, below the caption.
    if (inspecting()) {
      var inspector = document.querySelector(".inspector");
      return cap.getBoundingClientRect().bottom + inspector.scrollHeight + 14 > room;
    }
    var style = window.getComputedStyle(side), shown = 0;
    var bottom = side.getBoundingClientRect().top + parseFloat(style.paddingTop) +
      parseFloat(style.paddingBottom) + 2 * (parseFloat(style.borderTopWidth) || 0);
    Array.prototype.forEach.call(side.children, function (child) {
      var isQuick = child.id === R.ids.QUICK_CONTROLS;
      if (isQuick && quick && !child.offsetParent && side.classList.contains("crowded") &&
          quickSeen) {
        bottom += quickSeen;  // hidden only for want of room (assets/stage.js): as it was
        shown += 1;
        return;
      }
      if (!child.offsetParent || child.classList.contains("charts") || (!quick && isQuick)) {
        return;
      }
      bottom += child.classList.contains("beat-view") ? least(child)
        : child.getBoundingClientRect().height;
      shown += 1;
    });
    // A beat read off a chart keeps room for it.
    if (chartBeat()) { bottom += CHART; shown += 1; }
    return bottom + (parseFloat(style.rowGap) || 0) * Math.max(0, shown - 1) > room;
  }
  function sideOverWithQuick() { return sideOver(true); }
  function sideOverAlone() { return sideOver(false); }

  // Where the caption ends: beside the map, what takes the side column's place (an open
  // inspector, assets/present.css) starts below it.
  function captionEnds(cap) {
    var bottom = root.classList.contains("caption-aside") ? cap.getBoundingClientRect().bottom : 0;
    root.style.setProperty("--caption-ends", Math.round(bottom) + "px");
  }

  function shrink(cap, tooBig, floor) {
    var size = TOP;
    cap.style.fontSize = size + "px";
    above();
    captionEnds(cap);
    while (tooBig() && size > floor) {
      size -= 1;
      cap.style.fontSize = size + "px";
      above();
      captionEnds(cap);
    }
    return size;
  }

  // The lesson and beat a caption belongs to ("beat 2 of 5" under the lesson's title).
  function beatName(cap) {
    var count = cap.querySelector(".beat-count"), title = cap.querySelector("strong, h2, h3");
    return (title ? title.textContent : "") + "|" + (count ? count.textContent : "");
  }

  // A ranking wider than the side column (eight racers at 1024×768: "work to tol" was cut
  // at the screen's edge) is set tight: Present's floor of 16 px, narrower gaps, a long name
  // wrapped between its words (assets/present.css).
  function tightRanking() {
    var board = R.el("LEADERBOARD"), table = board && board.querySelector("table");
    if (!board) return;
    board.classList.remove("tight");
    if (!R.presenting || !table || !board.offsetParent) return;
    if (table.getBoundingClientRect().width > board.clientWidth + 1) board.classList.add("tight");
  }

  var fitting = false, quickSeen = 0, asideBeat = "";
  function fit() {
    if (fitting) return;
    fitting = true;
    try {
      tightRanking();
      var cap = caption(), side = document.querySelector(".side");
      var quick = R.el("QUICK_CONTROLS");
      if (quick && quick.offsetParent) quickSeen = quick.getBoundingClientRect().height;
      root.classList.remove("caption-aside");
      if (cap) cap.style.fontSize = "";
      if (R.presenting && !R.phone() && cap) {
        // A beat whose caption once went beside the map stays there at this size: it jumped
        // back above the map (and the map moved and shrank) when playing shortened it.
        var beat = window.innerWidth + "x" + window.innerHeight + "|" + beatName(cap);
        if (asideBeat !== beat) shrink(cap, mapShort, FLOOR);
        if (asideBeat === beat || mapShort()) {
          asideBeat = beat;
          root.classList.add("caption-aside");
          // The quick sliders too if the floor allows, else the caption and the ranking.
          shrink(cap, sideOverWithQuick, FLOOR);
          if (sideOverWithQuick()) shrink(cap, sideOverAlone, FLOOR);
          else if (side) side.classList.remove("crowded");  // (assets/stage.js agrees)
          if (sideOverAlone() && (inspecting() || chartBeat())) {
            shrink(cap, sideOverAlone, LEAST);
          }
        }
      }
      above();
    } finally {
      fitting = false;
    }
    // The charts follow their boxes on a window resize (Plotly's responsive mode).
    window.requestAnimationFrame(function () {
      telling = true;
      try {
        window.dispatchEvent(new Event("resize"));
      } finally {
        telling = false;
      }
      var done = function () {
        root.setAttribute("data-fitted", window.innerWidth + "x" + window.innerHeight);
      };
      redrawn().then(mapAgain).then(done, done);
    });
  }

  // Every chart on the screen drawn at its box's new size. Plotly redraws a resized chart
  // 100 ms after the last resize it heard (Plots.resize): data-fitted had been set before that,
  // and a screen read then found the map's x at its new width with y's range still the old
  // one (88 px a unit across, 99 up) and its axis titles mid-move. Asking for the resize here
  // joins the one pending (Plotly keeps one timer and one promise a chart). Not the 3-D view:
  // its Plotly is another copy (assets/view3d.js), which follows the resize itself; the page's
  // copy, asked to resize it, laid it out again without its scene.
  function redrawn() {
    var view3d = R.el("RACE_3D");
    var graphs = Array.prototype.filter.call(
      document.querySelectorAll(".js-plotly-plot"),
      function (gd) {
        return gd._fullLayout && gd.offsetParent && !(view3d && view3d.contains(gd));
      }
    );
    if (!window.Plotly || !graphs.length) return Promise.resolve();
    return Promise.all(graphs.map(function (gd) {
      return window.Plotly.Plots.resize(gd).catch(function () { return null; });
    }));
  }

  // After the window's size changed (another projector), the map is drawn once more at its
  // new size: Plotly's own resize left the colour bar's labels past the map's right edge.
  var drawnAt = "";
  function mapAgain() {
    var gd = R.graph(R.ids.RACE_GRAPH), size = window.innerWidth + "x" + window.innerHeight;
    var was = drawnAt;
    if (!gd || !gd._fullLayout || !window.Plotly || !R.presenting) return Promise.resolve();
    drawnAt = size;
    if (!was || was === size) return Promise.resolve();
    return window.Plotly.relayout(gd, {autosize: true}).then(function () {
      return window.Plotly.relayout(gd, {"margin.r": gd.layout.margin.r});
    });
  }

  var lastSize = "", telling = false;
  function fitOnce() {
    // A resize this script sent itself changes nothing here.
    var size = window.innerWidth + "x" + window.innerHeight + (R.presenting ? "p" : "");
    if (size === lastSize && (telling || root.getAttribute("data-fitted"))) return;
    lastSize = size;
    root.removeAttribute("data-fitted");
    window.requestAnimationFrame(fit);
  }

  // The caption grows at Reveal (the answer) and with a changed race's note, the key and
  // playback as they fill in: fit again.
  var observer = window.ResizeObserver ? new window.ResizeObserver(function () {
    if (!fitting && R.presenting) { lastSize = ""; fitOnce(); }
  }) : null;
  var watched = false;
  R.on("load", function () {
    var cap = R.el("LESSON_CAPTION");
    if (observer && cap && !watched) {
      watched = true;
      // Its text boxes (its own font size changes when it is fitted) and the map's neighbours.
      var near = document.querySelectorAll(".map > :not(#race-graph), .side > .leaderboard");
      var boxes = Array.prototype.slice.call(cap.children)
        .concat(Array.prototype.slice.call(near));
      boxes.forEach(function (box) { observer.observe(box); });
      var inspector = document.querySelector(".inspector");
      if (rows && inspector) rows.observe(inspector, {childList: true, subtree: true});
    }
    lastSize = "";
    fitOnce();
  });
  // An open inspector's rows arrive (and change with the step) inside a box of fixed size:
  // fit again when their height changes.
  var inspected = -1;
  var rows = window.MutationObserver ? new window.MutationObserver(function () {
    var inspector = document.querySelector(".inspector");
    var height = inspector ? inspector.scrollHeight : 0;
    if (height !== inspected && R.presenting && !fitting) {
      inspected = height;
      lastSize = "";
      fitOnce();
    }
  }) : null;
  R.on("presenting", function () { lastSize = ""; fitOnce(); });
  R.on("predicting", function () { lastSize = ""; fitOnce(); });
  // The ranking's numbers widen as the race plays ("12.5" at the start, "4.34e-11" later):
  // looked at twice a second while playing and once it stops, and fitted again once the
  // table is wider than its column.
  var widthSeen = 0;
  R.on("step", function () {
    var now = Date.now(), board = R.el("LEADERBOARD");
    if (!R.presenting || fitting || (R.playing && now - widthSeen < 500) || !board ||
        board.classList.contains("tight")) return;
    widthSeen = now;
    var table = board.querySelector("table");
    if (table && table.getBoundingClientRect().width > board.clientWidth + 1) {
      lastSize = "";
      fitOnce();
    }
  });
  window.addEventListener("resize", fitOnce);

  // The Lessons menu in Present: every lesson at once, in two columns read downwards
  // (assets/present.css); where even they overflow (a short window), a cue at the list's foot
  // says more follow, until it is scrolled to its end.
  function lessonsMenu() {
    var menu = document.querySelector("header details.lessons");
    var list = menu && menu.querySelector("ul");
    if (!list) return null;
    var more = menu.querySelector(".lessons-more");
    if (!more) {
      more = document.createElement("p");
      more.className = "lessons-more";
      more.textContent = "▾ more lessons below";
      more.hidden = true;
      menu.appendChild(more);
      list.addEventListener("scroll", moreCue);
      menu.addEventListener("toggle", moreCue);
    }
    return {menu: menu, list: list, more: more};
  }
  function moreCue() {
    var m = lessonsMenu();
    if (!m) return;
    var list = m.list, more = m.more;
    // Two columns; three where two still overflow and the screen is wide enough.
    if (m.menu.open && !list.style.getPropertyValue("--lesson-rows")) {
      for (var columns = 2; columns <= 3; columns++) {
        list.style.setProperty("--lesson-rows", String(Math.ceil(list.children.length / columns)));
        if (list.scrollHeight <= list.clientHeight + 1 || window.innerWidth < 1200) break;
      }
    }
    more.hidden = !R.presenting || !m.menu.open ||
      list.scrollTop + list.clientHeight >= list.scrollHeight - 2;
    if (more.hidden) return;
    more.style.width = list.offsetWidth + "px";
    more.style.top = list.offsetTop + list.offsetHeight - more.offsetHeight + "px";
  }
  R.on("load", moreCue);
  R.on("presenting", moreCue);
  window.addEventListener("resize", function () {
    var m = lessonsMenu();
    if (m) m.list.style.removeProperty("--lesson-rows");  // counted again for this size
    moreCue();
  });

  // Escape with the Lessons menu open closes the menu, the focus back on its button; only the
  // next Escape leaves Present (assets/tools.js). It had left Present with the menu still
  // open over the page. Heard before the page's own keys (the window's capture comes first).
  window.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.altKey || event.ctrlKey || event.metaKey) return;
    var menu = document.querySelector("header details.lessons[open]"), t = event.target;
    if (!menu || (t && t.closest && t.closest("dialog[open]"))) return;  // a dialog's own Esc
    event.preventDefault();
    event.stopPropagation();
    menu.open = false;
    var summary = menu.querySelector("summary");
    if (summary) summary.focus({preventScroll: true});
  }, true);

  // A lesson picked from the menu in Present opens presenting (a student view stays one).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".lessons a[href]") : null;
    if (!link || !R.presenting) return;
    var target = new URLSearchParams(link.getAttribute("href").replace(/^[^?]*\?/, ""));
    target.set("present", "1");
    var hide = new URLSearchParams(window.location.search).get("hide");
    if (hide) target.set("hide", hide);
    link.setAttribute("href", "?" + target.toString());
  }, true);
})();
