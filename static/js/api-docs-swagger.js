// Starts Swagger UI on /api/docs/ (templates/drf_spectacular/swagger_ui.html) from a served
// file, so the page needs no inline script under the app's Content-Security-Policy.
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  const settings = JSON.parse(root.dataset.settings || "{}");

  // "Try it out" in a signed-in browser: unsafe methods need Django's CSRF token.
  const requestInterceptor = (request) => {
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[root.dataset.csrfHeader] = root.dataset.csrfToken;
    }
    return request;
  };

  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor,
    ...settings,
  });
})();
