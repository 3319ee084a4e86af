// Hall display: listens to server-sent events, updates the board, plays a chime and speaks the
// call in Bahasa Indonesia. EventSource reconnects by itself and resumes from Last-Event-ID.
(function () {
  "use strict";
  var body = document.body;
  var latest = document.getElementById("latest");
  var history = document.getElementById("history");
  var status = document.getElementById("connection");
  var soundButton = document.getElementById("sound");
  var audio = null;
  var soundOn = false;

  soundButton.addEventListener("click", function () {
    // browsers only allow sound after a user gesture: one tap when the display is switched on
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) { audio = new Ctx(); }
    soundOn = true;
    soundButton.hidden = true;
  });

  function chime() {
    if (!audio) { return; }
    [660, 880].forEach(function (freq, i) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      var start = audio.currentTime + i * 0.35;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.25, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.6);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.65);
    });
  }

  function speak(text) {
    if (!soundOn || !("speechSynthesis" in window)) { return; }
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "id-ID";
    utterance.rate = 0.9;
    window.setTimeout(function () { window.speechSynthesis.speak(utterance); }, 800);
  }

  var seen = {};  // a reconnect may resend the last seconds: show each call (and recall) once

  function show(call) {
    if (seen[call.key]) { return; }
    seen[call.key] = true;
    latest.textContent = call.display + " \u2192 Loket " + call.counter;
    var cell = document.querySelector('[data-counter="' + call.counter_id + '"]');
    if (cell) { cell.textContent = call.display; }
    var item = document.createElement("li");
    item.textContent = call.display + " \u2192 " + call.counter;
    history.insertBefore(item, history.firstChild);
    while (history.children.length > 8) { history.removeChild(history.lastChild); }
    body.classList.remove("flash");
    void body.offsetWidth;
    body.classList.add("flash");
    if (soundOn) { chime(); }
    speak(call.text);
  }

  var source = new EventSource(body.getAttribute("data-events"));
  source.addEventListener("call", function (event) { show(JSON.parse(event.data)); });
  source.addEventListener("open", function () { status.textContent = ""; });
  source.addEventListener("error", function () { status.textContent = "Menyambung ulang\u2026"; });
})();
