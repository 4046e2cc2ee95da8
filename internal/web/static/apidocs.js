// The API reference page (/api/docs): Swagger UI, served from this binary, renders the OpenAPI
// document the page names. An external file, as the pages' Content-Security-Policy allows no
// inline script; the page loads it after the renderer (both deferred, in order).
"use strict";
(function () {
  var root = document.getElementById("api-reference");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    // No deep links: Swagger UI puts each operation's link inside the button that opens it,
    // and a control nested in a control is out of reach of keyboards and screen readers.
    deepLinking: false,
    // No validity badge: it would load an image from swagger.io, which the CSP refuses.
    validatorUrl: null,
    // Never take a document or configuration address from the page's URL: the page renders
    // this service's document only.
    queryConfigEnabled: false,
    // "Try it out" sends real requests with the token entered under "Authorize"; it stays a
    // deliberate click per operation.
    tryItOutEnabled: false,
    persistAuthorization: false,
    displayRequestDuration: true,
    // Swagger UI leaves its server menu without a name for screen readers.
    onComplete: function () {
      var servers = document.getElementById("servers");
      if (servers && !servers.hasAttribute("aria-label")) {
        servers.setAttribute("aria-label", "Server");
      }
    },
  });
})();
