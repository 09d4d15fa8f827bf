#!/usr/bin/env python3
"""A loopback SMTP server for development and the tests (Debian's python3-aiosmtpd).

Usage: smtp-sink.py PORT DIR
Each message received is written to DIR as one JSON file {to, from, subject, text, html}, with the MIME parts
decoded, so a test can read what the app sent. Runs until killed.
"""
import json
import os
import sys
import time
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        msg = BytesParser(policy=policy.default).parsebytes(envelope.content)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "to": envelope.rcpt_tos,
            "from": envelope.mail_from,
            "subject": str(msg["subject"] or ""),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
        }
        self.n += 1
        name = "%d-%06d.json" % (os.getpid(), self.n)
        tmp = os.path.join(self.folder, "." + name)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.folder, name))  # readers never see half a file
        return "250 Message accepted for delivery"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("listening", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
