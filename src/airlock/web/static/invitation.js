// An invitation link carries its code in the fragment (/invitations#<code>), which browsers
// never send to the server, so the code stays out of access logs. Copy it into the form,
// drop it from the address bar and history, and post it.
(function () {
  "use strict";
  var form = document.getElementById("invitation-open");
  var code = window.location.hash.replace(/^#/, "");
  if (!form || !code || form.dataset.sent) return;
  history.replaceState(null, "", window.location.pathname);
  form.elements.token.value = decodeURIComponent(code);
  if (document.querySelector('[role="alert"]')) return; // an error to read first
  form.dataset.sent = "1";
  form.submit();
})();
