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

  /* Finding centres near me: shown only where the browser can tell where it is. The place
     goes in the address rounded to about 100 m; when it cannot be had (refused, no fix),
     the person is sent to the postal code (or the lists) instead. */
  var near = document.querySelector("[data-near-section]");
  if (near && "geolocation" in navigator) {
    var form = near.querySelector("[data-near-form]");
    var status = near.querySelector("[data-near-status]");
    var button = near.querySelector("[data-near]");
    near.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = form.getAttribute("data-locating");
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(3);
        form.elements.long.value = position.coords.longitude.toFixed(3);
        form.submit();
      }, function () {
        button.disabled = false;
        status.textContent = form.getAttribute("data-failed");
        var fallback = document.getElementById(form.getAttribute("data-fallback"));
        if (fallback) { fallback.focus(); }
      }, {timeout: 15000, maximumAge: 600000});
    });
  }
})();
