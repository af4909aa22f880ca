// Home Inventory: small enhancements over pages that work without JavaScript.
// - search as you type: a form with data-live="URL" fetches URL?q=… and puts the server's
//   HTML fragment into the element named by data-target (an aria-live region);
// - tree branches: a toggle button with data-children="URL" fetches the branch once and
//   expands or collapses it in place (aria-expanded); without script it submits its form;
// - location picker: an input with data-picker="URL" lists matching locations as you type
//   in the element named by data-picks; choosing one fills the input.
// No inline scripts, no other hosts: everything comes from this server.
(function () {
  "use strict";

  function debounce(fn, ms) {
    let t = null;
    return function () {
      const args = arguments;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  async function fetchFragment(url, signal) {
    const res = await fetch(url, {
      headers: { "Accept": "text/html", "X-Fragment": "1" },
      credentials: "same-origin",
      signal: signal,
    });
    if (res.status === 401) {
      // The session ended: the login page brings the user back here.
      window.location.reload();
      throw new Error("signed out");
    }
    if (!res.ok) { throw new Error("HTTP " + res.status); }
    return res.text();
  }

  // Parses a fragment of our own server into nodes (never executed: no scripts in it).
  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function liveSearch(form) {
    const input = form.querySelector("input[type=search]");
    const target = document.getElementById(form.dataset.target);
    if (!input || !target) { return; }
    let controller = null;
    let last = input.value.trim();
    const run = debounce(async function () {
      const q = input.value.trim();
      if (q === last) { target.setAttribute("aria-busy", "false"); return; }
      last = q;
      const url = new URL(form.dataset.live, window.location.href);
      url.searchParams.set("q", q);
      if (controller) { controller.abort(); }
      controller = new AbortController();
      try {
        target.replaceChildren(parse(await fetchFragment(url, controller.signal)));
        if (form.dataset.history === "1") {
          const page = new URL(window.location.href);
          if (q) { page.searchParams.set("q", q); } else { page.searchParams.delete("q"); }
          page.searchParams.delete("done");
          window.history.replaceState(null, "", page);
        }
      } catch (e) {
        // A failed or aborted fetch leaves the last results; submitting still works.
      }
      target.setAttribute("aria-busy", "false");
    }, 200);
    input.addEventListener("input", function () {
      target.setAttribute("aria-busy", "true");
      run();
    });
  }

  function treeToggle(button) {
    button.addEventListener("click", async function (event) {
      event.preventDefault();
      const li = button.closest("li");
      if (!li) { return; }
      let list = li.querySelector(":scope > ul");
      if (button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        if (list) { list.hidden = true; }
        return;
      }
      if (!list) {
        button.setAttribute("aria-busy", "true");
        try {
          const content = parse(await fetchFragment(button.dataset.children));
          list = content.querySelector("ul");
          if (!list) { return; }
          li.appendChild(list);
          for (const b of list.querySelectorAll("button[data-children]")) { treeToggle(b); }
        } catch (e) {
          // Without the fragment, the form takes over.
          button.closest("form").submit();
          return;
        } finally {
          button.removeAttribute("aria-busy");
        }
      }
      list.hidden = false;
      button.setAttribute("aria-expanded", "true");
    });
  }

  function picker(input) {
    const box = document.getElementById(input.dataset.picks);
    if (!box) { return; }
    let controller = null;
    const run = debounce(async function () {
      const q = input.value.trim();
      if (!q) { box.replaceChildren(); return; }
      const url = new URL(input.dataset.picker, window.location.href);
      url.searchParams.set("q", q);
      url.searchParams.set("target", input.id);
      if (controller) { controller.abort(); }
      controller = new AbortController();
      try {
        box.replaceChildren(parse(await fetchFragment(url, controller.signal)));
      } catch (e) {
        // Typing a full path and submitting still works.
      }
    }, 200);
    input.addEventListener("input", run);
    box.addEventListener("click", function (event) {
      const choice = event.target.closest("button[data-value]");
      if (!choice) { return; }
      event.preventDefault();
      input.value = choice.dataset.value;
      box.replaceChildren();
      input.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    for (const form of document.querySelectorAll("form[data-live]")) { liveSearch(form); }
    for (const button of document.querySelectorAll("button[data-children]")) { treeToggle(button); }
    for (const input of document.querySelectorAll("input[data-picker]")) { picker(input); }
    for (const el of document.querySelectorAll("[data-autofocus]")) { el.focus(); }
  });
})();
