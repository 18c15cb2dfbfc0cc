/*
 * Optimizer Race: the one object the page's scripts share, window.optimizerRace (R below).
 * It loads first (Dash loads assets/ in name order, hence the 0-); the other scripts read its
 * fields and change them only through its functions and events:
 *
 *   ids              every component id, by its name in layouts/ids.py (R.ids.RACE_GRAPH);
 *                    el(name), part(kind, index) and partId(kind, index) find components
 *   race, surface, racers, visible, step, steps, playing, heads, rendered, loadedAt,
 *   drawnAt, loads, previews
 *                    the race on the page and its playback (written here only; previews
 *                    counts a quick slider's drag previews drawn, R.preview)
 *   stopAt           the step where playing stops once (a lesson's beat, assets/lesson.js)
 *   highlight        racers a lesson's beat points at (the map fades the others)
 *   lossAxis         "step" or "work": what the loss chart is drawn against
 *   presenting, tuned, trace, moveStart, view, analysis, inspect, sweep, starts, exported,
 *   dragging (a quick rate slider is being dragged: the charts wait for its release),
 *   predicting (a lesson's question is asked and not yet revealed, assets/predict.js: the
 *   ranking is masked and the results hidden)
 *                    shared settings and results: R.set(name, value) changes one and emits
 *                    an event of the same name; nothing else writes them
 *   on(event, fn)    "load" (a race arrived), "step" (k drawn), "mapdraw" ({ctx, toPx, k,
 *                    sx, sy}: draw on the map above the racers), "mapview" (the map was
 *                    zoomed or panned), "rule" ({index, text}: a racer's new update rule),
 *                    and each shared setting's name
 *   action(name, fn) what a click on any element with data-action="name" does (one listener
 *                    for the page); key(name, fn) the same for a key
 *   provide(name, api), use(name)
 *                    a script's functions for the others (assets/inputs.js provides "inputs":
 *                    parse, nudge, accepted; assets/view3d.js "view3d", the 3-D view's state)
 *   later(key, fn), idle(), render(), graph(id), fmt, escapeHtml, swatch, racerSwatch,
 *   baseLayout, layoutSize, decode, contourTrace, shortLabel, phone(), touch()   helpers
 */
(function () {
  "use strict";

  var SHARED = ["presenting", "tuned", "trace", "moveStart", "view", "analysis", "inspect",
                "sweep", "starts", "exported", "dragging", "predicting"];
  var EVENTS = ["load", "step", "mapdraw", "mapview", "rule"].concat(SHARED);

  var R = {
    race: null, surface: null, racers: [], visible: {}, step: 0, steps: 0,
    playing: false, stopAt: null, highlight: [], lossAxis: "step", speed: 1, loop: false, last: null, carry: 0, loads: 0, previews: 0,
    frames: 0, rendered: -1, heads: [], cursors: {}, loadedAt: 0, drawnAt: 0, frameLog: null,
    // What a link asks for once its race is here (assets/tools.js reads the address).
    pending: {},
    presenting: false, tuned: null, trace: null, moveStart: false, view: "2d",
    analysis: "", inspect: "", sweep: null, starts: null, exported: null, dragging: false,
    predicting: false,
    listeners: {}, actions: {}, keys: {}, provided: {},
    ids: JSON.parse((document.getElementById("page-ids") || {}).textContent || "{}"),
  };
  EVENTS.forEach(function (name) { R.listeners[name] = []; });
  window.optimizerRace = R;

  R.on = function (event, fn) { R.listeners[event].push(fn); };

  function emit(event, arg) {
    R.listeners[event].forEach(function (fn) { fn(arg); });
  }
  // "load" and "step" come from assets/playback.js only; the rest from whoever owns them.
  R.emit = emit;

  R.set = function (name, value) {
    if (SHARED.indexOf(name) < 0) throw new Error("not a shared setting: " + name);
    if (R[name] === value) return;
    R[name] = value;
    emit(name, value);
  };

  R.el = function (name) { return document.getElementById(R.ids[name]); };
  R.partId = function (kind, index) { return {type: R.ids[kind], index: Number(index)}; };
  R.part = function (kind, index) {
    // Dash writes a pattern-matching id as JSON with sorted keys.
    return document.getElementById(JSON.stringify({index: Number(index), type: R.ids[kind]}));
  };

  // One click listener and one key listener for the page: scripts register what a
  // data-action does (R.action) and what a key does (R.key), instead of listening themselves.
  R.action = function (name, fn) { R.actions[name] = fn; };
  R.provide = function (name, api) { R.provided[name] = api; };
  R.use = function (name) { return R.provided[name]; };
  R.key = function (name, fn) { (R.keys[name] = R.keys[name] || []).push(fn); };
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-action]") : null;
    var fn = target && R.actions[target.getAttribute("data-action")];
    if (fn) fn(target, event);
  });
})();
