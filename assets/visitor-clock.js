/*
 * Loaded in <head> of every page, after storage-fallback.js and before the app starts: puts the
 * browser's IANA time zone in sessionStorage, where the visitor's state reads it with the rest
 * of the browser storage when the page hydrates (no round trip, so even a first message sent
 * while the page loads carries it). The server checks the name against its zoneinfo.
 */
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    sessionStorage.setItem("handoff_time_zone", zone.slice(0, 64));
  } catch (e) { /* no Intl or no storage: the agent just does not see the local time */ }
})();
