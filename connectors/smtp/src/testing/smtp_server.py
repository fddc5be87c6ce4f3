#!/usr/bin/env python3
"""Throwaway SMTP server for OpenVLE's tests (aiosmtpd).

SMTP_MODE: tls (implicit TLS), starttls (STARTTLS required) or plain.
SMTP_USER / SMTP_PASS: require AUTH with these credentials when set.
Recipients at @reject.test get a permanent 550, at @later.test a temporary 451.
Each accepted message becomes <maildir>/<n>.json: envelope plus the parsed
headers and both decoded bodies, written to a temporary name and renamed so a
reader never sees half a file.
"""
import asyncio, email, email.policy, itertools, json, os, ssl, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

host, port = "127.0.0.1", int(os.environ["SMTP_PORT"])
mode = os.environ.get("SMTP_MODE", "tls")
outdir = os.environ["SMTP_MAILDIR"]
user, password = os.environ.get("SMTP_USER", ""), os.environ.get("SMTP_PASS", "")
counter = itertools.count(1)


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@reject.test"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.endswith("@later.test"):
            return f"451 4.3.0 <{address}>: Temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        bodies = {}
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                bodies[part.get_content_subtype()] = part.get_content().replace("\r\n", "\n")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"] or ""),
            "to": str(msg["To"] or ""),
            "reply_to": str(msg["Reply-To"] or ""),
            "subject": str(msg["Subject"] or ""),
            "message_id": str(msg["Message-ID"] or ""),
            "text": bodies.get("plain", ""),
            "html": bodies.get("html", ""),
            "auth": bool(session.authenticated),
        }
        name = f"{time.time_ns()}-{next(counter)}"
        tmp = os.path.join(outdir, name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(outdir, name + ".json"))
        return "250 2.0.0 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    # handled=False: aiosmtpd then answers 535 itself (its default, handled=True, answers nothing).
    return AuthResult(success=ok, handled=False)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(os.environ["SMTP_CERT"], os.environ["SMTP_KEY"])
kwargs = {}
if user:
    kwargs.update(authenticator=authenticator, auth_require_tls=(mode != "plain"), auth_required=True)
if mode == "tls":
    kwargs.update(ssl_context=ctx, server_hostname="localhost")
elif mode == "starttls":
    kwargs.update(tls_context=ctx, require_starttls=True)
controller = Controller(Sink(), hostname=host, port=port, **kwargs)
controller.start()
print(f"listening on {host}:{port} ({mode})", flush=True)
try:
    asyncio.new_event_loop().run_forever()
finally:
    controller.stop()
