# shellcheck shell=bash
# Flask-Security-Too for the import tests (issue 17): Debian's python3-flask-security (5.1.x)
# with what fsapp.py (internal/fsimport/testdata) uses: Flask-SQLAlchemy, passlib, argon2-cffi,
# cryptography (Fernet, passlib's TOTP encryption), qrcode (Flask-Security's two-factor needs
# it), and the PostgreSQL and MySQL/MariaDB drivers. The tests fail without them when
# GATEHOUSE_TEST_REQUIRE is set, as it is in scripts/test.

FSIMPORT_PACKAGES=(python3-flask-security python3-flask-sqlalchemy python3-passlib python3-argon2
	python3-cryptography python3-qrcode python3-psycopg2 python3-pymysql oathtool)

# fsimport_ensure_packages — installs the packages unless /usr/bin/python3 already imports them.
fsimport_ensure_packages() {
	if /usr/bin/python3 -c 'import flask_security, flask_sqlalchemy, passlib, argon2, cryptography, qrcode, psycopg2, pymysql' 2>/dev/null &&
		command -v oathtool >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "fsimport: missing ${FSIMPORT_PACKAGES[*]} and not root: install them with apt-get" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq >/dev/null || return 1
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends \
		"${FSIMPORT_PACKAGES[@]}" >/dev/null || return 1
	/usr/bin/python3 -c 'import flask_security; print("Flask-Security-Too", flask_security.__version__)'
}
