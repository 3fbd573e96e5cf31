(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline").textContent);
  var M = data.messages;
  var audio = document.getElementById("player");
  var status = document.getElementById("status");
  var now = document.getElementById("now");
  var follow = document.getElementById("follow");
  var bar = document.querySelector(".player");
  var reduce = window.matchMedia("(prefers-reduced-motion: reduce)");
  var cues = [], index = new Map();
  data.cues.forEach(function (c) {
    var el = document.getElementById(c[0]);
    if (!el) { return; }
    index.set(el, cues.length);
    cues.push({ el: el, start: c[1], end: c[2] });
    el.classList.add("s");
    el.tabIndex = -1;
  });
  var links = Array.prototype.slice.call(document.querySelectorAll("#chapters a[data-start]"));
  var current = -1, rover = -1, chapter = -1, userScrolled = -Infinity, frame = 0;

  function fmt(t) {
    t = Math.max(0, Math.floor(t || 0));
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function say(text) { status.textContent = text; }
  function cueAt(t) {
    var lo = 0, hi = cues.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (cues[mid].start <= t + 0.05) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }
  function setRover(i) {
    if (i < 0 || i === rover) { return; }
    if (rover >= 0) { cues[rover].el.tabIndex = -1; }
    cues[i].el.tabIndex = 0;
    rover = i;
  }
  function inView(el) {
    var r = el.getBoundingClientRect();
    var top = bar && getComputedStyle(bar).position === "sticky" ? bar.getBoundingClientRect().bottom : 0;
    return r.top >= top && r.bottom <= window.innerHeight;
  }
  function reveal(el, force) {
    if (!force && (!follow.checked || Date.now() - userScrolled < 6000)) { return; }
    if (inView(el)) { return; }
    el.scrollIntoView({ block: "center", behavior: reduce.matches ? "auto" : "smooth" });
  }
  function highlight(i, force) {
    var moved = i !== current;
    if (moved) {
      if (current >= 0) {
        cues[current].el.classList.remove("hl");
        cues[current].el.removeAttribute("aria-current");
      }
      current = i;
      if (i >= 0) {
        cues[i].el.classList.add("hl");
        cues[i].el.setAttribute("aria-current", "true");
        var focused = document.activeElement;
        if (!focused || !index.has(focused)) { setRover(i); }
      }
    }
    if (i >= 0 && (force || (moved && !audio.paused))) { reveal(cues[i].el, force); }
    var t = audio.currentTime, c = -1;
    links.forEach(function (a, n) { if (parseFloat(a.dataset.start) <= t + 0.05) { c = n; } });
    if (c !== chapter) {
      if (chapter >= 0) { links[chapter].removeAttribute("aria-current"); }
      chapter = c;
      if (c >= 0) { links[c].setAttribute("aria-current", "true"); now.textContent = data.chapters[c].title; }
    }
  }
  function sync(force) { highlight(cueAt(audio.currentTime), force); }
  function tick() { sync(false); frame = audio.paused ? 0 : requestAnimationFrame(tick); }
  function play() {
    var p = audio.play();
    if (p && p.catch) { p.catch(function () { say(M.blocked); }); }
  }
  function seek(t, andPlay) {
    var end = isFinite(audio.duration) ? audio.duration : data.duration;
    audio.currentTime = Math.max(0, Math.min(t, end));
    sync(true);
    if (andPlay) { play(); }
  }
  function playSentence(i) {
    setRover(i);
    seek(cues[i].start, true);
    say(M.from.replace("{time}", fmt(cues[i].start)));
  }

  audio.addEventListener("play", function () { if (!frame) { frame = requestAnimationFrame(tick); } });
  audio.addEventListener("timeupdate", function () { sync(false); });
  audio.addEventListener("seeked", function () { sync(false); });

  document.getElementById("text").addEventListener("click", function (e) {
    if (e.target.closest("a")) { return; }
    var el = e.target.closest(".s");
    if (el && index.has(el)) { playSentence(index.get(el)); }
  });
  document.getElementById("text").addEventListener("keydown", function (e) {
    var el = e.target;
    if (!index.has(el) || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var i = index.get(el);
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      playSentence(i);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      var next = i + (e.key === "ArrowDown" ? 1 : -1);
      if (next >= 0 && next < cues.length) {
        e.preventDefault();
        setRover(next);
        cues[next].el.focus({ preventScroll: true });
        reveal(cues[next].el, true);
      }
    }
  });
  links.forEach(function (a, n) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      seek(parseFloat(a.dataset.start), true);
      say(M.chapter.replace("{time}", fmt(parseFloat(a.dataset.start))).replace("{title}", data.chapters[n].title));
      var target = document.getElementById(a.getAttribute("href").slice(1));
      if (target) {
        if (index.has(target)) { setRover(index.get(target)); }
        target.focus({ preventScroll: true });
        reveal(target, true);
      }
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var el = e.target, tag = el.tagName;
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || el.isContentEditable) { return; }
    var control = /^(A|BUTTON|AUDIO|VIDEO|SUMMARY)$/.test(tag);
    var k = e.key;
    if (k === "k" || k === "K" || (k === " " && !control)) {
      e.preventDefault();
      if (audio.paused) { play(); say(M.from.replace("{time}", fmt(audio.currentTime))); }
      else { audio.pause(); say(M.paused.replace("{time}", fmt(audio.currentTime))); }
    } else if (k === "j" || k === "J" || k === "l" || k === "L" ||
               (!control && (k === "ArrowLeft" || k === "ArrowRight"))) {
      e.preventDefault();
      var back = k === "j" || k === "J" || k === "ArrowLeft";
      seek(audio.currentTime + (back ? -10 : 10), false);
      say((back ? M.back : M.forward).replace("{time}", fmt(audio.currentTime)));
    } else if (/^(PageUp|PageDown|Home|End|ArrowUp|ArrowDown)$/.test(k)) {
      userScrolled = Date.now();
    }
  });
  function scrolled() { userScrolled = Date.now(); }
  window.addEventListener("wheel", scrolled, { passive: true });
  window.addEventListener("touchmove", scrolled, { passive: true });
  window.addEventListener("pointerdown", function (e) { if (e.target === document.documentElement) { scrolled(); } });
  if (cues.length) { setRover(0); }
  document.documentElement.classList.add("js");
  sync(false);
})();
