// superfone-import page: a little plain JavaScript. It only ever writes text (textContent), never markup.
"use strict";

function dropZone(form) {
  const input = form.querySelector("input[type=file]");
  ["dragenter", "dragover"].forEach((name) => form.addEventListener(name, (event) => {
    event.preventDefault();
    form.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => form.addEventListener(name, () => form.classList.remove("over")));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      form.requestSubmit();
    }
  });
  input.addEventListener("change", () => { if (input.files.length) form.requestSubmit(); });
}

function opens(link) {
  link.addEventListener("click", () => {
    const target = document.getElementById(link.dataset.opens);
    if (target) target.open = true;
  });
}

function show(id, value) {
  const element = document.getElementById(id);
  if (element) element.textContent = value === null || value === undefined ? "…" : String(value);
}

function poll(section) {
  const url = section.dataset.status;
  const bar = document.getElementById("bar");
  const tick = () => fetch(url, {headers: {"Accept": "application/json"}}).then((answer) => answer.json()).then((job) => {
    show("phase", job.phase_text);
    show("waiting", job.waiting);
    show("done", job.done);
    show("total", job.total);
    show("rate", job.rate);
    show("eta", job.eta_text);
    show("failed", job.failed);
    show("retries", job.retries);
    show("throttled", job.throttled);
    show("state", job.state + (job.stop_requested && job.state === "running" ? " (stopping)" : ""));
    bar.max = job.total || Math.max(job.done, 1);
    bar.value = job.done;
    if (job.error) {
      const error = document.getElementById("job-error");
      error.textContent = job.error;
      error.hidden = false;
    }
    if (job.run) {
      const link = document.getElementById("run-link");
      link.href = "/runs/" + encodeURIComponent(job.run);
      document.getElementById("job-done").hidden = false;
    }
    if (job.state === "running") {
      setTimeout(tick, 300);
    } else {
      const stop = document.getElementById("stop-form");
      if (stop) stop.hidden = true;
      const busy = document.getElementById("busy");  // the header's "a send is going on"
      if (busy) busy.hidden = true;
      if (job.state === "done" && job.run) setTimeout(() => { window.location.href = "/runs/" + encodeURIComponent(job.run); }, 400);
    }
  }).catch(() => setTimeout(tick, 1000));
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const upload = document.getElementById("upload-form");
  if (upload) dropZone(upload);
  document.querySelectorAll("a[data-opens]").forEach(opens);
  const yamlView = document.getElementById("yaml-view");
  if (yamlView && window.location.hash === "#yaml-view") yamlView.open = true;
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.form.addEventListener("submit", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  const progress = document.getElementById("progress");
  if (progress && progress.dataset.state === "running") poll(progress);
  document.body.dataset.ready = "true";  // the page's handlers are in place
});
