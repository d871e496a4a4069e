// Samaritan console: keyboard shortcuts and small comforts. Every action also works without
// this file (plain links and form posts); nothing here talks to the server on its own.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function typing(e) {
    // Text being typed; a focused radio button or checkbox still takes the shortcuts.
    var t = e.target;
    if (!t) return false;
    if (t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName)) return true;
    return t.tagName === "INPUT" && !/^(radio|checkbox|button|submit|reset)$/i.test(t.type);
  }

  // The keyboard list (?).
  var dialog = document.getElementById("keys");
  function toggleKeys() {
    if (!dialog || typeof dialog.showModal !== "function") return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }
  var opener = document.getElementById("keys-open");
  if (opener) opener.addEventListener("click", toggleKeys);

  // Queue: j/k select a row, Enter/o opens it; clicking a row opens it.
  // The rows are looked up again after htmx swaps the table in (filters).
  var rows = [];
  var sel = -1;
  function bindRows() {
    rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-href]"));
    sel = -1;
    rows.forEach(function (r, i) {
      r.addEventListener("click", function (e) {
        if (e.target.closest("a, button, input, select")) return;
        window.location.assign(r.getAttribute("data-href"));
      });
      r.addEventListener("focusin", function () { if (sel !== i) { if (sel >= 0) rows[sel].classList.remove("sel"); sel = i; r.classList.add("sel"); } });
    });
  }
  bindRows();
  document.body.addEventListener("htmx:afterSettle", bindRows);
  function select(i) {
    if (!rows.length) return;
    if (sel >= 0) rows[sel].classList.remove("sel");
    sel = Math.max(0, Math.min(rows.length - 1, i));
    rows[sel].classList.add("sel");
    rows[sel].scrollIntoView({ block: "nearest" });
    var link = rows[sel].querySelector("a");
    if (link) link.focus({ preventScroll: true });
  }

  // Decision form: one key per action, a number per reason; only the chosen action's reasons show.
  var form = document.getElementById("decide") || document.getElementById("case-decide");
  function showReasons(action) {
    if (!form) return;
    form.querySelectorAll("fieldset.reasons").forEach(function (f) {
      var on = f.getAttribute("data-action") === action;
      f.classList.toggle("shown", on);
      if (!on) f.querySelectorAll("input").forEach(function (i) { i.checked = false; });
    });
  }
  function chooseAction(key) {
    if (!form) return false;
    var input = form.querySelector('input[name="action"][data-key="' + key + '"]');
    if (!input) return false;
    input.checked = true;
    showReasons(input.value);
    return true;
  }
  function chooseReason(n) {
    if (!form) return false;
    var shown = form.querySelector("fieldset.reasons.shown");
    if (!shown) return false;
    var input = shown.querySelector('input[data-n="' + n + '"]');
    if (!input) return false;
    input.checked = true;
    input.focus();
    return true;
  }
  if (form) {
    form.querySelectorAll('input[name="action"]').forEach(function (i) {
      i.addEventListener("change", function () { showReasons(i.value); });
    });
    var checked = form.querySelector('input[name="action"]:checked');
    if (checked) showReasons(checked.value);
  }

  // The lease end in local time, counting down (looked up each second: the page renews the
  // lease every two minutes and swaps the element in).
  function tickLease() {
    var lease = document.querySelector("time.lease");
    if (!lease) return;
    var end = Date.parse(lease.getAttribute("datetime"));
    if (isNaN(end)) return;
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    lease.textContent = new Date(end).toLocaleTimeString() + " (" + Math.floor(left / 60) + " min " + (left % 60) + " s left)";
  }
  if (document.querySelector("time.lease")) { tickLease(); setInterval(tickLease, 1000); }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && typing(e)) { e.target.blur(); return; }
    if (typing(e)) return;
    var k = e.key;
    if (k === "?") { toggleKeys(); e.preventDefault(); return; }
    if (rows.length && (k === "j" || k === "k")) { select(sel + (k === "j" ? 1 : -1)); e.preventDefault(); return; }
    if (rows.length && (k === "Enter" || k === "o") && sel >= 0) { window.location.assign(rows[sel].getAttribute("data-href")); e.preventDefault(); return; }
    if (k === "n") { var c = document.getElementById("claim-next"); if (c) { c.requestSubmit(); e.preventDefault(); } return; }
    if (k === "/") { window.location.assign("/search"); e.preventDefault(); return; }
    if (form) {
      if (/^[dare]$/.test(k) && chooseAction(k)) { e.preventDefault(); return; }
      if (/^[1-9]$/.test(k) && chooseReason(k)) { e.preventDefault(); return; }
      if (k === "s") { var b = document.getElementById("submit-next"); if (b) { form.requestSubmit(b); e.preventDefault(); } }
    }
  });
})();
