/*
 * Optimizer Race: − and + (and ↑ ↓) on the page's number boxes, stepping by each parameter's
 * own rule.
 *
 * The boxes are text boxes (layouts/controls.py number_box): the browser's number input steps
 * by 1 whatever the parameter and sends nothing usable for text it cannot read, so the page
 * could not quote a refused value back. Each box's wrapper carries its rule as data-step, the
 * JSON of common/params.py Param.stepping(); nudge() below applies it exactly as Param.nudge()
 * does in Python (tests/test_browser_inputs.py compares the two over every parameter):
 *
 *   log     1-2-5 × 10^k, a third of a decade a press (lr 0.001 → 0.002 → 0.005 → 0.01);
 *           from 0 "+" gives `start`; a magnitude ("zero") goes back to 0 at or below start
 *   linear  multiples of 10^exponent (momentum 0.9 → 0.91), integers by 1
 *   bounds  a step past a closed bound stops on it; onto or past an open one (momentum < 1)
 *           it does not happen
 *
 * A new value is written with dash_clientside.set_props, as any other script would set it: the
 * race callback and the card's slider (assets/playback.js syncRate) follow. Text the box holds
 * that is not a number is left for the user to correct: − and + do nothing on it.
 *
 * Provided to the other scripts as optimizerRace.use("inputs"): parse(value),
 * nudge(rule, value, direction), accepted(id, value).
 */
(function () {
  "use strict";

  // The twin of common/params.py NUMBER_TEXT: plain decimal notation, nothing else.
  var NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
  var MAX_NUMBER_TEXT = 100;
  var SERIES = [1, 2, 5];

  /* A number from a box's value (a number, or text as typed), or null: parse_number's twin. */
  function parse(value) {
    if (typeof value === "number") return isFinite(value) ? value : null;
    if (typeof value !== "string") return null;
    var text = value.trim().replace(/\u2212/g, "-");
    if (text.length > MAX_NUMBER_TEXT || !NUMBER_TEXT.test(text)) return null;
    var number = Number(text);
    return isFinite(number) ? number : null;
  }

  // m × 10^e through the decimal string, as Python's float("me"): the same float in both.
  function seriesValue(m, e) { return Number(m + "e" + e); }

  function seriesUp(value) {
    for (var e = Math.floor(Math.log10(value)) - 1; ; e++) {
      for (var i = 0; i < SERIES.length; i++) {
        var c = seriesValue(SERIES[i], e);
        if (c > value * (1 + 1e-9)) return c;
      }
    }
  }

  function seriesDown(value) {
    for (var e = Math.floor(Math.log10(value)) + 1; ; e--) {
      for (var i = SERIES.length - 1; i >= 0; i--) {
        var c = seriesValue(SERIES[i], e);
        if (c < value * (1 - 1e-9)) return c;
      }
    }
  }

  function contains(rule, x) {
    if (rule.low !== null && (x < rule.low || (rule.lowOpen && x === rule.low))) return false;
    return rule.high === null || !(x > rule.high || (rule.highOpen && x === rule.high));
  }

  /* The value after one "+" (direction 1) or "−" (-1), or the value itself: Param.nudge. */
  function nudge(rule, value, direction) {
    var start = rule.start, after;
    if (value === null || (rule.rule === "log" && value <= 0)) {
      return direction > 0 && start !== null ? start : value;
    }
    if (rule.rule === "log") {
      if (direction > 0) after = seriesUp(value);
      else if (rule.zero && start !== null && value <= start * (1 + 1e-9)) after = 0;
      else after = seriesDown(value);
      if (rule.int) after = Math.round(after);
    } else {
      var ratio = value / seriesValue(1, rule.exponent);
      var n = direction > 0 ? Math.floor(ratio + 1e-9) + 1 : Math.ceil(ratio - 1e-9) - 1;
      after = seriesValue(n, rule.exponent);
    }
    if (contains(rule, after)) return after;
    var bound = direction > 0 ? rule.high : rule.low;
    var open = direction > 0 ? rule.highOpen : rule.lowOpen;
    if (bound === null || open) return value;
    var moves = direction > 0 ? value < bound : value > bound;
    return moves ? bound : value;
  }

  function ruleOf(field) {
    try { return JSON.parse(field.getAttribute("data-step")); } catch (e) { return null; }
  }

  // Dash writes a pattern-matching id as JSON with its keys sorted.
  function domId(id) {
    if (typeof id === "string") return id;
    var out = {};
    Object.keys(id).sort().forEach(function (k) { out[k] = id[k]; });
    return JSON.stringify(out);
  }

  function dashId(text) {
    if (text.charAt(0) !== "{") return text;
    try { return JSON.parse(text); } catch (e) { return text; }
  }

  /* The box's value as a number if its field's bounds take it, else null: a rate the
     validator would refuse (text it cannot read, 20, 0) must not move the card's slider. */
  function accepted(id, value) {
    var number = parse(value);
    if (number === null) return null;
    var box = document.getElementById(domId(id));
    var field = box && box.closest(".num-field");
    var rule = field && ruleOf(field);
    if (!rule) return number > 0 ? number : null;
    return contains(rule, number) ? number : null;
  }

  function step(field, direction) {
    var box = field.querySelector("input");
    var rule = ruleOf(field);
    if (!box || !box.id || !rule || box.disabled) return;
    var text = box.value;
    var value = text.trim() === "" ? null : parse(text);
    if (value === null && text.trim() !== "") return;  // not a number: left to be corrected
    var next = nudge(rule, value, direction);
    if (next === null || next === value) return;
    window.dash_clientside.set_props(dashId(box.id), {value: next});
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".num-step");
    var field = button && button.closest(".num-field");
    if (!field) return;
    event.preventDefault();
    step(field, Number(button.getAttribute("data-direction")));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
    var field = event.target.closest && event.target.closest(".num-field");
    if (!field || event.target.tagName !== "INPUT") return;
    event.preventDefault();
    step(field, event.key === "ArrowUp" ? 1 : -1);
  });

  /* A refusal is shown in its card's (or the settings') message line, naming the field
     ("lr: …", "momentum: …", "steps: …"): the box it names is marked invalid (red, and
     aria-invalid, described by the message) for as long as the message stands. */
  var marking = false;

  function markInvalid() {
    marking = false;
    var containers = new Set();
    document.querySelectorAll(".field-error").forEach(function (error) {
      containers.add(error.closest(".racer-card") || error.parentElement);
    });
    containers.forEach(function (container) {
      if (!container) return;
      var named = {};
      container.querySelectorAll(".field-error").forEach(function (error) {
        var text = error.textContent || "", colon = text.indexOf(": ");
        if (colon > 0) named[text.slice(0, colon)] = error.id;
      });
      container.querySelectorAll(".num-field").forEach(function (field) {
        var box = field.querySelector("input");
        var error = named[field.getAttribute("data-field")];
        field.classList.toggle("num-invalid", Boolean(error));
        if (!box) return;
        if (error) {
          box.setAttribute("aria-invalid", "true");
          box.setAttribute("aria-describedby", error);
        } else if (box.hasAttribute("aria-invalid")) {
          box.removeAttribute("aria-invalid");
          box.removeAttribute("aria-describedby");
        }
      });
      nearBox(container, named);
    });
  }

  /* In a card the message stands under the row of the box it names, not at the card's foot
     (issue 25): the card is a flex column (assets/inputs.css) and the message's order puts it
     after that row (or after the group of parameters holding it). Only the order changes, so
     the message stays the element the box's aria-describedby names. */
  function nearBox(card, named) {
    if (!card.matches || !card.matches(".racer-card")) return;
    var message = card.querySelector(":scope > .field-error"), row = null;
    card.querySelectorAll(".num-field").forEach(function (field) {
      if (row || !named[field.getAttribute("data-field")]) return;
      row = field;
      while (row.parentElement && row.parentElement !== card) row = row.parentElement;
    });
    var after = false;
    Array.prototype.forEach.call(card.children, function (child) {
      if (child === message) return;
      child.style.order = row && after ? "2" : "";
      if (child === row) after = true;
    });
    if (message) message.style.order = row ? "1" : "";
    card.classList.toggle("error-near", Boolean(row));
  }

  new MutationObserver(function (records) {
    if (marking) return;
    // Only a message changing or boxes arriving (a new card): not playback's redraws.
    var relevant = records.some(function (r) {
      var node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (node && node.closest && node.closest(".field-error")) return true;
      return Array.prototype.some.call(r.addedNodes, function (added) {
        return added.nodeType === 1 && (added.matches(".num-field, .field-error") ||
                                        added.querySelector(".num-field, .field-error"));
      });
    });
    if (!relevant) return;
    marking = true;
    window.requestAnimationFrame(markInvalid);
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});

  window.optimizerRace.provide("inputs", {parse: parse, nudge: nudge, accepted: accepted});
})();
