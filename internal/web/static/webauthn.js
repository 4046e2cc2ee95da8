// Security keys and passkeys on the Gatehouse pages. Progressive: the pages work without it
// (other factors), and it only reveals the security-key parts when the browser can use them.
// It asks the server for the WebAuthn options (same-origin POST), runs the browser ceremony,
// and submits the result in an ordinary form post, so the server answers with a page.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

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

  function creationOptions(pk) {
    pk.challenge = b64urlToBuffer(pk.challenge);
    pk.user.id = b64urlToBuffer(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuffer(c.id); });
    return pk;
  }

  function requestOptions(pk) {
    pk.challenge = b64urlToBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuffer(c.id); });
    return pk;
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufferToB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: bufferToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufferToB64url(r.attestationObject);
      if (r.getTransports) {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = bufferToB64url(r.authenticatorData);
      out.response.signature = bufferToB64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = bufferToB64url(r.userHandle);
      }
    }
    return JSON.stringify(out);
  }

  function showError(form, text) {
    var el = form.querySelector(".field-error[role=alert]");
    if (el) {
      el.textContent = text;
      el.hidden = false;
    }
  }

  function fetchOptions(form) {
    return fetch(form.getAttribute("data-options"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.json().then(function (body) {
        if (body.verify) {
          window.location.assign(body.verify);
          throw new Error("");
        }
        if (!res.ok || !body.publicKey) {
          throw new Error(body.error || "The server could not start the security key check.");
        }
        return body.publicKey;
      });
    });
  }

  function ceremonyFailed(form, err) {
    if (!err || !err.message) {
      return;
    }
    if (err.name === "NotAllowedError") {
      showError(form, "The security key check was cancelled or timed out. Try again.");
    } else if (err.name === "InvalidStateError") {
      showError(form, "This security key is already registered.");
    } else {
      showError(form, err.message);
    }
  }

  function setup(buttonId, formId, run) {
    var button = document.getElementById(buttonId);
    var form = document.getElementById(formId);
    if (!button || !form) {
      return;
    }
    var box = form.closest(".js-only") || form;
    box.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      run(form).catch(function (err) {
        ceremonyFailed(form, err);
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  setup("webauthn-login", "webauthn-login-form", function (form) {
    return fetchOptions(form).then(function (pk) {
      return navigator.credentials.get({ publicKey: requestOptions(pk) });
    }).then(function (cred) {
      form.elements.assertion.value = credentialJSON(cred);
      form.submit();
    });
  });

  function register(form) {
    return fetchOptions(form).then(function (pk) {
      return navigator.credentials.create({ publicKey: creationOptions(pk) });
    }).then(function (cred) {
      form.elements.credential.value = credentialJSON(cred);
      form.submit();
    });
  }

  setup("webauthn-register", "webauthn-register-form", register);
  // A passkey is registered the same way; its options ask for a discoverable credential.
  setup("passkey-register", "passkey-register-form", register);
})();
