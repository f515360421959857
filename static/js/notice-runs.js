// The notice runs page (templates/safety/notice_runs.html). While a run is active,
// ask the server for its counts every few seconds and update its row; announce a
// change of state in the page's polite live region. Without script the page works
// the same through its Refresh link. Served as a file: the CSP forbids inline
// script. The words come from the page (in its language), never from here.
//
// The requests say they are background refreshes, which the server does not count
// as activity for the session's idle timeout; polling also pauses when nobody has
// used the page for a while (and while it is hidden), and resumes at the next key
// press or click.
(function () {
  "use strict";
  var textNode = document.getElementById("notice-runs-text");
  var announcer = document.getElementById("notice-runs-announcer");
  var note = document.getElementById("notice-runs-note");
  if (!textNode || !announcer || !window.fetch || !window.JSON) {
    return;
  }
  var text = JSON.parse(textNode.textContent);
  var interval = (text.poll_seconds || 5) * 1000;
  var pauseAfter = (text.pause_after_seconds || 300) * 1000;
  var lastUsed = Date.now();
  var timer = null;
  var inFlight = false;
  var FIELDS = ["generated", "released", "held", "sent", "held_at_send", "blocked", "failed"];
  var MAX_FAILURES = 3;

  function fill(pattern, values) {
    return pattern.replace(/%\((\w+)\)s/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function cell(row, field) {
    return row.querySelector('[data-field="' + field + '"]');
  }

  function stateText(data) {
    return data.stalled ? text.stalled : text.states[data.state] || data.state;
  }

  function progressText(data) {
    return fill(text.progress, { done: data.chunks_done, total: data.chunks_total });
  }

  function heldList(held) {
    var list = document.createElement("ul");
    list.className = "usa-list usa-list--unstyled";
    var codes = Object.keys(held);
    if (!codes.length) {
      var none = document.createElement("li");
      none.textContent = "0";
      list.appendChild(none);
    }
    codes.forEach(function (code) {
      var item = document.createElement("li");
      item.textContent = (text.reasons[code] || code) + ": " + held[code];
      list.appendChild(item);
    });
    return list;
  }

  function showProgress(row, data) {
    var bar = row.querySelector("progress");
    if (data.chunks_total > 0) {
      bar.max = data.chunks_total;
      bar.value = data.chunks_done;
    } else if (data.active) {
      bar.removeAttribute("value"); // indeterminate until the chunks are known
    } else {
      bar.max = 1;
      bar.value = 0;
    }
    document.getElementById(bar.getAttribute("aria-labelledby")).textContent =
      progressText(data);
  }

  function showCounts(row, data) {
    if (data.counts_at_end) {
      return;
    }
    if (row.hasAttribute("data-counts-at-end")) {
      // The run's counts have arrived: one cell each instead of the placeholder.
      var placeholder = cell(row, "generated");
      FIELDS.forEach(function (field) {
        var td = document.createElement("td");
        td.setAttribute("data-field", field);
        row.insertBefore(td, placeholder);
      });
      row.removeChild(placeholder);
      row.removeAttribute("data-counts-at-end");
    }
    FIELDS.forEach(function (field) {
      var td = cell(row, field);
      if (field === "held") {
        td.replaceChildren(heldList(data.held));
      } else {
        td.textContent = String(data[field]);
      }
    });
  }

  function showFinished(row, data) {
    if (!data.finished_at) {
      return;
    }
    var time = document.createElement("time");
    time.setAttribute("datetime", data.finished_at);
    time.textContent = new Date(data.finished_at).toLocaleString(
      document.documentElement.lang || undefined,
      { dateStyle: "short", timeStyle: "short" }
    );
    cell(row, "finished").replaceChildren(
      time,
      document.createTextNode(
        " (" + fill(text.took, { duration: clock(data.duration_seconds) }) + ")"
      )
    );
  }

  function update(row, data) {
    var before = row.getAttribute("data-state") + (row.hasAttribute("data-stalled") ? "!" : "");
    var after = data.state + (data.stalled ? "!" : "");
    showProgress(row, data);
    showCounts(row, data);
    showFinished(row, data);
    cell(row, "state").textContent = stateText(data);
    row.setAttribute("data-state", data.state);
    if (data.stalled) {
      row.setAttribute("data-stalled", "");
    }
    if (!data.active) {
      row.removeAttribute("data-active");
    }
    if (before !== after) {
      announcer.textContent = fill(text.announce, {
        id: data.id,
        state: stateText(data),
        progress: progressText(data),
      });
    }
  }

  function stop(message) {
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
    if (message) {
      if (note) {
        note.textContent = message;
      }
      announcer.textContent = message;
    }
  }

  function fetchRow(row) {
    return window
      .fetch(row.getAttribute("data-progress-url"), {
        credentials: "same-origin",
        // Not activity: the server does not extend the idle timeout for it.
        headers: { Accept: "application/json", "X-Background-Refresh": "1" },
        redirect: "error", // a signed-out session is sent to sign in: stop, do not follow
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        row.removeAttribute("data-failures");
        update(row, data);
      })
      .catch(function () {
        // Keep the last figures shown; after a few failures stop asking.
        var failures = Number(row.getAttribute("data-failures") || 0) + 1;
        row.setAttribute("data-failures", String(failures));
        if (failures >= MAX_FAILURES) {
          row.removeAttribute("data-active");
        }
      });
  }

  function poll() {
    timer = null;
    var rows = document.querySelectorAll("tr[data-active][data-progress-url]");
    if (!rows.length) {
      return;
    }
    if (document.hidden) {
      return; // resumed by visibilitychange
    }
    if (Date.now() - lastUsed > pauseAfter) {
      stop(text.paused);
      return;
    }
    inFlight = true;
    Promise.all(Array.prototype.map.call(rows, fetchRow)).then(function () {
      inFlight = false;
      schedule();
    });
  }

  function schedule() {
    if (timer === null && !inFlight) {
      timer = window.setTimeout(poll, interval);
    }
  }

  function used() {
    var wasPaused = Date.now() - lastUsed > pauseAfter;
    lastUsed = Date.now();
    if (wasPaused && note) {
      note.textContent = "";
    }
    schedule();
  }

  ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (name) {
    document.addEventListener(name, used, { passive: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      schedule();
    }
  });
  schedule();
})();
