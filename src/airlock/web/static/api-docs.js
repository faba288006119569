// Starts Swagger UI on /api/v1/docs from the vendored bundle: no request leaves this host
// (no validator badge, no remote config), and "Try it out" sends the session's CSRF token.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var csrf = root.getAttribute("data-csrf-token") || "";
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: false,  // its links inside the operation buttons are nested controls
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    withCredentials: true,
    queryConfigEnabled: false,
    requestInterceptor: function (req) {
      if (csrf && req.method && req.method.toUpperCase() !== "GET") {
        req.headers["X-CSRF-Token"] = csrf;
      }
      return req;
    },
  });
});
