// The running timer's elapsed time ticks in the browser; the server is asked only every
// few seconds (htmx poll) whether the timer still runs. Times come from the server as ISO
// 8601, so a device with a wrong clock still shows the right elapsed time once polled.
(function () {
  function pad(n) { return String(n).padStart(2, "0"); }
  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return h + ":" + pad(m) + ":" + pad(seconds % 60);
  }
  function tick() {
    document.querySelectorAll("[data-timer-started]").forEach(function (el) {
      const started = Date.parse(el.dataset.timerStarted);
      const serverNow = Date.parse(el.dataset.timerServerNow);
      const loadedAt = Number(el.dataset.timerLoadedAt || 0) || Date.now();
      if (!el.dataset.timerLoadedAt) el.dataset.timerLoadedAt = String(loadedAt);
      const elapsed = (serverNow - started) / 1000 + (Date.now() - loadedAt) / 1000;
      el.textContent = format(elapsed);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
})();
