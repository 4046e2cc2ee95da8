// Passkey sign-in on the login page. Progressive: without it (or without WebAuthn in the
// browser) the page is the ordinary password form. It shows "Sign in with a passkey", and offers
// the passkeys of this site in the email field's autofill (WebAuthn conditional mediation, with
// autocomplete="username webauthn"). Either way it asks the server for the options (same-origin
// POST), runs the browser ceremony and submits the answer with its ceremony token in an
// ordinary form post, so the server answers with a page.
(function () {
  "use strict";

  var form = document.getElementById("passkey-login-form");
  var button = document.getElementById("passkey-login");
  if (!form || !button || !window.PublicKeyCredential || !navigator.credentials) {
    return;
  }
  document.getElementById("passkey").hidden = false;

  // The server keeps a ceremony 5 minutes; an autofill offer is renewed before that.
  var RENEW_MS = 4 * 60 * 1000;
  var autofill = null; // the AbortController of the pending autofill request
  // After a refused passkey the page comes back with the offer off: the button still works.
  var autofillOn = form.getAttribute("data-autofill") !== "off";

  function b64urlToBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function bufferToB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function requestOptions(pk) {
    pk.challenge = b64urlToBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuffer(c.id); });
    return pk;
  }

  function assertionJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufferToB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {
        clientDataJSON: bufferToB64url(r.clientDataJSON),
        authenticatorData: bufferToB64url(r.authenticatorData),
        signature: bufferToB64url(r.signature)
      }
    };
    if (r.userHandle) {
      out.response.userHandle = bufferToB64url(r.userHandle);
    }
    return JSON.stringify(out);
  }

  function showError(text) {
    var el = document.getElementById("passkey-error");
    el.textContent = text;
    el.hidden = false;
  }

  function fetchOptions() {
    return fetch(form.getAttribute("data-options"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok || !body.publicKey || !body.ceremony) {
          throw new Error(body.error || "The server could not start the passkey sign-in.");
        }
        return body;
      });
    });
  }

  function submit(ceremony, cred) {
    form.elements.ceremony.value = ceremony;
    form.elements.assertion.value = assertionJSON(cred);
    var remember = document.getElementById("remember");
    form.elements.remember.value = remember && remember.checked ? "1" : "";
    form.submit();
  }

  function stopAutofill() {
    if (autofill) {
      autofill.abort();
      autofill = null;
    }
  }

  // offerAutofill lists the site's passkeys in the email field's suggestions; picking one signs
  // in. Browsers without conditional mediation keep only the button.
  function offerAutofill() {
    if (!autofillOn || !PublicKeyCredential.isConditionalMediationAvailable) {
      return;
    }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) {
        return;
      }
      var ctl = new AbortController();
      autofill = ctl;
      var renew = setTimeout(function () {
        if (autofill === ctl) {
          stopAutofill();
          offerAutofill();
        }
      }, RENEW_MS);
      fetchOptions().then(function (o) {
        return navigator.credentials.get({
          mediation: "conditional", publicKey: requestOptions(o.publicKey), signal: ctl.signal
        }).then(function (cred) {
          clearTimeout(renew);
          if (cred && autofill === ctl) {
            autofill = null;
            submit(o.ceremony, cred);
          }
        });
      }).catch(function () {
        // Aborted (the button was pressed, or the offer renewed) or refused: the button and
        // the password form still work.
        clearTimeout(renew);
      });
    });
  }

  button.addEventListener("click", function () {
    stopAutofill();
    button.disabled = true;
    fetchOptions().then(function (o) {
      return navigator.credentials.get({ publicKey: requestOptions(o.publicKey) }).then(function (cred) {
        submit(o.ceremony, cred);
      });
    }).catch(function (err) {
      button.disabled = false;
      if (err && err.name === "NotAllowedError") {
        showError("The passkey sign-in was cancelled or timed out. Try again.");
      } else if (err && err.message) {
        showError(err.message);
      }
      offerAutofill();
    });
  });

  offerAutofill();
})();
