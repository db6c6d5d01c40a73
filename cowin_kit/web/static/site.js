/* The pages' few scripts, in one file: the Content-Security-Policy allows no inline code.
   Every page works without them; they only add conveniences. */
(function () {
  "use strict";

  /* Print buttons (slips): hidden until a script can make them work. */
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  /* Adding a member: show only the hint of the chosen ID document (without a script, or
     before a choice, all hints are shown). */
  var select = document.getElementById("id_type");
  var hints = document.querySelectorAll(".id-hints [data-for]");
  if (select && hints.length) {
    var show = function () {
      hints.forEach(function (p) {
        p.hidden = select.value !== "" && p.getAttribute("data-for") !== select.value;
      });
    };
    select.addEventListener("change", show);
    show();
  }
})();
