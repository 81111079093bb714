#!/usr/bin/env python3
"""Generates the gen-NN.eml messages of this corpus, deterministically.

Run from this directory: python3 gen.py. The output is committed; the
expected answers live in expected.txt (see ../golden.rs)."""
import random
from email.message import EmailMessage
from email.headerregistry import Address
from email.utils import format_datetime
from email import policy
import datetime

rng = random.Random(20240101)
NAMES = ["Alice Archer", "Bob Baker", "Carol Chen", "Dörte Dünn", "Émile Zola", "Иван Петров", "李雷", "O'Brien, Pat"]
DOMAINS = ["example.org", "example.com", "example.net", "mail.example.de"]
SUBJECTS = ["Quarterly figures", "Re: lunch?", "Fwd: [team] Re: plans", "Grüße aus Köln", "Отчёт за март", "会议 通知", "(no subject)", "Re: Re: RE: Fw: loop"]
CHARSETS = ["utf-8", "iso-8859-1", "iso-8859-15", "windows-1252", "koi8-r", "us-ascii"]

def addr(i):
    n = NAMES[i % len(NAMES)]
    user = "".join(c for c in n.lower() if c.isascii() and c.isalpha())[:8] or "user%d" % i
    return Address(n, user, DOMAINS[i % len(DOMAINS)])

def base(i):
    m = EmailMessage(policy=policy.SMTP)
    m["From"] = addr(i)
    m["To"] = [addr(i + k + 1) for k in range(1 + i % 3)]
    if i % 4 == 0:
        m["Cc"] = addr(i + 5)
    m["Subject"] = SUBJECTS[i % len(SUBJECTS)] + " #%d" % i
    d = datetime.datetime(2024, 1 + i % 12, 1 + i % 28, i % 24, (i * 7) % 60, 0,
                          tzinfo=datetime.timezone(datetime.timedelta(hours=(i % 9) - 4)))
    m["Date"] = format_datetime(d)
    m["Message-ID"] = "<gen.%d@example.org>" % i
    if i % 3 == 1:
        m["In-Reply-To"] = "<gen.%d@example.org>" % (i - 1)
        m["References"] = " ".join("<gen.%d@example.org>" % k for k in range(max(0, i - 3), i))
    return m

def text(i, lines=3):
    words = ["lorem", "ipsum", "dolor", "Grüße", "naïve", "café", "привет", "=equals=", "tab\there"]
    return "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(lines)) + "\n"

def make(i):
    kind = i % 10
    m = base(i)
    cs = CHARSETS[i % len(CHARSETS)]
    body = text(i, 2 + i % 5)
    body = body.encode(cs, "replace").decode(cs)
    if kind == 0:
        m.set_content(body, charset=cs if cs != "us-ascii" else "us-ascii", cte="quoted-printable" if cs != "us-ascii" else "7bit")
    elif kind == 1:
        m.set_content(body, charset="utf-8", cte="base64")
    elif kind == 2:
        m.set_content(body)
        m.add_alternative("<html><body><p>%s</p></body></html>\n" % body.replace("\n", "<br>"), subtype="html")
    elif kind == 3:
        m.set_content(body)
        m.add_attachment(bytes(rng.randrange(256) for _ in range(300)), maintype="application", subtype="octet-stream", filename="blob-%d.bin" % i)
    elif kind == 4:
        m.set_content(body)
        inner = base(i + 100)
        inner.set_content(text(i + 100))
        m.add_attachment(inner)
    elif kind == 5:
        m.set_content(body)
        m.add_alternative("<p>html</p>\n", subtype="html")
        m.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="doc.pdf")
    elif kind == 6:
        m.set_content(body, subtype="plain", charset="utf-8")
        m.add_attachment("a,b,c\n1,2,3\n", subtype="csv", filename="Tabelle Ä.csv")
    elif kind == 7:
        m.set_content(body.encode("koi8-r", "replace"), maintype="text", subtype="plain", cte="8bit")
        m.replace_header("Content-Type", "text/plain; charset=koi8-r")
    elif kind == 8:
        m.make_mixed()
        for k in range(3):
            p = EmailMessage(policy=policy.SMTP)
            p.set_content("part %d\n%s" % (k, text(i + k)), disposition="inline")
            m.attach(p)
    else:
        m.set_content(bytes(range(256)) * 2, maintype="image", subtype="png", disposition="inline", filename="pic.png")
        m["Content-ID"] = "<pic.%d@example.org>" % i
        m["Content-Description"] = "A picture (generated)"
        m["Content-Language"] = "en, fr"
    return m

for i in range(24):
    m = make(i)
    if m.is_multipart():
        m.set_boundary("==gen-boundary-%d==" % i)
    data = m.as_bytes(policy=policy.SMTP).replace(b"\r\n", b"\n")
    with open("gen-%02d.eml" % i, "wb") as f:
        f.write(data)
