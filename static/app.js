// Progressive enhancement only: every page works without this script.
// - The navigation collapses to a menu button on narrow screens.
// - The current page is marked in the navigation.
// - A running timer counts live: its elapsed time, the tab title, and the
//   "Today" / "This week" totals (data-count-from: seconds at page load).
// - The task picker offers only the chosen project's tasks.
// - Destructive forms ask for confirmation in a dialog.
// - The timesheet saves each cell as it changes and moves by arrow keys.
// - The exports page shows the progress of unfinished exports live.
// - The job console's numbers and worker list refresh every 5 s.
// - Keyboard shortcuts (s, n, t, w, e, r; ? lists them).
(function () {
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function hms(s) {
    return Math.floor(s / 3600) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }

  function navigation() {
    var header = document.querySelector("header.top");
    var toggle = document.querySelector(".menu-toggle");
    if (header && toggle) {
      toggle.hidden = false;
      header.classList.add("collapsed");
      toggle.addEventListener("click", function () {
        var open = header.classList.toggle("collapsed") === false;
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    var here = location.pathname;
    document.querySelectorAll("#main-nav a").forEach(function (a) {
      var path = a.getAttribute("href");
      if (path === here || (path !== "/" && here.indexOf(path + "/") === 0)) {
        a.setAttribute("aria-current", "page");
      }
    });
  }

  function timer() {
    var loaded = Date.now();
    var running = document.querySelector("[data-started]");
    var baseTitle = document.title;
    function tick() {
      var elapsedSinceLoad = Math.floor((Date.now() - loaded) / 1000);
      document.querySelectorAll("[data-started]").forEach(function (el) {
        var started = Date.parse(el.getAttribute("data-started"));
        if (isNaN(started)) { return; }
        var text = hms(Math.max(0, Math.floor((Date.now() - started) / 1000)));
        el.textContent = text;
        if (el.hasAttribute("data-title")) {
          document.title = text + " · " + el.getAttribute("data-title") + " · TimeTracker";
        }
      });
      if (running) {
        document.querySelectorAll("[data-count-from]").forEach(function (el) {
          var base = parseInt(el.getAttribute("data-count-from"), 10);
          if (!isNaN(base)) { el.textContent = hms(base + elapsedSinceLoad); }
        });
      } else if (document.title !== baseTitle) {
        document.title = baseTitle;
      }
    }
    if (running) { tick(); setInterval(tick, 1000); }
  }

  function taskPickers() {
    document.querySelectorAll("select[data-project-select]").forEach(function (task) {
      taskPicker(document.getElementById(task.getAttribute("data-project-select")), task);
    });
  }

  function taskPicker(project, task) {
    if (!project || !task.querySelector("option[data-project]")) { return; }
    function filter() {
      Array.prototype.forEach.call(task.options, function (o) {
        var p = o.getAttribute("data-project");
        var hide = p !== null && p !== project.value;
        o.hidden = hide;
        o.disabled = hide;
        if (hide && o.selected) { task.value = ""; }
      });
    }
    project.addEventListener("change", filter);
    filter();
  }

  // Destructive forms (data-confirm) ask in a native dialog first; the
  // server asks on a page of its own when this script does not run.
  function confirmations() {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    var pending = null;
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (!form.hasAttribute || !form.hasAttribute("data-confirm")) { return; }
      if (form.querySelector("input[name=confirm]")) { return; }
      // A form that confirms only one of its actions (bulk: delete).
      var when = form.getAttribute("data-confirm-when");
      if (when && (!form.elements.action || form.elements.action.value !== when)) { return; }
      e.preventDefault();
      pending = form;
      document.getElementById("confirm-question").textContent = form.getAttribute("data-confirm");
      document.getElementById("confirm-consequence").textContent =
        form.getAttribute("data-consequence") || "This cannot be undone.";
      document.getElementById("confirm-ok").textContent = form.getAttribute("data-confirm-button") || "Confirm";
      dialog.returnValue = "";
      dialog.showModal();
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "ok" && pending) {
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = "confirm";
        field.value = "yes";
        pending.appendChild(field);
        pending.submit();
      }
      pending = null;
    });
  }

  // The exports page follows unfinished exports by polling their JSON
  // (/api/v1/exports/{id}, with the session cookie) while the tab is visible.
  function exportProgress() {
    var rows = document.querySelectorAll("tr[data-export]");
    if (!rows.length || !window.fetch) { return; }
    document.querySelectorAll(".no-script-hint").forEach(function (el) { el.hidden = true; });
    function update(row, e) {
      row.querySelector(".export-status").textContent = e.status;
      var bar = row.querySelector(".export-progress");
      if (bar && e.rows_total) { bar.value = Math.min(100, Math.floor(e.rows_done * 100 / e.rows_total)); }
      row.querySelector(".export-rows").textContent =
        e.rows_total && e.status === "running" ? e.rows_done + " of " + e.rows_total : "" + e.rows_done;
      if (e.byte_size) { row.querySelector(".export-size").textContent = (e.byte_size / 1024).toFixed(1) + " KiB"; }
      if (e.status === "done" || e.status === "failed") {
        if (bar) { bar.remove(); }
        row.removeAttribute("data-export");
        if (e.status === "done") {
          var a = document.createElement("a");
          a.href = "/exports/" + e.id + "/download";
          a.textContent = "Download";
          row.querySelector(".export-file").appendChild(a);
        } else if (e.error) {
          var err = document.createElement("span");
          err.className = "error";
          err.textContent = " " + e.error;
          row.querySelector(".export-status").after(err);
        }
      }
    }
    function poll() {
      var pending = document.querySelectorAll("tr[data-export]");
      if (!pending.length) { return; }
      if (!document.hidden) {
        pending.forEach(function (row) {
          fetch("/api/v1/exports/" + row.getAttribute("data-export"), { headers: { Accept: "application/json" } })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (e) { if (e) { update(row, e); } })
            .catch(function () {});
        });
      }
      setTimeout(poll, 2000);
    }
    setTimeout(poll, 1000);
  }

  // The job console polls its JSON (/api/v1/admin/queues, with the session
  // cookie) every 5 s while the tab is visible and rewrites its numbers and
  // the worker list; the per-minute chart refreshes with the page.
  function jobsLive() {
    var status = document.getElementById("jobs-live");
    if (!status || !window.fetch) { return; }
    var source = status.getAttribute("data-live-source");
    function seconds(p50, p95) {
      return p50 === null || p95 === null ? "–" : p50.toFixed(1) + " / " + p95.toFixed(1) + " s";
    }
    function cell(tr, label, text, strong) {
      var td = document.createElement("td");
      td.setAttribute("data-label", label);
      var inner = strong ? document.createElement("strong") : td;
      if (strong) { inner.className = "error"; td.appendChild(inner); }
      inner.textContent = text;
      tr.appendChild(td);
      return td;
    }
    function time(iso, withDate) {
      var t = new Date(iso).toISOString();
      return (withDate ? t.slice(0, 10) + " " : "") + t.slice(11, 19) + " UTC";
    }
    function update(o) {
      o.queues.forEach(function (q) {
        var row = document.querySelector("tr[data-queue='" + CSS.escape(q.name) + "']");
        if (!row) { return; }
        var c = q.counts;
        [c.pending, c.scheduled, c.running, c.retrying, c.done, c.dead].forEach(function (n, i) {
          var td = row.querySelectorAll("[data-live=count]")[i];
          if (td) { td.textContent = n; }
        });
        var st = row.querySelector("[data-live=status]");
        st.textContent = "";
        if (q.paused) {
          var b = document.createElement("strong");
          b.textContent = "paused";
          st.appendChild(b);
        } else { st.textContent = "running"; }
        row.querySelector("[data-live=oldest]").textContent =
          q.oldest_ready_seconds === null ? "–" : Math.round(q.oldest_ready_seconds) + " s";
        var h = q.last_hour;
        var hour = document.querySelector("tr[data-queue-hour='" + CSS.escape(q.name) + "']");
        if (!hour) { return; }
        hour.querySelector("[data-live=hour]").textContent = h.done + " · " + h.retried + " · " + h.dead;
        hour.querySelector("[data-live=wait]").textContent = seconds(h.wait_p50_seconds, h.wait_p95_seconds);
        hour.querySelector("[data-live=run]").textContent = seconds(h.run_p50_seconds, h.run_p95_seconds);
      });
      var body = document.querySelector("#jobs-workers tbody");
      if (body) {
        body.textContent = "";
        o.workers.forEach(function (w) {
          var tr = document.createElement("tr");
          var name = cell(tr, "Process", "");
          var code = document.createElement("code");
          code.textContent = w.name;
          name.appendChild(code);
          name.appendChild(document.createTextNode(" (pid " + w.pid + ")"));
          cell(tr, "Host", w.host);
          cell(tr, "Queues", w.queues.join(", "));
          cell(tr, "Started", time(w.started_at, true));
          cell(tr, "Last heartbeat", time(w.last_heartbeat, false));
          cell(tr, "Holds", w.holds > 0 ? w.holds + " jobs" : "0");
          var s = cell(tr, "Status", w.presumed_dead ? "presumed dead" : "alive", w.presumed_dead);
          if (w.presumed_dead && w.holds > 0) { s.appendChild(document.createTextNode(": its jobs are about to be rescued")); }
          body.appendChild(tr);
        });
        if (!o.workers.length) {
          var tr = document.createElement("tr");
          cell(tr, "", "No worker process seen in the last hour: no job runs.").colSpan = 7;
          body.appendChild(tr);
        }
      }
      status.textContent = "Updated " + time(new Date().toISOString(), false) + "; the numbers refresh every 5 seconds while this tab is open.";
    }
    function poll() {
      if (!document.hidden) {
        fetch(source, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (o) { if (o) { update(o); } })
          .catch(function () {});
      }
      setTimeout(poll, 5000);
    }
    setTimeout(poll, 5000);
  }

  // Single-key shortcuts, outside text fields; `?` lists them.
  function shortcuts() {
    var help = document.getElementById("shortcuts-dialog");
    if (!help || typeof help.showModal !== "function") { return; }
    document.querySelectorAll("[data-shortcuts]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { help.showModal(); });
    });
    var go = { n: "/entries/new", t: "/", w: "/timesheet", e: "/entries", r: "/reports" };
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) { return; }
      var t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) { return; }
      if (document.querySelector("dialog[open]")) { return; }
      if (e.key === "?") {
        e.preventDefault();
        help.showModal();
      } else if (e.key === "s") {
        var stop = document.querySelector("form[action='/timer/stop']");
        var start = document.querySelector("form[action='/timer/start']");
        e.preventDefault();
        if (stop) { stop.requestSubmit(); } else if (start && start.querySelector("select")) { start.requestSubmit(); } else { location.href = "/"; }
      } else if (go[e.key]) {
        e.preventDefault();
        location.href = go[e.key];
      }
    });
  }

  // The week grid: each cell saves itself through the JSON API when it
  // changes (or on Enter) and shows what was understood; arrows move
  // between cells; on a phone the day tabs switch days without a reload.
  function timesheet() {
    var table = document.querySelector("table.sheet");
    if (!table || !window.fetch) { return; }
    var form = document.getElementById("timesheet");
    var status = document.getElementById("sheet-status");
    var csrf = form.elements.csrf_token.value;
    // As the server shows a cell (domain::timesheet::format_cell): 1:30, or 1:30:15.
    function hm(seconds) {
      if (!seconds) { return ""; }
      var m = Math.floor(seconds / 60), s = seconds % 60;
      var out = Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0");
      return s ? out + ":" + String(s).padStart(2, "0") : out;
    }
    function cellError(input, message) {
      var td = input.closest("td");
      var err = td.querySelector(".error");
      if (!message) {
        if (err) { err.remove(); }
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
        return;
      }
      if (!err) {
        err = document.createElement("span");
        err.className = "error";
        err.id = input.name + "-error";
        td.appendChild(err);
      }
      err.textContent = message;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", err.id);
    }
    function save(input) {
      if (input.value === input.getAttribute("data-saved")) { return; }
      var key = input.name.split(".");
      var col = Number(key[3]);
      var body = {
        project_id: Number(key[1]),
        task_id: key[2] === "0" ? null : Number(key[2]),
        date: table.querySelector("thead th.d" + col).getAttribute("data-date"),
        duration: input.value
      };
      // Someone else's week (a manager's choice): the API saves into theirs.
      if (table.getAttribute("data-user")) { body.user_id = Number(table.getAttribute("data-user")); }
      var typed = input.value;
      input.setAttribute("data-saved", typed);
      // One save at a time, in the order typed: each answer carries the
      // totals after its own change, so an answer overtaking a later one
      // would show stale totals.
      queue = queue.then(function () {
        return fetch("/api/v1/timesheet/cells", {
          method: "PUT",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify(body)
        });
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, body: j }; });
      }).then(function (res) {
        if (!res.ok) {
          input.removeAttribute("data-saved");
          cellError(input, res.body.error ? res.body.error.message : "Not saved.");
          status.textContent = "Not saved: " + (res.body.error ? res.body.error.message : "");
          return;
        }
        var j = res.body;
        cellError(input, null);
        if (input.value === typed) { input.value = j.display; input.setAttribute("data-saved", j.display); }
        var tr = input.closest("tr");
        tr.querySelector(".row-total").textContent = hm(j.row_seconds);
        table.querySelector("tfoot .d" + col).textContent = hm(j.day_seconds);
        table.querySelector(".week-total strong").textContent = hm(j.week_seconds) || "0:00";
        var tab = document.querySelector("[data-day-tab='" + col + "'] .tab-total");
        if (tab) { tab.textContent = hm(j.day_seconds); }
        status.textContent = j.note || (input.getAttribute("aria-label") + ": " + (j.display || "cleared") + ", saved.");
      }).catch(function () {
        input.removeAttribute("data-saved");
        status.textContent = "Not saved: the server did not answer. The value is kept; try again.";
      });
    }
    var queue = Promise.resolve();
    var inputs = Array.prototype.slice.call(table.querySelectorAll("td input"));
    inputs.forEach(function (input) { input.setAttribute("data-saved", input.value); });
    function move(input, dRow, dCol) {
      var tr = input.closest("tr");
      var col = Number(input.getAttribute("data-col"));
      if (dRow) {
        var rows = Array.prototype.slice.call(table.tBodies[0].rows);
        for (var i = rows.indexOf(tr) + dRow; i >= 0 && i < rows.length; i += dRow) {
          var next = rows[i].querySelector("input[data-col='" + col + "']");
          if (next) { next.focus(); next.select(); return; }
        }
      } else {
        var inRow = Array.prototype.slice.call(tr.querySelectorAll("td input"));
        var target = inRow[inRow.indexOf(input) + dCol];
        if (target) { target.focus(); target.select(); }
      }
    }
    table.addEventListener("change", function (e) { if (e.target.matches("td input")) { save(e.target); } });
    table.addEventListener("keydown", function (e) {
      var input = e.target;
      if (!input.matches || !input.matches("td input")) { return; }
      var atStart = input.selectionStart === 0 && input.selectionEnd === 0;
      var atEnd = input.selectionStart === input.value.length;
      var whole = input.selectionStart === 0 && input.selectionEnd === input.value.length;
      if (e.key === "Enter") { e.preventDefault(); save(input); move(input, 1, 0); }
      else if (e.key === "ArrowDown") { e.preventDefault(); move(input, 1, 0); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(input, -1, 0); }
      else if (e.key === "ArrowRight" && (atEnd || whole)) { e.preventDefault(); move(input, 0, 1); }
      else if (e.key === "ArrowLeft" && (atStart || whole)) { e.preventDefault(); move(input, 0, -1); }
    });
    document.querySelectorAll("[data-day-tab]").forEach(function (tab) {
      tab.addEventListener("click", function (e) {
        e.preventDefault();
        table.setAttribute("data-day", tab.getAttribute("data-day-tab"));
        document.querySelectorAll("[data-day-tab]").forEach(function (t) { t.removeAttribute("aria-current"); });
        tab.setAttribute("aria-current", "true");
        history.replaceState(null, "", tab.href);
      });
    });
  }

  // Typing a day into the report filters means a custom period.
  function reportPeriod() {
    var preset = document.getElementById("preset");
    if (!preset) { return; }
    ["from", "to"].forEach(function (id) {
      var field = document.getElementById(id);
      if (field) { field.addEventListener("input", function () { preset.value = "custom"; }); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    reportPeriod();
    timesheet();
    shortcuts();
    navigation();
    timer();
    taskPickers();
    confirmations();
    exportProgress();
    jobsLive();
  });
})();
