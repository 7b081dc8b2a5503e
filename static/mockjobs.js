/* mockjobs pages: shared helpers. Same origin only; data goes into the page as text, never as markup. */
"use strict";
document.documentElement.classList.add("js");

const mockjobs = (() => {
  const TOKEN_KEY = "mockjobs.controlToken";

  /** Headers of a control call: the control token, when this tab holds one. */
  function headers(extra) {
    const out = Object.assign({}, extra || {});
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) out["Authorization"] = "Bearer " + token;
    return out;
  }

  /** A control-API call: JSON writes ({} when nothing else), DELETE without a body; asks once for the token on 401. */
  async function control(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const init = { method, headers: headers(), credentials: "same-origin", cache: "no-store" };
      if (method === "POST") {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body || {});
      }
      const response = await fetch(path, init);
      if (response.status === 401 && attempt === 0) {
        const token = window.prompt("This mockjobs server needs its control token (--control-token):");
        if (token) {
          sessionStorage.setItem(TOKEN_KEY, token.trim());
          continue;
        }
      }
      return response;
    }
  }

  /** A control call's JSON answer; throws an Error with the server's message on failure. */
  async function json(method, path, body) {
    const response = await control(method, path, body);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) throw new Error((data && data.error) || ("HTTP " + response.status));
    return data;
  }

  /** A response's HTML, parsed (nothing in it runs). */
  async function parsed(response) {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return new DOMParser().parseFromString(await response.text(), "text/html");
  }

  /** A page under the context path (no control token: ArcGIS reads Authorization as its own token). */
  async function page(url, extra) {
    return parsed(await fetch(url, { headers: extra || {}, credentials: "same-origin", cache: "no-store" }));
  }

  /** A page outside the context path (the dashboard), with the control token when there is one. */
  async function controlPage(url) {
    return parsed(await control("GET", url));
  }

  /** An SVG of this app, parsed and adopted into this document. */
  async function svg(url) {
    const response = await control("GET", url);
    if (!response.ok) throw new Error("HTTP " + response.status);
    const doc = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
    const root = doc.documentElement;
    if (root.nodeName !== "svg") throw new Error("not an SVG");
    return document.importNode(root, true);
  }

  /** Replace el's content by node when they differ (so an unchanged part is left alone). */
  function swap(el, node) {
    if (!el || !node) return;
    if (el.outerHTML !== node.outerHTML) el.replaceWith(document.importNode(node, true));
  }

  return { control, json, page, controlPage, svg, swap };
})();
