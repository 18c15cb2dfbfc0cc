/*
 * Optimizer Race: the quick controls beside the map, one row per racer: its swatch (colour,
 * marker and line pattern as drawn), its name, a log-rate slider and show/hide.
 *
 * The rows are built here from the race on the page (assets/playback.js) and kept in place
 * across races, so a slider being dragged is never replaced. While a slider is dragged, each
 * value asks the server for that racer's path at the new rate as a preview (web/preview.py),
 * drawn straight onto the map (R.preview): going through Dash's store would cost the browser
 * ~50 ms a value before the request even left. On release (and for a key press, which is no
 * drag) the value is written into the racer's card (its rate box), which races again through
 * Dash as any rate change; the server already has that path. Only one request of each kind is
 * in flight at a time, and a value that arrives meanwhile replaces the waiting one: the path
 * follows the drag as fast as the server answers, and the last value always wins.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var LOG_MIN = -5, LOG_MAX = 1;  // the cards' log slider spans the same 1e-5 … 10
  var rows = {};
  var send = {inflight: null, pending: {}, timer: null};

  function cardRate(index) {
    // Read as the card reads it (assets/inputs.js): text it refuses is no rate.
    var box = R.part("RACER_LR", index);
    return box ? R.use("inputs").accepted(R.partId("RACER_LR", index), box.value) : null;
  }

  function rateOf(position) { return Number(Math.pow(10, position).toPrecision(3)); }

  function positionOf(lr) { return Math.min(LOG_MAX, Math.max(LOG_MIN, Math.log10(lr))); }

  // The row shows the rate beside the slider: the name leaves it out ("SGD (cosine)").
  function nameOf(r) { return R.distinctShort(r); }

  function flush() {
    var keys = Object.keys(send.pending);
    if (!keys.length || send.inflight) return;
    var index = keys[0], lr = send.pending[index];
    delete send.pending[index];
    if (cardRate(index) === lr) { flush(); return; }  // nothing would change
    send.inflight = {index: index, lr: lr};
    window.dash_clientside.set_props(R.partId("RACER_LR", index), {value: lr});
    // A refused rate (or a lost answer) leaves no new race to wait for.
    window.clearTimeout(send.timer);
    send.timer = window.setTimeout(done, 2000);
  }

  function done() {
    window.clearTimeout(send.timer);
    send.inflight = null;
    flush();
  }

  function request(index, lr) {
    preview.pending = null;
    preview.epoch += 1;  // a preview still on its way is older than this value
    send.pending[index] = lr;
    flush();
  }

  // The drag previews: one in flight, the newest value waiting.
  var preview = {inflight: false, pending: null, epoch: 0};

  function sendPreview() {
    var next = preview.pending, race = R.race;
    if (!next || preview.inflight) return;
    preview.pending = null;
    var position = race ? race.order.indexOf(String(next.index)) : -1;
    if (position < 0) return;
    preview.inflight = true;
    var epoch = preview.epoch, share = race.share;
    window.fetch("_race-preview", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({race: share, racer: position, lr: next.lr}),
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      // Drawn only while it still belongs to the race on the page and no release overtook it;
      // a refused value (429, a rate the racer cannot take) is left to the release's commit.
      if (answer && epoch === preview.epoch && R.race && R.race.share === share) {
        R.preview(next.index, answer.result);
      }
    }).catch(function () { return null; }).then(function () {
      preview.inflight = false;
      sendPreview();
    });
  }

  function previewRate(index, lr) {
    preview.pending = {index: index, lr: lr};
    sendPreview();
  }

  function build(r) {
    var row = document.createElement("div");
    row.className = "quick-row";
    row.setAttribute("data-racer", String(r.index));
    row.innerHTML = "<span class=\"quick-name\"></span>" +
      "<input type=\"range\" class=\"quick-rate\" min=\"" + LOG_MIN + "\" max=\"" + LOG_MAX +
      "\" step=\"0.01\">" + "<output class=\"quick-value\"></output>" +
      "<label class=\"quick-show\"><input type=\"checkbox\"><span>show</span></label>";
    var item = {el: row, index: r.index, dragging: false,
                name: row.querySelector(".quick-name"), range: row.querySelector(".quick-rate"),
                value: row.querySelector(".quick-value"),
                show: row.querySelector(".quick-show input")};
    // A finger on a full-width slider is as often a page being scrolled: the slider jumps to
    // the finger at once, and a swipe up set a rate nobody chose (a racer then diverged). A
    // touch is a slide only once it moves more across than up or down; a scroll puts the
    // rate back and sends nothing. A tap still sets the rate where it lands.
    function touchDecided(event) {
      var t = item.touch;
      if (!t || t.way !== "undecided") return;
      var dx = Math.abs(event.clientX - t.x), dy = Math.abs(event.clientY - t.y);
      if (Math.max(dx, dy) < 8) return;
      t.way = dx >= dy ? "slide" : "scroll";
      if (t.way === "scroll") putBack();
    }
    function putBack() {
      item.range.value = item.touch.value;
      item.value.textContent = R.fmt(rateOf(Number(item.touch.value)));
    }
    item.putBack = putBack;
    item.range.addEventListener("pointerdown", function (event) {
      item.dragging = true;
      item.pressed = item.range.value;
      R.set("dragging", true);
      item.touch = event.pointerType !== "touch" ? null
        : {x: event.clientX, y: event.clientY, way: "undecided", value: item.range.value};
    });
    item.range.addEventListener("pointermove", touchDecided);
    item.range.addEventListener("pointercancel", function () {  // the browser scrolls
      if (item.touch) { item.touch.way = "scroll"; putBack(); }
    });
    item.range.addEventListener("input", function () {
      if (item.touch && item.touch.way === "scroll") { putBack(); return; }
      var lr = rateOf(Number(item.range.value));
      item.value.textContent = R.fmt(lr);
      if (item.touch && item.touch.way === "undecided") return;  // no preview until it slides
      if (item.dragging) previewRate(item.index, lr); else request(item.index, lr);
    });
    item.range.addEventListener("change", function () {
      item.dragging = false;
      R.set("dragging", false);
      var scrolled = item.touch && item.touch.way === "scroll";
      if (scrolled) putBack();
      item.touch = null;
      if (!scrolled) request(item.index, rateOf(Number(item.range.value)));
    });
    item.show.addEventListener("change", function () {
      window.dash_clientside.set_props(R.partId("RACER_VISIBLE", item.index),
                                       {value: item.show.checked ? ["on"] : []});
    });
    return item;
  }

  function update(item, r) {
    var name = nameOf(r);
    item.name.innerHTML = R.racerSwatch(r) + "<span>" + R.escapeHtml(name) + "</span>";
    item.range.setAttribute("aria-label", "learning rate of " + name + " (log scale)");
    item.show.setAttribute("aria-label", "show " + name);
    item.show.checked = R.visible[r.index] !== false;
    var busy = item.dragging || send.pending[item.index] !== undefined ||
      (send.inflight && Number(send.inflight.index) === item.index);
    // An optimizer without a rate (its card says so, layouts/racer.py): nothing to drag.
    var box = R.part("RACER_LR", r.index), card = box && box.closest(".racer-card");
    var noRate = Boolean(card && card.querySelector(".no-lr"));
    item.range.disabled = noRate;
    if (noRate) {
      item.value.textContent = "no rate";
      item.range.setAttribute("aria-valuetext", "no learning rate");
      return;
    }
    var lr = cardRate(r.index);
    if (lr !== null && !busy) {
      item.range.value = String(positionOf(lr));
      item.value.textContent = R.fmt(lr);
    }
    item.range.setAttribute("aria-valuetext", item.value.textContent);
  }

  function render() {
    var el = R.el("QUICK_CONTROLS");
    if (!el) return;
    var seen = {};
    R.racers.forEach(function (r, i) {
      seen[r.index] = true;
      var item = rows[r.index];
      if (!item || !el.contains(item.el)) item = rows[r.index] = build(r);
      if (el.children[i] !== item.el) el.insertBefore(item.el, el.children[i] || null);
      update(item, r);
    });
    Object.keys(rows).forEach(function (index) {
      if (!seen[index]) { rows[index].el.remove(); delete rows[index]; }
    });
  }

  // A drag ends however the pointer lets go: released on the slider or anywhere else
  // (pointerup, mouseup, touchend, even outside the window), taken over by the browser
  // (pointercancel, lostpointercapture: a scroll), the window left (blur, hidden) or the
  // pointer back with no button down (a release the page never heard). Each ending gives the
  // focus back to the page, so the keys are the page's again: Space plays and Esc leaves
  // Present, the clicker's keys step, End or PageDown moves no rate. A press that moved
  // nothing fires no "change": the release ends it all the same. A slider the keyboard
  // focused (Tab) keeps its keys; one a pointer focused after its drag ended (a tap's late
  // focus, or the window coming back) is let go at once.
  var pointing = false;  // the last input was a pointer, not a key
  function isQuick(el) { return Boolean(el && el.classList && el.classList.contains("quick-rate")); }
  function letGo() {
    var focused = document.activeElement;
    if (pointing && isQuick(focused)) focused.blur();
  }
  function endDrag() {
    if (!R.dragging) { letGo(); return; }
    window.setTimeout(function () {  // after the slider's own "change", if it fires
      Object.keys(rows).forEach(function (index) {
        var item = rows[index];
        if (!item.dragging) return;
        // No "change" came (the window was left, the browser took the pointer): the rate is
        // the one the slider shows (a tap's too), unless a finger was scrolling the page.
        item.dragging = false;
        if (item.touch && item.touch.way === "scroll") item.putBack();
        else if (item.range.value !== item.pressed) {
          request(item.index, rateOf(Number(item.range.value)));
        }
        item.touch = null;
      });
      R.set("dragging", false);
      letGo();
    }, 0);
  }
  document.addEventListener("pointerdown", function () { pointing = true; }, true);
  document.addEventListener("keydown", function () { pointing = false; }, true);
  ["pointerup", "pointercancel", "lostpointercapture", "mouseup", "touchend", "touchcancel",
   "contextmenu"].forEach(function (type) {
    window.addEventListener(type, endDrag, true);
  });
  window.addEventListener("blur", function (event) {  // the window's own, not a control's
    if (event.target === window) endDrag();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) endDrag();
  });
  window.addEventListener("pointermove", function (event) {
    if (R.dragging && event.pointerType === "mouse" && event.buttons === 0) endDrag();
  }, true);
  document.addEventListener("focusin", function (event) {
    if (!R.dragging && pointing && isQuick(event.target)) event.target.blur();
  });

  R.on("load", function () {
    if (send.inflight) done();
    render();
  });
})();
