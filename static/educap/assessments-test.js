// Knowledge test: show the time left. The server enforces the deadline; this is only a clock.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var badge = document.querySelector(".test-countdown");
    if (!badge) { return; }
    var label = badge.querySelector(".js-countdown");
    var end = Date.now() + 1000 * parseInt(badge.getAttribute("data-seconds"), 10);
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      label.textContent = format(left);
      if (left <= 60) { badge.classList.replace("text-bg-warning", "text-bg-danger"); }
      if (left === 0) {
        window.clearInterval(timer);
        window.location.assign(badge.getAttribute("data-expired-url"));
      }
    }
    var timer = window.setInterval(tick, 1000);
    tick();
  });
})();
