"""Eclipse Paho (Debian python3-paho-mqtt) against a seccm broker, as a lab's own script would use it.

    paho_client.py v5 HOST PORT INSTRUMENT
        MQTT 5, empty client id, clean start: prints the client id the broker assigned, a retained pixel result of
        the running scan, and the reply to scan/cmd/status sent with a response topic and correlation data.
    paho_client.py v311 HOST PORT INSTRUMENT
        MQTT 3.1.1, empty client id, clean session: sends scan/cmd/pause with a malformed payload (no response topic
        in MQTT 3.1.1) and prints the error the service publishes on scan/event/reply.

Prints one line per finding and exits 0 when all were seen; exits 1 with what was missing otherwise.
"""
import json
import os
import sys
import threading

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

HANG_GUARD_S = 240


def say(line):
    print(line, flush=True)


def v5(host, port, instrument):
    done = threading.Event()
    seen = {}
    reply_topic = f"seccm/{instrument}/cli/reply/paho-{os.getpid()}"
    correlation = os.urandom(16)

    def on_connect(client, userdata, flags, rc, properties):
        if rc != 0:
            say(f"connack refused: {rc}")
            done.set()
            return
        assigned = getattr(properties, "AssignedClientIdentifier", None)
        say(f"connected assigned-client-id={assigned}")
        seen["assigned"] = bool(assigned)
        client.subscribe(reply_topic, qos=1)
        _, subscribed["request_after"] = client.subscribe(f"seccm/{instrument}/diffusion/result/+/pixel/+", qos=1)

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        if mid == subscribed["request_after"]:
            request = Properties(PacketTypes.PUBLISH)
            request.ResponseTopic = reply_topic
            request.CorrelationData = correlation
            client.publish(f"seccm/{instrument}/scan/cmd/status", b"{}", qos=1, properties=request)

    def on_message(client, userdata, message):
        if message.topic == reply_topic:
            got = getattr(message.properties, "CorrelationData", None)
            body = json.loads(message.payload)
            say(f"reply correlation-matches={got == correlation} ok={body.get('ok')} {message.payload.decode()}")
            seen["reply"] = got == correlation and body.get("ok") is True
        elif message.retain and "retained" not in seen:
            body = json.loads(message.payload)
            say(f"retained-result {message.topic} index={body.get('index')}")
            seen["retained"] = True
        if {"assigned", "reply", "retained"} <= seen.keys():
            done.set()

    subscribed = {"request_after": None}
    client = mqtt.Client(client_id="", protocol=mqtt.MQTTv5)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, clean_start=True)
    client.loop_start()
    finished = done.wait(HANG_GUARD_S)
    client.disconnect()
    client.loop_stop()
    return finished and all(seen.get(k) for k in ("assigned", "reply", "retained")), seen


def v311(host, port, instrument):
    done = threading.Event()
    seen = {}
    reply_event = f"seccm/{instrument}/scan/event/reply"

    def on_connect(client, userdata, flags, rc):
        if rc != 0:
            say(f"connack refused: {mqtt.connack_string(rc)}")
            done.set()
            return
        say("connected (MQTT 3.1.1, no client id given)")
        seen["connected"] = True
        client.subscribe(reply_event, qos=1)

    def on_subscribe(client, userdata, mid, granted_qos):
        client.publish(f"seccm/{instrument}/scan/cmd/pause", b"pause please", qos=1)

    def on_message(client, userdata, message):
        body = json.loads(message.payload)
        error = body.get("error") or {}
        if body.get("ok") is False and "scan/cmd/pause" in error.get("message", ""):
            say(f"error-reply code={error.get('code')} message={error.get('message')}")
            seen["error"] = True
            done.set()

    client = mqtt.Client(client_id="", clean_session=True, protocol=mqtt.MQTTv311)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    finished = done.wait(HANG_GUARD_S)
    client.disconnect()
    client.loop_stop()
    return finished and seen.get("connected") and seen.get("error"), seen


def main():
    mode, host, port, instrument = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    say(f"paho-mqtt {paho.mqtt.__version__} {mode}")
    ok, seen = (v5 if mode == "v5" else v311)(host, port, instrument)
    if not ok:
        say(f"missing: {seen}")
        return 1
    say("all seen")
    return 0


if __name__ == "__main__":
    sys.exit(main())
