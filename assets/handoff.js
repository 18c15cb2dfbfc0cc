/*
 * Optimizer Race: hand-off to students. "Students' link" (layouts/handoff.py) asks the server
 * for the page's current link with the controls hidden and its QR code (GET /api/qr, drawn
 * by segno as SVG; no outside service), and shows both in a dialog.
 *
 * The query sent is the address bar's, which assets/tools.js keeps equal to the page; the
 * server checks it and builds the link on its own origin. The SVG is shown as an <img>, so
 * nothing in it could run.
 */
(function () {
  "use strict";

  // Modules across beyond which a code is hard to read from the back of a room (version 15).
  var DENSE = 77;

  var R = window.optimizerRace;

  function byId(name) { return R.el(name); }

  function status(text) {
    var el = byId("HANDOFF_STATUS");
    if (el) el.textContent = text;
  }

  // What the code opens: a copy of this beat (in a lesson) or of this race, not a live follow.
  function hint() {
    var el = document.querySelector("#" + R.ids.HANDOFF_DIALOG + " .handoff-hint");
    if (el) {
      el.textContent = "Scan to open this " + (R.use("beats") ? "beat" : "race") +
        " on a phone, without the racer settings (a copy: it does not follow this screen).";
    }
  }

  // A link on a loopback address (the server on 127.0.0.1, localhost or ::1, as `make run`
  // serves) reaches only this computer: no phone opens it. Said in one line, with what to do.
  function loopback(link) {
    var url;
    try { url = new URL(link); } catch (e) { return null; }
    var name = url.hostname.replace(/^\[|\]$/g, "");
    return name === "localhost" || /^127\./.test(name) || name === "::1" ? url : null;
  }
  function local(link) {
    var note = document.querySelector("#" + R.ids.HANDOFF_DIALOG + " .handoff-local");
    if (!note) return;
    var url = link ? loopback(link) : null;
    note.hidden = !url;
    if (!url) return;
    var port = url.port || (url.protocol === "https:" ? "443" : "80");
    note.innerHTML = "<strong>Phones cannot open " + R.escapeHtml(url.host) + "</strong> " +
      "(this computer only): serve with <code>HOST=0.0.0.0 PUBLIC_HOSTS=" +
      "&lt;network address&gt;:" + R.escapeHtml(port) + "</code> and open the page at that " +
      "address.";
  }

  function show(answer) {
    var box = byId("HANDOFF_CODE"), link = byId("HANDOFF_LINK");
    local(answer.link);
    box.textContent = "";
    var img = document.createElement("img");
    img.alt = "QR code of the students' link";
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(answer.svg);
    box.appendChild(img);
    link.textContent = answer.link;
    link.href = answer.link;
    byId("HANDOFF_DIALOG").setAttribute("data-link", answer.link);
    // A long link (many racers) makes a fine-grained code: phones read it from nearer.
    var size = /viewBox="0 0 (\d+) /.exec(answer.svg);
    status(size && Number(size[1]) - 8 > DENSE ?
           "A long link makes a dense code: scan it from closer, or share the link." : "");
  }

  function open() {
    var dialog = byId("HANDOFF_DIALOG");
    if (!dialog) return;
    dialog.removeAttribute("data-link");
    byId("HANDOFF_CODE").textContent = "";
    byId("HANDOFF_LINK").textContent = "";
    hint();
    local(null);
    status("Making the code…");
    if (!dialog.open) dialog.showModal();
    fetch("/api/qr" + window.location.search, {headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (r) {
        if (r.ok) show(r.body);
        else status("No code: " + (r.body.field ? r.body.field + ": " : "") + r.body.error);
      })
      .catch(function () { status("No code: the server did not answer."); });
  }

  function copy() {
    var link = byId("HANDOFF_DIALOG").getAttribute("data-link");
    if (!link) return;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(link).then(function () { status("Link copied."); },
                                                 function () { status("Select the link to copy it."); });
    } else {
      status("Select the link to copy it.");
    }
  }

  // The students' link hides the controls; its note (layouts/handoff.py controls_note) links
  // to the full page: this page's address (the race, the step, the view) without "hide".
  function fullPage() {
    var q = new URLSearchParams(window.location.search);
    q.delete("hide");
    var rest = q.toString();
    return window.location.pathname + (rest ? "?" + rest : "");
  }

  function pointFullPage() {
    var link = document.querySelector(".controls-note .full-page-link");
    if (link) link.setAttribute("href", fullPage());
  }
  // Kept current as the address changes, and once more as it is followed.
  R.on("load", pointFullPage);
  ["pointerdown", "focusin", "click"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target.closest && event.target.closest(".controls-note")) pointFullPage();
    }, true);
  });

  R.action("handoff", open);
  R.action("close-handoff", function () { byId("HANDOFF_DIALOG").close(); });
  R.action("copy-handoff", copy);
})();
