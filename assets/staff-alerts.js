/*
 * Staff pages: the unclaimed count in the browser tab's title, and on a new escalation a short
 * sound and a desktop notification (when the agent allowed notifications). The bell in the
 * navigation turns sound and notifications off or on for this browser (kept in localStorage).
 * `window.__handoffAlerts` counts what was played, for the browser tests.
 */
(function () {
  "use strict";
  if (window.__handoffAlerts) return;
  var KEY = "handoff_alerts";
  var stats = (window.__handoffAlerts = { sounds: 0, notifications: 0, last: null });
  var audio = null;
  var last = null;

  function enabled() {
    try { return localStorage.getItem(KEY) !== "off"; } catch (e) { return true; }
  }
  function showPreference() {
    document.documentElement.setAttribute("data-handoff-alerts", enabled() ? "on" : "off");
  }
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      [0, 0.18].forEach(function (offset, i) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = i ? 1046 : 784;
        gain.gain.setValueAtTime(0.0001, audio.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + offset + 0.16);
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + offset);
        osc.stop(audio.currentTime + offset + 0.17);
      });
      stats.sounds += 1;
    } catch (e) { /* no audio device: the title and the badge still say it */ }
  }
  function notify(count) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      new Notification("A visitor is waiting", {
        body: count + " conversation" + (count === 1 ? "" : "s") + " waiting for an agent",
        tag: "handoff-queue",
      });
      stats.notifications += 1;
    } catch (e) { /* some browsers only notify from a service worker */ }
  }
  function update() {
    var badge = document.querySelector('[data-testid="nav-unclaimed-badge"]');
    if (!badge) return;
    var count = parseInt(badge.textContent || "0", 10) || 0;
    var base = document.title.replace(/^\(\d+\) /, "");
    var title = count > 0 ? "(" + count + ") " + base : base;
    if (document.title !== title) document.title = title;
    if (last !== null && count > last && enabled()) {
      beep();
      notify(count);
    }
    last = count;
    stats.last = count;
  }
  document.addEventListener("click", function (e) {
    var toggle = e.target && e.target.closest ? e.target.closest('[data-testid="nav-alerts-toggle"]') : null;
    if (!toggle) return;
    var on = !enabled();
    try { localStorage.setItem(KEY, on ? "on" : "off"); } catch (err) {}
    showPreference();
    if (on && "Notification" in window && Notification.permission === "default") {
      Notification.requestPermission();
    }
  });
  // Waiting rows turn amber after a minute and red past the response deadline, ticking live.
  function colourRows() {
    var now = Date.now();
    var rows = document.querySelectorAll('.queue-row[data-status="pending"]');
    for (var i = 0; i < rows.length; i++) {
      var requested = Date.parse(rows[i].getAttribute("data-requested-at") || "");
      var deadline = Date.parse(rows[i].getAttribute("data-deadline") || "");
      var age = "";
      if (!isNaN(deadline) && now >= deadline) age = "red";
      else if (!isNaN(requested) && now - requested >= 60000) age = "amber";
      if ((rows[i].getAttribute("data-age") || "") !== age) rows[i].setAttribute("data-age", age);
    }
  }
  setInterval(colourRows, 2000);
  showPreference();
  new MutationObserver(function () { update(); colourRows(); }).observe(
    document.documentElement, { childList: true, subtree: true, characterData: true }
  );
  update();
})();
