// proof.html and alignment.html: each listed sentence's link plays the full-length MP3 from its cue to its end.
(function () {
  "use strict";
  var audio = document.getElementById("narration");
  if (!audio) { return; }
  var stopAt = null;
  audio.addEventListener("timeupdate", function () {
    if (stopAt !== null && audio.currentTime >= stopAt) { audio.pause(); stopAt = null; }
  });
  document.querySelectorAll("a.play").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      stopAt = parseFloat(link.dataset.end);
      audio.currentTime = parseFloat(link.dataset.start);
      audio.play();
    });
  });
})();
