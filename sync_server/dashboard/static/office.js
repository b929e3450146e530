// The import's progress page: reads the job every second until it is done, refused or failed,
// then loads the page again (the server renders the outcome and every bad row).
"use strict";
(() => {
  const panel = document.getElementById("job");
  const words = JSON.parse(panel.dataset.words || "{}");
  const bar = document.getElementById("job-progress");
  const state = document.getElementById("job-state");
  async function poll() {
    const answer = await fetch(`/dashboard/office/jobs/${panel.dataset.job}/state`,
      { credentials: "same-origin" });
    if (!answer.ok) return setTimeout(poll, 2000);
    const job = await answer.json();
    if (["done", "refused", "failed"].includes(job.state)) {
      window.location.reload();
      return;
    }
    bar.max = Math.max(job.rows, 1);
    bar.value = job.state === "writing" ? job.imported : job.rows;
    state.textContent = `${words[job.state] || job.state} ${job.imported} / ${job.rows}`;
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
