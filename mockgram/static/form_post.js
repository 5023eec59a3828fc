// Form Post Response Mode §2: submit the authorization response to the app at once.
// Loaded from a file, not inline, because the page's Content-Security-Policy forbids inline
// scripts; without JavaScript the visible Continue button does the same.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("form-post-response");
  if (form) {
    form.submit();
  }
});
