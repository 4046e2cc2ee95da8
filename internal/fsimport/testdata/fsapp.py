#!/usr/bin/python3
"""A small Flask-Security-Too application for Gatehouse's import tests.

  fsapp.py create DB_URL   creates the tables (fsqla_v3 models) and the test users through
                           Flask-Security's own API, and prints what a test needs to know as JSON
                           (passwords, TOTP secrets in base32, recovery codes).
  fsapp.py verify          reads {"hash": ..., "password": ...} on stdin and exits 0 when
                           Flask-Security's verify_password accepts the password, 1 otherwise.

Settings come from the environment: FS_SALT (SECURITY_PASSWORD_SALT), FS_TOTP_SECRETS (JSON,
SECURITY_TOTP_SECRETS) and FS_RECOVERY_KEYS (comma-separated Fernet keys,
SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS; empty stores the codes in plain text), FS_WEBAUTHN
(JSON {"id": hex, "public_key": hex, "sign_count": n}: a credential to store for
webauthn-user@example.com) and FS_CHEAP (set: low work factors, for fast tests).
"""
import datetime
import json
import os
import sys

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_security import Security, SQLAlchemyUserDatastore, hash_password
from flask_security.models import fsqla_v3 as fsqla
from flask_security.core import _get_pwd_context
from flask_security.utils import verify_password
from passlib.totp import TOTP


def make_app(db_url):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="fsapp-test-secret",
        SQLALCHEMY_DATABASE_URI=db_url,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SECURITY_PASSWORD_SALT=os.environ["FS_SALT"],
        SECURITY_TWO_FACTOR=True,
        SECURITY_TWO_FACTOR_ENABLED_METHODS=["authenticator", "email"],
        SECURITY_TOTP_SECRETS=json.loads(os.environ.get("FS_TOTP_SECRETS") or '{"1": "fsapp totp secret"}'),
        SECURITY_TOTP_ISSUER="fsapp",
        SECURITY_MULTI_FACTOR_RECOVERY_CODES=True,
    )
    if os.environ.get("FS_CHEAP"):
        # Cheaper work factors for tests (the formats are the same as with the defaults).
        app.config["SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS"] = {
            "argon2__rounds": 2, "argon2__memory_cost": 1024, "argon2__parallelism": 2,
            "sha512_crypt__rounds": 5000, "pbkdf2_sha512__rounds": 1000, "bcrypt__rounds": 4}
    keys = [k for k in (os.environ.get("FS_RECOVERY_KEYS") or "").split(",") if k]
    if keys:
        app.config["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"] = [k.encode() for k in keys]
    db = SQLAlchemy(app)
    fsqla.FsModels.set_db_info(db)

    class Role(db.Model, fsqla.FsRoleMixin):
        pass

    class User(db.Model, fsqla.FsUserMixin):
        webauthn = db.relationship("WebAuthn", backref="users", cascade="all, delete")

    class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
        pass

    ds = SQLAlchemyUserDatastore(db, User, Role, WebAuthn)
    app.security = Security(app, ds)
    return app, db, ds


def use_scheme(app, scheme):
    """Makes hash_password produce scheme, as SECURITY_PASSWORD_HASH=scheme would."""
    app.config["SECURITY_PASSWORD_HASH"] = scheme
    app.security.password_hash = scheme
    app.security.pwd_context = _get_pwd_context(app)


# email, scheme, password, active, confirmed, roles
USERS = [
    ("bcrypt-admin@example.com", "bcrypt", "Correct horse bcrypt 1", True, True, ["admin"]),
    ("argon2-editor@example.com", "argon2", "Argon2 battery staple \u00dc", True, True, ["editor"]),
    ("pbkdf2-user@example.com", "pbkdf2_sha512", "Pbkdf2 staple sha512", True, True, ["user"]),
    ("sha512crypt-user@example.com", "sha512_crypt", "Sha512 crypt staple!", True, True, ["user"]),
    ("inactive-user@example.com", "argon2", "Inactive user password 1", False, True, ["user"]),
    ("unconfirmed-user@example.com", "bcrypt", "Unconfirmed password 1", True, False, ["editor", "user"]),
    ("totp-user@example.com", "bcrypt", "Totp user password 1", True, True, ["user", "auditor"]),
    ("recovery-user@example.com", "argon2", "Recovery user password 1", True, True, ["editor"]),
    ("webauthn-user@example.com", "bcrypt", "WebAuthn user password 1", True, True, []),
    ("taken@example.com", "bcrypt", "Taken user password 1", True, True, ["admin"]),
]


def create(db_url):
    app, db, ds = make_app(db_url)
    out = {"users": {}}
    with app.app_context():
        db.create_all()
        for name in ("admin", "editor", "user", "auditor"):
            ds.find_or_create_role(name=name, description=name + " role")
        db.session.commit()
        now = datetime.datetime(2025, 3, 4, 5, 6, 7)
        for email, scheme, password, active, confirmed, roles in USERS:
            use_scheme(app, scheme)
            # As Flask-Security's forms and CLI do: the password is normalized (NFKD) first.
            normalized = app.security._password_util.normalize(password)
            u = ds.create_user(email=email, password=hash_password(normalized), active=active,
                               roles=roles)
            if confirmed:
                u.confirmed_at = now
            u.last_login_at, u.current_login_at = now - datetime.timedelta(days=1), now
            u.last_login_ip, u.current_login_ip, u.login_count = "192.0.2.1", "192.0.2.2", 7
            db.session.commit()
            out["users"][email] = {"password": password, "scheme": scheme, "hash": u.password,
                                   "fs_uniquifier": u.fs_uniquifier,
                                   "webauthn_handle": u.fs_webauthn_user_handle or ""}
        use_scheme(app, "bcrypt")
        factory = app.security._totp_factory
        for email in ("totp-user@example.com", "recovery-user@example.com"):
            u = ds.find_user(email=email)
            secret = factory.generate_totp_secret()
            ds.tf_set(u, "authenticator", totp_secret=secret)
            db.session.commit()
            out["users"][email]["totp_base32"] = factory._totp.from_source(secret).base32_key
            out["users"][email]["tf_totp_secret"] = secret
        # A username (fsqla_v3's column, SECURITY_USERNAME_ENABLE): carried by the import.
        u = ds.find_user(email="argon2-editor@example.com")
        u.username = "Argon.Editor"
        db.session.commit()
        out["users"]["argon2-editor@example.com"]["username"] = u.username
        u = ds.find_user(email="recovery-user@example.com")
        codes = app.security._mf_recovery_codes_util.create_recovery_codes(u)
        db.session.commit()
        out["users"]["recovery-user@example.com"]["recovery_codes"] = codes
        # A plaintext "hash", as SECURITY_PASSWORD_HASH="plaintext" stores: refused at import.
        use_scheme(app, "plaintext")
        u = ds.create_user(email="plaintext-user@example.com", password=hash_password("plain words 123"))
        db.session.commit()
        use_scheme(app, "bcrypt")
        # A security key, stored the way Flask-Security's WebAuthn registration does.
        u = ds.find_user(email="webauthn-user@example.com")
        cred = json.loads(os.environ.get("FS_WEBAUTHN") or "null")
        if cred:
            ds.create_webauthn(u, name="my key", credential_id=bytes.fromhex(cred["id"]),
                               public_key=bytes.fromhex(cred["public_key"]), sign_count=cred["sign_count"],
                               transports=["usb", "nfc"], backup_state=False, device_type="single_device",
                               extensions=None, usage="first")
            db.session.commit()
    json.dump(out, sys.stdout, indent=1)
    print()


def verify():
    req = json.load(sys.stdin)
    app, _, _ = make_app("sqlite://")
    with app.app_context():
        ok = verify_password(app.security._password_util.normalize(req["password"]), req["hash"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["create"] and len(sys.argv) == 3:
        create(sys.argv[2])
    elif sys.argv[1:] == ["verify"]:
        verify()
    else:
        sys.exit(__doc__)
