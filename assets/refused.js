/*
 * Optimizer Race: a refused field says so where the eye is (issue 25, round 2). A refused
 * value (a card's rate emptied, 0, -1, 1e9, "abc"; the settings' steps; a surface's
 * parameter) leaves the last race that ran on the map and in the ranking, which is right, but
 * its message stood in the card or the settings, out of sight: racers added meanwhile changed
 * the cards and not the race, and nothing near the map said the race was not updating.
 *
 * While any of the page's refusals stands (callbacks/race.py writes them into the card's, the
 * settings' and the surface's message lines; they are emptied when the race runs again), one
 * line above the ranking says what was refused and that the race shown is the last one that
 * ran, with a button that takes the user to the refused box:
 *
 *   Not raced: learning rate of Momentum: in (0, 10], got 20. The race shown is the last one
 *   that ran. [Go to the box]
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var LINE = "not-raced";
  var target = null;  // the box the button focuses

  function text(el) { return el ? (el.textContent || "").trim() : ""; }

  // The racer as its card names it: the label typed into the card, else its optimizer.
  function racerName(card) {
    var label = card.querySelector("input.param-text");
    if (label && label.value.trim()) return label.value.trim();
    var name = text(card.querySelector(".racer-optimizer .dash-dropdown-value"));
    var cards = Array.prototype.slice.call(document.querySelectorAll(".racer-card"));
    var same = cards.filter(function (c) {
      return text(c.querySelector(".racer-optimizer .dash-dropdown-value")) === name;
    });
    var position = cards.indexOf(card) + 1;
    if (!name) return "racer " + position;
    return same.length > 1 ? name + " (card " + position + ")" : name;
  }

  // The refused box a message names ("learning rate: …"), in its card or the settings.
  function boxOf(container, field) {
    if (!container) return null;
    var fields = container.querySelectorAll(".num-field");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].getAttribute("data-field") === field) return fields[i].querySelector("input");
    }
    return container.querySelector("[aria-invalid='true']") || container.querySelector("input");
  }

  // Every refusal standing now: [{text, box}], cards first in page order, then the settings.
  function refusals() {
    var found = [];
    document.querySelectorAll(".racer-card > .field-error").forEach(function (error) {
      var message = text(error);
      if (!message) return;
      var card = error.closest(".racer-card"), colon = message.indexOf(": ");
      var field = colon > 0 ? message.slice(0, colon) : "a value";
      var allowed = colon > 0 ? message.slice(colon + 2) : message;
      found.push({text: field + " of " + racerName(card) + ": " + allowed,
                  box: boxOf(card, field)});
    });
    [R.ids.SURFACE_ERROR, R.ids.SETTINGS_ERROR].forEach(function (id) {
      var error = id && document.getElementById(id), message = text(error);
      if (!message) return;
      var colon = message.indexOf(": ");
      found.push({text: message, box: boxOf(error.parentElement,
                                            colon > 0 ? message.slice(0, colon) : "")});
    });
    return found;
  }

  function line() {
    var existing = document.getElementById(LINE);
    if (existing) return existing;
    var board = R.el("LEADERBOARD");
    if (!board || !board.parentElement) return null;
    var p = document.createElement("p");
    p.id = LINE;
    p.className = "not-raced";
    p.setAttribute("role", "status");
    p.hidden = true;
    p.innerHTML = "<span class=\"not-raced-text\"></span> <button type=\"button\" " +
      "class=\"not-raced-go\" data-action=\"not-raced-go\">Go to the box</button>";
    board.parentElement.insertBefore(p, board);
    return p;
  }

  var pending = false;

  function update() {
    pending = false;
    var found = refusals(), p = found.length || document.getElementById(LINE) ? line() : null;
    if (!p) return;
    if (!found.length) {
      p.hidden = true;
      target = null;
      return;
    }
    var first = found[0].text.replace(/\.$/, "");
    var more = found.length > 1 ? " (and " + (found.length - 1) + " more)" : "";
    var words = "Not raced: " + first + more + ". The race shown is the last one that ran.";
    var span = p.querySelector(".not-raced-text");
    if (span.textContent !== words) span.textContent = words;
    target = found[0].box;
    p.querySelector(".not-raced-go").hidden = !target;
    p.hidden = false;
  }

  R.action("not-raced-go", function () {
    if (!target || !target.isConnected) return;
    target.scrollIntoView({block: "center"});
    target.focus({preventScroll: true});
    if (target.select) target.select();
  });

  new MutationObserver(function (records) {
    if (pending) return;
    var relevant = records.some(function (r) {
      var node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (node && node.closest && node.closest(".field-error, .racer-card")) return true;
      return Array.prototype.some.call(r.addedNodes, function (added) {
        return added.nodeType === 1 && (added.matches(".field-error, .racer-card") ||
                                        Boolean(added.querySelector(".field-error")));
      }) || Array.prototype.some.call(r.removedNodes, function (gone) {
        return gone.nodeType === 1 && (gone.matches(".field-error, .racer-card") ||
                                       Boolean(gone.querySelector(".field-error")));
      });
    });
    if (!relevant) return;
    pending = true;
    window.requestAnimationFrame(update);
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  R.on("load", update);
})();
