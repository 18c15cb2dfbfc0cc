/*
 * Optimizer Race: what the page says when the server refuses it for a while.
 *
 * The public server limits each client by requests and by work (web/hardening.py,
 * service/budget.py, web/metering.py, nginx): a refusal is 429 with Retry-After. Dash's
 * renderer drops a failed callback without a word, so without this a student whose requests
 * were refused saw a race that simply did not change. Every same-origin request the page makes
 * to the server's routes is watched; a 429 shows a notice that says why, how long to wait
 * (counting down) and that what is shown is the last result computed. It goes once the wait
 * is over or the same kind of request (the same route, and for a callback the same output)
 * gets through: another one getting through says nothing of the refused one (a try-out saw a
 * refused sweep's notice taken away by the race that went through beside it).
 *
 * A refusal only because this browser already runs as many requests as it may at once
 * (Retry-After of a second or two: the page's own race, inspector and previews can overlap)
 * is sent again after that wait, a few times, before the caller sees it: a change made while
 * another was computing is not silently dropped. Longer waits (the work budget) are left to
 * the person, as the notice says.
 */
(function () {
  "use strict";

  var WATCHED =
    /\/(_dash-update-component|_dash-layout|_dash-dependencies|_race-preview|api\/[a-z]+)$/;
  var note = null, timer = null, until = 0;
  var refused = {};  // what was refused (see kind): until when, in ms

  function element() {
    if (note && document.body.contains(note)) return note;
    note = document.createElement("div");
    note.id = "busy-note";
    note.className = "busy-note";
    note.setAttribute("role", "status");
    note.setAttribute("aria-live", "polite");
    note.hidden = true;
    document.body.appendChild(note);
    return note;
  }

  function wait(seconds) {
    if (seconds < 90) return seconds + " s";
    if (seconds < 90 * 60) return Math.ceil(seconds / 60) + " min";
    return Math.ceil(seconds / 3600) + " h";
  }

  function show() {
    var left = Math.max(0, Math.ceil((until - Date.now()) / 1000)), el = element();
    if (!left) { hide(); return; }
    el.textContent = "This browser has asked the server for a lot of computing lately, so " +
      "your last change was not computed. Try again in " + wait(left) +
      " (what you see is the last result that was).";
    el.hidden = false;
    timer = window.setTimeout(show, 1000);
  }

  function hide() {
    window.clearTimeout(timer);
    until = 0;
    refused = {};
    if (note) note.hidden = true;
  }

  // What a request asks for: its path, and for a Dash callback the output it updates.
  function kind(path, init) {
    if (/_dash-update-component$/.test(path) && init && typeof init.body === "string") {
      try { return path + " " + JSON.parse(init.body).output; } catch (e) { return path; }
    }
    return path;
  }

  function seen(response, init) {
    var path = new URL(response.url, window.location.href).pathname;
    if (!WATCHED.test(path)) return;
    var key = kind(path, init);
    if (response.status === 429) {
      var wait = Number(response.headers.get("Retry-After")) || 1;
      refused[key] = Math.max(refused[key] || 0, Date.now() + wait * 1000);
      until = Math.max(until, refused[key]);
      window.clearTimeout(timer);
      show();
    } else if (response.ok && until && refused[key]) {
      delete refused[key];
      var now = Date.now(), later = Object.keys(refused).map(function (k) {
        return refused[k];
      }).filter(function (t) { return t > now; });
      if (!later.length) { hide(); return; }
      until = Math.max.apply(null, later);
    }
  }

  var SHORT_WAIT = 2, RETRIES = 4;

  function resendable(args) {
    var init = args[1] || {};
    return typeof args[0] === "string" && (init.body === undefined || typeof init.body === "string");
  }

  var fetch = window.fetch.bind(window);
  function attempt(args, left) {
    return fetch.apply(null, args).then(function (response) {
      try { seen(response, args[1]); } catch (e) { /* a notice must never break a request */ }
      var wait = Number(response.headers.get("Retry-After")) || 1;
      if (response.status !== 429 || left <= 0 || wait > SHORT_WAIT || !resendable(args)) {
        return response;
      }
      return new Promise(function (resolve) {
        window.setTimeout(function () { resolve(attempt(args, left - 1)); }, wait * 1000);
      });
    });
  }
  window.fetch = function () {
    return attempt(Array.prototype.slice.call(arguments), RETRIES);
  };
})();
