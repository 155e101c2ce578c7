// Paper Radio's page: the live player, now playing (server-sent events), local times,
// chapters that seek. Text from the station is only ever set with textContent.
"use strict";

(function () {
  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) { el.textContent = text == null ? "" : String(text); } }
  function safeHref(url) {
    if (typeof url !== "string") { return "#"; }
    if (/^\/(?!\/)/.test(url) || url.indexOf("https://arxiv.org/abs/") === 0) { return url; }
    return "#";
  }

  // --- times in the visitor's own time zone --------------------------------------------
  function localTimes(root) {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short",
                                                 hour: "2-digit", minute: "2-digit" });
      setText("tz-name", Intl.DateTimeFormat().resolvedOptions().timeZone || "local time");
    } catch (e) { return; }
    (root || document).querySelectorAll("time.local").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) { el.textContent = fmt.format(when); el.title = when.toISOString(); }
    });
  }

  // --- the live stream: a player that reconnects by itself -------------------------------
  function livePlayer() {
    var audio = $("live-audio"), button = $("live-toggle"), volume = $("live-volume");
    if (!audio || !button) { return; }
    var wanted = false, retry = null, delay = 1000, lastTime = 0, lastCheck = Date.now();
    function status(text) { setText("live-status", text); }
    function connect() {
      clearTimeout(retry);
      audio.src = audio.getAttribute("data-src") + "?t=" + Date.now();
      var played = audio.play();
      if (played && played.catch) {
        played.catch(function (err) {
          if (err && err.name === "NotAllowedError") { stop(); status("Press play to listen."); }
        });
      }
    }
    function reconnect(why) {
      if (!wanted) { return; }
      clearTimeout(retry);
      status("Connection lost (" + why + "); reconnecting in " + Math.round(delay / 1000) + " s…");
      retry = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    }
    function stop() {
      wanted = false; clearTimeout(retry);
      audio.pause(); audio.removeAttribute("src"); audio.load();
      button.textContent = "Play live"; button.setAttribute("data-state", "stopped");
      status("Stopped.");
    }
    button.addEventListener("click", function () {
      if (wanted) { stop(); return; }
      wanted = true; delay = 1000;
      button.textContent = "Stop"; button.setAttribute("data-state", "playing");
      status("Connecting…");
      connect();
    });
    if (volume) { volume.addEventListener("input", function () { audio.volume = Number(volume.value); }); }
    audio.addEventListener("playing", function () { if (wanted) { delay = 1000; status("Live — on air."); } });
    audio.addEventListener("waiting", function () { if (wanted) { status("Buffering…"); } });
    audio.addEventListener("error", function () { reconnect("stream error"); });
    audio.addEventListener("ended", function () { reconnect("stream ended"); });
    audio.addEventListener("stalled", function () { if (wanted) { status("Waiting for the stream…"); } });
    // A stream that stops sending without an error: notice it and reconnect.
    setInterval(function () {
      if (!wanted || audio.paused) { lastCheck = Date.now(); lastTime = audio.currentTime; return; }
      if (audio.currentTime === lastTime && Date.now() - lastCheck > 10000) { reconnect("no data"); lastCheck = Date.now(); }
      else if (audio.currentTime !== lastTime) { lastTime = audio.currentTime; lastCheck = Date.now(); }
    }, 2000);
  }

  // --- now playing -----------------------------------------------------------------------
  function showNow(view) {
    var panel = $("now");
    if (!panel || !view) { return; }
    panel.setAttribute("data-mode", String(view.mode || "unknown"));
    setText("now-show", view.show || (view.mode === "unknown" ? "Nothing on air yet" : "Between shows"));
    setText("now-speaker", view.speaker || "—");
    setText("now-line", view.text || "");
    var paper = view.paper, box = $("now-paper");
    if (box) { box.hidden = !paper; }
    if (paper) {
      setText("now-paper-link", paper.title);
      $("now-paper-link").setAttribute("href", safeHref(paper.url));
      setText("now-authors", paper.authors);
      setText("now-arxiv-id", paper.id);
      $("now-arxiv").setAttribute("href", safeHref(paper.arxiv_url));
    }
    var img = $("now-image");
    if (img) {
      var src = view.image_url ? safeHref(view.image_url) : "/cover.png";
      if (img.getAttribute("src") !== src) { img.setAttribute("src", src); }
      img.setAttribute("alt", paper ? "Page of the paper on air: " + paper.title : "Station cover");
    }
    var bar = $("now-progress");
    if (bar) {
      if (view.progress) {
        bar.max = view.progress.of; bar.value = view.progress.line;
        setText("now-progress-text", "line " + view.progress.line + " of " + view.progress.of);
      } else { bar.max = 1; bar.value = 0; setText("now-progress-text", ""); }
    }
    var next = view.next || {};
    setText("now-next", next.paper ? next.paper.title : (next.show ? next.show.title : "the latest papers"));
    var then = $("now-next-show");
    if (then) {
      then.textContent = "";
      if (next.show) {
        then.appendChild(document.createTextNode(next.paper ? "· then " + next.show.title + " at " : " at "));
        var t = document.createElement("time");
        t.className = "local"; t.setAttribute("datetime", next.show.at); t.textContent = next.show.at;
        then.appendChild(t);
        localTimes(then);
      }
    }
    setText("now-updated", "Updated " + new Date().toLocaleTimeString());
    panel.setAttribute("data-updated", String(Date.now()));
  }

  function nowPlaying() {
    if (!$("now") || !window.EventSource) { return; }
    var source = new EventSource("/events");
    source.addEventListener("now", function (event) {
      try { showNow(JSON.parse(event.data)); } catch (e) { /* a bad event is skipped */ }
    });
  }

  // --- episodes: chapters and transcript lines seek the player ---------------------------
  function chapters() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button.chapter, button.cue") : null;
      if (!button) { return; }
      var article = button.closest("article");
      var audio = article ? article.querySelector("audio") : null;
      var start = Number(button.getAttribute("data-start"));
      if (!audio || isNaN(start)) { return; }
      function seek() { audio.currentTime = start; var p = audio.play(); if (p && p.catch) { p.catch(function () {}); } }
      if (audio.readyState >= 1) { seek(); }
      else { audio.preload = "auto"; audio.addEventListener("loadedmetadata", seek, { once: true }); audio.load(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    livePlayer();
    nowPlaying();
    chapters();
  });
  window.paperRadio = { showNow: showNow };
}());
