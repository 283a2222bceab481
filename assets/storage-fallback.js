/*
 * Loaded first on every page. In a third-party iframe (the /widget opened by embed.js on a
 * customer's site) the browser may deny storage (incognito, "block third-party cookies"), and
 * the app would not start. Then this puts in-memory storage in place, takes the visitor's
 * conversation key from the iframe's #key= fragment (the host page keeps it in its own storage),
 * and hands a new key back to the host page, addressed to that page's origin only.
 */
(function () {
  "use strict";
  function usable(name) {
    try {
      var store = window[name];
      var probe = "__handoff_probe__";
      store.setItem(probe, "1");
      store.removeItem(probe);
      return true;
    } catch (e) {
      return false;
    }
  }
  if (usable("localStorage") && usable("sessionStorage")) return;

  var KEY = "handoff_conversation_key";
  var parentOrigin = (function () {
    try {
      if (window.location.ancestorOrigins && window.location.ancestorOrigins.length) {
        return window.location.ancestorOrigins[0];
      }
      return document.referrer ? new URL(document.referrer).origin : "";
    } catch (e) {
      return "";
    }
  })();

  function memoryStorage(onSet) {
    var data = {};
    return {
      get length() { return Object.keys(data).length; },
      key: function (i) { return Object.keys(data)[i] || null; },
      getItem: function (k) { return Object.prototype.hasOwnProperty.call(data, k) ? data[k] : null; },
      setItem: function (k, v) { data[k] = String(v); if (onSet) onSet(k, data[k]); },
      removeItem: function (k) { delete data[k]; if (onSet) onSet(k, ""); },
      clear: function () { data = {}; },
    };
  }
  function tellHost(k, v) {
    if (k === KEY && parentOrigin && window.parent !== window) {
      window.parent.postMessage({ type: "handoff:key", key: v }, parentOrigin);
    }
  }
  var local = memoryStorage(tellHost);
  var match = /[#&]key=([^&]+)/.exec(window.location.hash);
  if (match) {
    local.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  try { Object.defineProperty(window, "localStorage", { value: local, configurable: true }); } catch (e) {}
  try {
    Object.defineProperty(window, "sessionStorage", { value: memoryStorage(null), configurable: true });
  } catch (e) {}
})();
