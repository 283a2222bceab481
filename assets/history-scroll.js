/*
 * Older messages load when the reader scrolls to the top of a thread (agent and visitor).
 * The thread (`[data-history-scroll]`) has a sentinel at its top (`[data-history-sentinel]`)
 * and, while older messages exist, the "Load earlier messages" button (`[data-history-load]`,
 * kept visible as a fallback). When the sentinel comes into view this clicks the button, then
 * keeps what the reader was looking at in place as the older messages are put above it. With
 * no button left (nothing older), nothing happens.
 * Whichever element scrolls (the thread on wide screens, the page on phones) is handled.
 */
(function () {
  "use strict";
  if (window.__handoffHistoryScroll) return;
  var stats = (window.__handoffHistoryScroll = { loads: 0 });
  var wired = new WeakSet();
  var PENDING_MS = 8000;  // give up waiting for a load after this (the button stays)
  // Nothing loads before the reader has touched the page: on a phone the page itself scrolls
  // and opens at its top, which is not "the reader scrolled up".
  var touched = false;
  ["wheel", "touchstart", "pointerdown", "keydown"].forEach(function (type) {
    window.addEventListener(type, function () { touched = true; }, { capture: true, passive: true });
  });

  function scroller(thread) {
    return thread.scrollHeight > thread.clientHeight + 1
      ? thread
      : document.scrollingElement || document.documentElement;
  }
  function sentinelInView(thread, sentinel) {
    var box = sentinel.getBoundingClientRect();
    var view = thread.getBoundingClientRect();
    var top = Math.max(view.top, 0);
    var bottom = Math.min(view.bottom, window.innerHeight);
    return box.bottom >= top && box.top <= bottom;
  }

  function wire(thread) {
    wired.add(thread);
    thread.style.overflowAnchor = "none";  // we keep the position ourselves, exactly once
    var pending = null;

    function restore() {
      if (!pending) return;
      var el = pending.el;
      var grown = el.scrollHeight - pending.height;
      if (grown === 0) return;
      el.scrollTop = pending.top + grown;
      pending = null;
      setTimeout(check, 50);  // still at the top (a short page)? load the next one
    }
    function check() {
      var sentinel = thread.querySelector("[data-history-sentinel]");
      var button = thread.querySelector("[data-history-load]");
      if (!touched || pending || !sentinel || !button || button.disabled) return;
      var el = scroller(thread);
      // only once the reader can scroll: a thread that is still filling is not "at the top"
      if (el.scrollHeight <= el.clientHeight + 1 || !sentinelInView(thread, sentinel)) return;
      pending = { el: el, height: el.scrollHeight, top: el.scrollTop, at: Date.now() };
      stats.loads += 1;
      button.click();
      setTimeout(function () {
        if (pending && Date.now() - pending.at >= PENDING_MS) pending = null;
      }, PENDING_MS);
    }
    var observer = new IntersectionObserver(function (entries) {
      // wait for the thread's own scroll-to-bottom after a render before deciding
      if (entries.some(function (e) { return e.isIntersecting; })) setTimeout(check, 150);
    });
    function observeSentinel() {
      var sentinel = thread.querySelector("[data-history-sentinel]");
      if (sentinel && sentinel !== thread.__handoffSentinel) {
        if (thread.__handoffSentinel) observer.unobserve(thread.__handoffSentinel);
        thread.__handoffSentinel = sentinel;
        observer.observe(sentinel);
      }
    }
    observeSentinel();
    // React puts the older messages in: restore before the browser paints (no jump)
    new MutationObserver(function () { restore(); observeSentinel(); })
      .observe(thread, { childList: true, subtree: true });
    thread.addEventListener("scroll", function () { if (!pending) check(); }, { passive: true });
  }

  function scan() {
    document.querySelectorAll("[data-history-scroll]").forEach(function (thread) {
      if (!wired.has(thread)) wire(thread);
    });
  }
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
  scan();
})();
