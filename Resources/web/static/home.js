// Frontdesk's front page: the copy button of the embed snippet. (A file of its own, since the
// page's Content-Security-Policy allows no inline script.)
(function () {
  "use strict";
  var button = document.getElementById("copy-snippet");
  var snippet = document.getElementById("snippet");
  var status = document.getElementById("copy-status");
  if (!button || !snippet || !status) return;
  function say(text) { status.textContent = text; }
  function selectSnippet() {
    var range = document.createRange();
    range.selectNodeContents(snippet);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function fallback(text) {
    // Without the asynchronous clipboard (an insecure origin, a refused permission): copy the
    // selection the old way, and leave the snippet selected so Ctrl-C works too.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    selectSnippet();
    say(done ? "Copied to the clipboard." : "Selected — press Ctrl-C (⌘-C) to copy.");
  }
  button.addEventListener("click", function () {
    var text = snippet.textContent || "";
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { say("Copied to the clipboard."); }, function () { fallback(text); });
    } else {
      fallback(text);
    }
  });
})();
