/*
 * Ticking times in the agent's context panel, computed in the browser:
 *   <span data-live-clock="Asia/Tokyo"></span>    the time now in that IANA zone ("14:32")
 *   <span data-live-elapsed="2026-11-21T16:02:00+00:00"></span>    time since then ("12 min")
 * The elements are rendered empty by React; this script owns their text.
 */
(function () {
  "use strict";
  if (window.__handoffClock) return;
  window.__handoffClock = true;
  var formats = {};

  function clock(zone) {
    if (!(zone in formats)) {
      try {
        formats[zone] = new Intl.DateTimeFormat(undefined, {
          hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone,
        });
      } catch (e) { formats[zone] = null; }  // a zone this browser does not know
    }
    return formats[zone] ? formats[zone].format(new Date()) : "";
  }
  function elapsed(iso) {
    var since = Date.parse(iso);
    if (isNaN(since)) return "";
    var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
    if (minutes < 1) return "less than a minute";
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
    var days = Math.floor(hours / 24);
    return days + (days === 1 ? " day" : " days") + (hours % 24 ? " " + (hours % 24) + " h" : "");
  }
  function show(el, text) { if (el.textContent !== text) el.textContent = text; }
  function tick() {
    document.querySelectorAll("[data-live-clock]").forEach(function (el) {
      show(el, clock(el.getAttribute("data-live-clock") || ""));
    });
    document.querySelectorAll("[data-live-elapsed]").forEach(function (el) {
      show(el, elapsed(el.getAttribute("data-live-elapsed") || ""));
    });
  }
  var queued = false;
  function soon() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(function () { queued = false; tick(); });
  }
  // new panels show their times at once; after that, every second
  new MutationObserver(soon).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true,
    attributeFilter: ["data-live-clock", "data-live-elapsed"],
  });
  setInterval(tick, 1000);
  tick();
})();
