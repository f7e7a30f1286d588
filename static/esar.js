// esar's own script: everything works without it; it adds upload progress and the chart.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  // Evidence uploads: send through the API with a progress bar instead of a page load.
  for (const form of document.querySelectorAll("form.upload[data-api]")) {
    form.addEventListener("submit", (event) => {
      const input = form.querySelector('input[type="file"]');
      if (!input.files.length) return;
      event.preventDefault();
      const bar = form.querySelector("progress");
      const status = form.querySelector(".upload-status");
      const button = form.querySelector('button[type="submit"]');
      const body = new FormData();
      body.append("file", input.files[0]);
      const request = new XMLHttpRequest();
      request.open("POST", form.dataset.api);
      request.setRequestHeader("X-CSRF-Token", csrf);
      bar.hidden = false;
      button.disabled = true;
      request.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) {
          bar.value = Math.round((100 * e.loaded) / e.total);
          status.textContent = bar.value + "%";
        }
      });
      request.addEventListener("load", () => {
        if (request.status === 201) {
          const url = new URL(window.location.href);
          url.searchParams.set("done", form.dataset.done || "uploaded");
          window.location.assign(url.pathname + url.search);
          return;
        }
        let message = request.statusText;
        try {
          const error = JSON.parse(request.responseText).error;
          message = document.documentElement.lang === "en" ? error.message_en : error.message_th;
        } catch (_) { /* keep the status text */ }
        status.textContent = message;
        status.classList.add("late");
        button.disabled = false;
      });
      request.addEventListener("error", () => {
        status.textContent = document.documentElement.lang === "en"
          ? "The connection failed: try again." : "การเชื่อมต่อขัดข้อง โปรดลองใหม่";
        button.disabled = false;
      });
      request.send(body);
    });
  }

  // The dashboard's grade chart; the table beside it holds the same numbers.
  const canvas = document.getElementById("grade-chart");
  if (canvas && window.Chart) {
    const data = JSON.parse(canvas.dataset.chart);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: canvas.dataset.label, data: data.counts, backgroundColor: "#1f5fa8" }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
});

// Printing shows every score's explanation: a closed <details> prints nothing of its content,
// whatever the print stylesheet says, so each is opened for the print and closed again after.
window.addEventListener("beforeprint", () => {
  document.querySelectorAll("details:not([open])").forEach((d) => {
    d.dataset.printOpened = "1";
    d.open = true;
  });
});
window.addEventListener("afterprint", () => {
  document.querySelectorAll("details[data-print-opened]").forEach((d) => {
    d.open = false;
    delete d.dataset.printOpened;
  });
});
