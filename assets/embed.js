/*
 * handoff_app chat widget launcher. Paste on any page of your site:
 *   <script src="https://YOUR-APP/embed.js" data-accent="#2563eb" data-title="Chat with us" async></script>
 * It adds a launcher bubble that opens the chat (/widget) in an iframe, shows an unread dot when
 * an agent replies while the chat is closed, and keeps the conversation across page loads (the
 * iframe keeps its own storage for this site).
 */
(function () {
  "use strict";
  if (window.__handoffWidget) return;
  var script = document.currentScript;
  if (!script || !script.src) return;
  window.__handoffWidget = true;

  var origin = new URL(script.src).origin;
  var HEX = /^#[0-9a-fA-F]{6}$/;
  var accent = script.getAttribute("data-accent");
  if (!HEX.test(accent || "")) accent = "#2563eb";
  var title = script.getAttribute("data-title") || "Chat with us";
  var SEEN_KEY = "handoff_widget_seen_agent_message";
  var CONVERSATION_KEY = "handoff_widget_conversation";
  var OPEN_KEY = "handoff_widget_open";
  var state = { open: false, latestAgentId: 0 };

  function seenId() {
    try { return parseInt(localStorage.getItem(SEEN_KEY) || "0", 10) || 0; } catch (e) { return 0; }
  }
  function remember(key, value) {
    try { localStorage.setItem(key, value); } catch (e) { /* storage off: still works, forgets */ }
  }

  var frame = document.createElement("iframe");
  // The conversation key lives in this site's storage too: a browser that denies storage to
  // third-party iframes would otherwise forget the conversation on every page load.
  var savedKey = "";
  try { savedKey = localStorage.getItem(CONVERSATION_KEY) || ""; } catch (e) {}
  // the page the visitor is on, where they came from, and how long they have been on this
  // site (this tab's session start, kept in the site's sessionStorage), for the agent's
  // context panel. The time on site is sent as elapsed milliseconds: one clock, no skew.
  var ARRIVED_KEY = "handoff_site_arrived";
  var onSite = "";
  try {
    var arrived = parseInt(sessionStorage.getItem(ARRIVED_KEY) || "", 10);
    if (!(arrived > 0) || arrived > Date.now()) {
      arrived = Date.now();
      sessionStorage.setItem(ARRIVED_KEY, String(arrived));
    }
    onSite = "&onsite=" + String(Date.now() - arrived);
  } catch (e) { /* storage off: the agent just does not see the time on site */ }
  var context = "?page=" + encodeURIComponent(location.href.slice(0, 500)) +
    "&ref=" + encodeURIComponent((document.referrer || "").slice(0, 500)) + onSite;
  frame.src = origin + "/widget" + context +
    (savedKey ? "#key=" + encodeURIComponent(savedKey) : "");
  frame.title = title;
  frame.setAttribute("data-handoff", "frame");
  frame.setAttribute("allow", "clipboard-write");
  frame.style.cssText = [
    "position:fixed", "z-index:2147483000", "right:20px", "bottom:90px", "width:380px",
    "height:min(640px, calc(100vh - 110px))", "max-width:calc(100vw - 24px)", "border:0",
    "border-radius:14px", "box-shadow:0 12px 40px rgba(0,0,0,.18)", "background:#fff",
    "display:none",
  ].join(";");

  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("data-handoff", "launcher");
  button.setAttribute("aria-label", "Open chat: " + title);
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = [
    "position:fixed", "z-index:2147483001", "right:20px", "bottom:20px", "width:56px",
    "height:56px", "border-radius:50%", "border:0", "cursor:pointer", "padding:0",
    "display:flex", "align-items:center", "justify-content:center", "background:" + accent,
    "box-shadow:0 6px 20px rgba(0,0,0,.22)",
  ].join(";");
  var ICON_CHAT = '<svg width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="#fff" ' +
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
    '<path d="M7.9 20A9 9 0 1 0 4 16.1L2 22Z"/></svg>';
  var ICON_CLOSE = '<svg width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="#fff" ' +
    'stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M18 6 6 18M6 6l12 12"/></svg>';

  var dot = document.createElement("span");
  dot.setAttribute("data-handoff", "unread");
  dot.setAttribute("aria-label", "New reply");
  dot.style.cssText = [
    "position:absolute", "top:2px", "right:2px", "width:14px", "height:14px",
    "border-radius:50%", "background:#e5484d", "border:2px solid #fff", "display:none",
  ].join(";");

  function render() {
    frame.style.display = state.open ? "block" : "none";
    button.innerHTML = state.open ? ICON_CLOSE : ICON_CHAT;
    button.appendChild(dot);
    button.setAttribute("aria-expanded", state.open ? "true" : "false");
    button.setAttribute("aria-label", (state.open ? "Close chat: " : "Open chat: ") + title);
    var unread = !state.open && state.latestAgentId > seenId();
    dot.style.display = unread ? "block" : "none";
  }
  function markSeen() {
    if (state.latestAgentId > seenId()) remember(SEEN_KEY, String(state.latestAgentId));
  }
  function setOpen(open) {
    state.open = open;
    remember(OPEN_KEY, open ? "1" : "0");
    if (open) markSeen();
    render();
    if (open) frame.focus();
  }

  button.addEventListener("click", function () { setOpen(!state.open); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && state.open) { setOpen(false); button.focus(); }
  });
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    var data = e.data;
    if (!data || typeof data !== "object") return;
    if (data.type === "handoff:agent-message" && typeof data.id === "number") {
      state.latestAgentId = Math.max(state.latestAgentId, data.id);
      if (state.open) markSeen();
      render();
    } else if (data.type === "handoff:style" && HEX.test(data.accent || "")) {
      button.style.background = data.accent;  // the owner's current colour, from the settings
    } else if (data.type === "handoff:key" && typeof data.key === "string") {
      remember(CONVERSATION_KEY, data.key);
    } else if (data.type === "handoff:close") {
      setOpen(false);
      button.focus();
    }
  });

  function mount() {
    document.body.appendChild(frame);
    document.body.appendChild(button);
    state.open = (function () {
      try { return localStorage.getItem(OPEN_KEY) === "1"; } catch (e) { return false; }
    })();
    render();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
