// Posts the SAML message form at once; without JavaScript the user presses its button.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("saml-post");
  if (form) form.submit();
});
