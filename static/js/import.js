// Import page: refuse a file over the size limit before it is uploaded (the server would refuse
// it unread, after the whole upload), and point the template link at the chosen standard.
// Without JavaScript the server answers both on the same page.
(function () {
  "use strict";
  var _f = window.I18n._f;

  function showError(input, message) {
    var field = input.closest(".field") || input.parentNode;
    var error = field.querySelector("[data-role=file-error]");
    if (!error) {
      error = document.createElement("p");
      error.className = "error";
      error.setAttribute("data-role", "file-error");
      error.setAttribute("role", "alert");
      field.appendChild(error);
    }
    error.textContent = message;
    error.hidden = !message;
    field.classList.toggle("has-error", Boolean(message));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.import-form");
    if (!form) { return; }
    var max = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var maxMb = form.getAttribute("data-max-mb");
    var input = form.querySelector("[data-role=import-file]");
    if (input && max) {
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        if (file && file.size > max) {
          showError(input, _f("文件“%(name)s”有 %(size)s MB，超过 %(max)s MB 的上限。请删去图片或拆分成几个文件后分别导入。",
            { name: file.name, size: (file.size / 1048576).toFixed(1), max: maxMb }));
          input.value = "";
        } else {
          showError(input, "");
        }
      });
    }
    var link = document.querySelector("[data-role=template-link]");
    var standard = form.querySelector("select[name=standard_id]");
    if (link && standard) {
      standard.addEventListener("change", function () {
        link.href = form.getAttribute("data-template-url") + "?standard_id=" + encodeURIComponent(standard.value);
      });
    }
  });
})();
