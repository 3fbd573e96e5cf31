// publisher studio: progressive enhancement. Every page works without this file; with it, uploads
// can be dropped, samples and fixes are heard in place, job progress streams in (Server-Sent Events)
// and is announced in a live region, and the read-along list follows the player.
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }
  function csrfOf(form) { var f = form && form.querySelector("input[name=csrf]"); return f ? f.value : ""; }

  // --- drag and drop onto the source field ---
  var drop = $("drop"), source = $("source");
  if (drop && source) {
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        source.files = e.dataTransfer.files;
        $("drop-hint").textContent = "Chosen: " + e.dataTransfer.files[0].name;
      }
    });
  }

  // --- hear a voice sample, or a sentence with a fix, without leaving the page ---
  function bodyOf(form, fields) {
    var body = new URLSearchParams();
    fields.forEach(function (name) {
      var field = form.elements[name];
      if (!field) return;
      if (field.type === "checkbox") { if (field.checked) body.append(name, field.value); }
      else if (field.length !== undefined && field.tagName !== "SELECT") {  // radio group
        for (var i = 0; i < field.length; i++) if (field[i].checked) body.append(name, field[i].value);
      } else body.append(name, field.value);
    });
    return body;
  }

  // --- the fixed sentence proof-listened (api.score_clip): the new verdict, in a live region ---
  function judge(form, body) {
    var box = $("verdict");
    if (!box) return;
    box.textContent = "Proof-listening to the sentence with the fix…";
    fetch(box.getAttribute("data-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": csrfOf(form), "Accept": "application/json"}
    }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || ("HTTP " + r.status)); return j; });
    }).then(function (v) {
      var line = document.createElement("p"), verdict = document.createElement("strong");
      line.id = "verdict-line";
      verdict.textContent = v.flagged ? "Still flagged" : "Not flagged";
      line.appendChild(verdict);
      line.appendChild(document.createTextNode(" (confidence " + v.confidence.toFixed(2) + "). Proof-listening heard: “" +
        v.heard + "”" + (v.reason ? " (" + v.reason + ")" : "")));
      box.textContent = "";
      box.appendChild(line);
    }).catch(function (err) { box.textContent = "Could not proof-listen to it: " + err.message; });
  }
  if ($("judge")) $("judge").addEventListener("click", function (e) {
    e.preventDefault();
    judge($("judge").form, bodyOf($("judge").form, ["sentence", "word", "pronunciation"]));
  });

  function hear(button, player, status, fields, then) {
    button.addEventListener("click", function (e) {
      e.preventDefault();
      var form = button.form, body = bodyOf(form, fields);
      status.textContent = "Speaking…";
      fetch(button.getAttribute("formaction"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRF-Token": csrfOf(form), "Accept": "audio/wav, application/json"}
      }).then(function (r) {
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.error || ("HTTP " + r.status)); });
        return r.blob();
      }).then(function (blob) {
        if (player.src) URL.revokeObjectURL(player.src);
        player.src = URL.createObjectURL(blob);
        player.hidden = false;
        status.textContent = "Playing the sample.";
        if (then) then(form, body);
        return player.play();
      }).catch(function (err) { status.textContent = "Could not speak it: " + err.message; });
    });
  }
  if ($("hear-sample")) hear($("hear-sample"), $("sample-player"), $("sample-status"), ["engine", "voice", "speed", "language", "sample"]);
  if ($("hear")) hear($("hear"), $("hear-player"), $("hear-status"), ["sentence", "word", "pronunciation", "scope"], judge);

  // --- a job's live progress ---
  var box = $("job");
  if (box && window.EventSource) {
    var id = box.getAttribute("data-job"), lastStage = null, lastQuarter = -1;
    var refresh = $("job-refresh"); if (refresh) refresh.hidden = true;
    var events = new EventSource("/api/jobs/" + id + "/events");
    var say = function (text) { $("announce").textContent = text; };
    events.addEventListener("progress", function (e) {
      var job = JSON.parse(e.data);
      $("job-state").textContent = job.state;
      $("job-stage").textContent = job.stage || "";
      var bar = $("job-progress");
      bar.max = job.total || 1;
      bar.value = job.total ? job.done : (job.state === "done" ? 1 : 0);
      $("job-count").textContent = job.total ? job.done + " of " + job.total + (job.stage === "synthesize" ? " sentences" : "") : "";
      $("job-left").textContent = job.seconds_left ? "about " + Math.ceil(job.seconds_left) + " s left" : "";
      $("job-message").textContent = job.message || "";
      if (job.error) { $("job-error").textContent = job.error; $("job-error").hidden = false; }
      if (job.result && job.result.synthesized !== undefined) {
        $("job-result").textContent = job.result.synthesized + " of " + job.result.sentences +
          " sentences synthesized, " + job.result.reused + " reused from the cache.";
      }
      var quarter = job.total ? Math.floor(4 * job.done / job.total) : 0;
      if (job.state === "done" || job.state === "failed" || job.state === "cancelled") {
        say("Job " + job.state + (job.error ? ": " + job.error : "."));
        $("job-publication").hidden = false;
        var cancel = $("cancel-form"); if (cancel) cancel.hidden = true;
        events.close();
      } else if (job.stage !== lastStage) {
        say("Stage: " + job.stage + ".");
      } else if (job.stage === "synthesize" && quarter !== lastQuarter && quarter > 0) {
        say(job.done + " of " + job.total + " sentences narrated.");
      }
      lastStage = job.stage; lastQuarter = quarter;
    });
    var cancelForm = $("cancel-form");
    if (cancelForm) cancelForm.addEventListener("submit", function (e) {
      e.preventDefault();
      fetch(cancelForm.action, {method: "POST", credentials: "same-origin",
        headers: {"X-CSRF-Token": csrfOf(cancelForm), "Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (j) { say(j.error ? "Could not cancel: " + j.error : "Cancelling…"); });
    });
  }

  // --- read along: a sentence plays from its cue; the one being heard is marked ---
  var player = $("player");
  if (player) {
    var spans = Array.prototype.slice.call(document.querySelectorAll("a.s[data-start], a.play[data-start]"));
    var cues = spans.filter(function (a) { return a.classList.contains("s"); });
    var current = null, stopAt = null;
    spans.forEach(function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        player.currentTime = parseFloat(a.getAttribute("data-start"));
        stopAt = a.classList.contains("play") ? parseFloat(a.getAttribute("data-end")) : null;
        player.play();
        $("player-status").textContent = "Playing from: " + a.textContent.trim().slice(0, 80);
      });
    });
    player.addEventListener("timeupdate", function () {
      var t = player.currentTime, found = null;
      if (stopAt !== null && t >= stopAt) { player.pause(); stopAt = null; }
      for (var i = 0; i < cues.length; i++) {
        if (t >= parseFloat(cues[i].getAttribute("data-start")) && t < parseFloat(cues[i].getAttribute("data-end"))) { found = cues[i]; break; }
      }
      if (found !== current) {
        if (current) current.removeAttribute("aria-current");
        if (found) found.setAttribute("aria-current", "true");
        current = found;
      }
    });
  }
})();
