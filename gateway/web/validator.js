// The validator page: send the pasted text (or the chosen file) to
// POST validate?report=html and show the report's <main> in the page.
// The report is escaped by the server and this page's CSP allows no inline
// script, so what a message contains is only ever shown as text.
"use strict";

(function () {
  const form = document.getElementById("validate-form");
  const status = document.getElementById("status");
  const result = document.getElementById("result");

  function say(text, state) {
    status.textContent = text;
    status.className = state || "";
  }

  async function refusal(response) {
    try {
      const outcome = await response.json();
      return outcome.issue.map((issue) => issue.details.text).join(" ");
    } catch (error) {
      return "HTTP " + response.status;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    const text = file ? await file.text() : form.elements.message.value;
    if (!text.trim()) {
      say("Paste a message or choose a file first.", "failed");
      return;
    }
    const params = new URLSearchParams({ report: "html" });
    for (const name of ["profile", "at"]) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    params.set("name", file ? file.name : "pasted message");
    say("Validating…");
    result.replaceChildren();
    try {
      const response = await fetch("validate?" + params.toString(), {
        method: "POST",
        body: text,
        headers: { "Content-Type": "application/octet-stream" },
      });
      if (!response.ok) {
        say("The validator refused the request: " + (await refusal(response)), "failed");
        return;
      }
      // Only the report's <main>: its standalone page inlines a <style>, which this page's CSP refuses.
      const html = await response.text();
      const main = html.slice(html.indexOf("<main"), html.lastIndexOf("</main>") + "</main>".length);
      const report = new DOMParser().parseFromString(main, "text/html").querySelector("main.report");
      if (report) result.replaceChildren(document.importNode(report, true));
      const valid = response.headers.get("X-Validation-Verdict") === "valid";
      say(valid ? "Valid: no errors." : "Invalid: see the findings below.", valid ? "valid" : "invalid");
    } catch (error) {
      say("The validator could not be reached: " + error.message, "failed");
    }
  });
})();
