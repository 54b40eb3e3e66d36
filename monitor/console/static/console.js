// newsmon console: the only script the pages load. It keeps the alerts page live over
// server-sent events; rows arrive rendered (and escaped) by the server.
"use strict";

function followAlerts() {
  var live = document.getElementById("live");
  var rows = document.getElementById("alert-rows");
  var state = document.getElementById("live-state");
  if (!live || !rows || !window.EventSource) {
    return;
  }
  var query = new URLSearchParams(window.location.search);
  query.set("after", live.dataset.after || "0");
  var source = new EventSource("/events?" + query.toString());
  source.onopen = function () {
    state.textContent = "on";
    document.body.dataset.live = "on";
  };
  source.onerror = function () {
    state.textContent = "reconnecting";
  };
  source.addEventListener("alert", function (event) {
    var template = document.createElement("template");
    template.innerHTML = event.data.trim();
    var row = template.content.firstElementChild;
    if (!row || document.getElementById(row.id)) {
      return;
    }
    row.classList.add("fresh");
    rows.insertBefore(row, rows.firstElementChild);
    var empty = document.getElementById("no-alerts");
    if (empty) {
      empty.remove();
    }
  });
}

document.addEventListener("DOMContentLoaded", followAlerts);
