/*
 * Runs inside /widget when it sits in the launcher's iframe: tells the host page (embed.js) the
 * newest agent message id (for the unread dot), the accent colour, and when "close" is pressed.
 * It sends numbers and a colour only, never message text.
 */
(function () {
  "use strict";
  if (window.parent === window) return;
  var latest = 0;
  var accent = "";
  function post(message) { window.parent.postMessage(message, "*"); }
  function scan() {
    var max = latest;
    var nodes = document.querySelectorAll('[data-testid="visitor-message"][data-sender="agent"]');
    for (var i = 0; i < nodes.length; i++) {
      var id = parseInt(nodes[i].getAttribute("data-id") || "0", 10) || 0;
      if (id > max) max = id;
    }
    if (max > latest) { latest = max; post({ type: "handoff:agent-message", id: latest }); }
    var root = document.querySelector("[data-accent]");
    var colour = root ? root.getAttribute("data-accent") : "";
    if (colour && colour !== accent) { accent = colour; post({ type: "handoff:style", accent: accent }); }
  }
  new MutationObserver(scan).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-accent"],
  });
  document.addEventListener("click", function (e) {
    var target = e.target && e.target.closest ? e.target.closest('[data-testid="widget-close-button"]') : null;
    if (target) post({ type: "handoff:close" });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") post({ type: "handoff:close" });  // focus is in here while chatting
  });
  scan();
})();
