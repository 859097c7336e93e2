// Starts ReDoc on /api/redoc/ (templates/drf_spectacular/redoc.html) from a served file.
// ReDoc's styled-components insert <style> elements at run time; ReDoc's `nonce` option
// gives them the page's CSP nonce, so style-src needs no 'unsafe-inline'
// (config/api_docs.RedocView adds the nonce to this page's policy).
"use strict";

(function () {
  // ReDoc's sidebar credit ("API docs by Redocly") loads a logo from cdn.redoc.ly, which
  // img-src refuses (every asset is ours). It gets an empty image instead, which ReDoc's
  // own error handler then hides; the credit's text and link stay.
  const REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  const ours = (value) => (value === REDOCLY_LOGO ? "data:," : value);
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    const isSrc = this instanceof HTMLImageElement && name.toLowerCase() === "src";
    return setAttribute.call(this, name, isSrc ? ours(value) : value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, ours(value));
    },
  });

  document.addEventListener("DOMContentLoaded", function () {
    const root = document.getElementById("redoc-container");
    const nonce = document.querySelector('meta[name="csp-nonce"]').content;
    const settings = JSON.parse(root.dataset.settings || "{}");
    Redoc.init(root.dataset.schemaUrl, { ...settings, nonce }, root);
  });
})();
