package mailtest

import (
	"strings"
	"testing"
)

func TestParseNestedBase64(t *testing.T) {
	raw := strings.ReplaceAll(`From: a@example.com
To: "Bob" <bob@example.com>
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

aGVsbG8g
w7xtbGF1dA==
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>hello =C3=BCmlaut</p>
--inner--
--outer
Content-Type: application/octet-stream

ignored
--outer--
`, "\n", "\r\n")
	m, err := parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.To != "bob@example.com" || m.Subject != "Grüße" || m.Text != "hello ümlaut" || m.HTML != "<p>hello ümlaut</p>" {
		t.Fatalf("parsed To %q Subject %q Text %q HTML %q", m.To, m.Subject, m.Text, m.HTML)
	}
	if _, err := parse([]byte("no headers at all")); err == nil {
		t.Fatal("parse accepted garbage")
	}
}
