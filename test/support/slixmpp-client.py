"""A slixmpp client for the c2s tests: logs in with a JWT over STARTTLS (verified against the
test CA), says hello to a peer, and reports on stdout, one JSON object a line, what happens:
{"event": "online"|"message"|"failed_auth"|"disconnected", ...}. It stops after a message
whose body is "bye", or after --timeout seconds.

Usage: slixmpp-client.py --jid user@domain/resource --token JWT --port N --ca FILE --peer JID
"""
import argparse
import asyncio
import json
import sys

import slixmpp


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, token, peer):
        super().__init__(jid, token)
        self.peer = peer
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda _: self.on_failed())
        self.add_event_handler("disconnected", lambda _: emit("disconnected"))

    async def on_start(self, _event):
        self.send_presence()
        emit("online", jid=str(self.boundjid.full))
        self.send_message(mto=self.peer, mbody="hello from slixmpp", mtype="chat")

    def on_message(self, msg):
        emit("message", sender=str(msg["from"]), body=msg["body"], type=msg["type"])
        if msg["body"] == "bye":
            self.disconnect()

    def on_failed(self):
        emit("failed_auth")
        self.disconnect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()

    client = Client(args.jid, args.token, args.peer)
    client.ca_certs = args.ca
    client.connect(address=("127.0.0.1", args.port), force_starttls=True)
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(client.disconnected, args.timeout))
    except asyncio.TimeoutError:
        emit("timeout")
        sys.exit(1)


if __name__ == "__main__":
    main()
