// The workspace's few lines of script: htmx sends the CSRF token with every request, and
// an upload shows its progress (htmx 2.0 fires htmx:xhr:progress; htmx 4 dropped it).
document.addEventListener("htmx:configRequest", (evt) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) evt.detail.headers["X-CSRF-Token"] = token.content;
});
document.addEventListener("htmx:xhr:progress", (evt) => {
  const bar = document.getElementById("upload-progress");
  if (bar && evt.detail.lengthComputable) {
    bar.value = Math.round((evt.detail.loaded / evt.detail.total) * 100);
  }
});
