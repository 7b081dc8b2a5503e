/* The job page refreshes itself (its own HTML, parsed) until the job is terminal: no reload, no flicker. */
"use strict";
(() => {
  const live = document.getElementById("live");
  if (!live) return;
  const INTERVAL_MS = 1000;
  const box = document.getElementById("messages-box");
  const pictureBox = document.getElementById("picture");
  const timelineUrl = live.dataset.timeline;
  let pictureBusy = false;

  function nearBottom() {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  }

  async function drawPicture() {
    if (pictureBusy || !timelineUrl) return;
    pictureBusy = true;
    try {
      const node = await mockjobs.svg(timelineUrl + "?t=" + Date.now());
      pictureBox.replaceChildren(node);
    } catch (e) {
      /* keep the picture shown */
    } finally {
      pictureBusy = false;
    }
  }

  function apply(doc) {
    mockjobs.swap(document.getElementById("job"), doc.getElementById("job"));
    mockjobs.swap(document.getElementById("message-count"), doc.getElementById("message-count"));
    const stick = nearBottom();
    const list = document.getElementById("messages");
    const fresh = doc.getElementById("messages");
    const now = list.children.length;
    if (fresh.children.length < now) {
      list.replaceChildren(...Array.from(fresh.children, (li) => document.importNode(li, true)));
    } else {
      for (const li of Array.from(fresh.children).slice(now)) list.appendChild(document.importNode(li, true));
    }
    const none = document.getElementById("no-messages");
    if (none && fresh.children.length) none.remove();
    if (stick) box.scrollTop = box.scrollHeight;
    const terminal = doc.getElementById("live").dataset.terminal === "true";
    live.dataset.terminal = terminal ? "true" : "false";
    return terminal;
  }

  async function tick() {
    let terminal = false;
    try {
      const url = new URL(window.location.href);
      url.searchParams.set("f", "html");
      const doc = await mockjobs.page(url.toString(), { "X-Mockjobs-Live": "1" });
      if (!doc.getElementById("live")) throw new Error("not a job page");
      terminal = apply(doc);
    } catch (e) {
      /* the server may be restarting: try again */
    }
    await drawPicture();
    if (terminal) {
      document.body.dataset.liveStopped = "true";
      return;
    }
    window.setTimeout(tick, INTERVAL_MS);
  }

  box.scrollTop = box.scrollHeight;
  drawPicture();
  if (live.dataset.terminal !== "true") window.setTimeout(tick, INTERVAL_MS);
  else document.body.dataset.liveStopped = "true";
})();
