"""Probes the MQTT 5 features a third-party client may use and prints one line per feature as `name=value`.

    paho_probe.py HOST PORT PREFIX

Runs against any broker (the embedded one of `seccm all`, mosquitto) with Eclipse Paho (Debian python3-paho-mqtt),
under topics PREFIX/...; comparing the output of two brokers shows where they differ. A negative (nothing
delivered) is shown by a marker published afterwards: what the broker would deliver arrives before it.
"""
import queue
import subprocess
import sys
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

HANG_GUARD_S = 60
WILL_WAIT_S = 30


class Client:
    def __init__(self, host, port, client_id="", protocol=mqtt.MQTTv5, will=None, session_expiry=None):
        self.messages = queue.Queue()
        self.acks = queue.Queue()
        self.connack = queue.Queue()
        self.c = mqtt.Client(client_id=client_id, protocol=protocol) if protocol == mqtt.MQTTv5 else \
            mqtt.Client(client_id=client_id, clean_session=True, protocol=protocol)
        self.c.on_connect = lambda c, u, f, rc, p=None: self.connack.put((rc, p))
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = lambda c, u, mid, codes, p=None: self.acks.put((mid, codes))
        self.c.on_publish = lambda c, u, mid: self.acks.put((mid, None))
        if will is not None:
            self.c.will_set(**will)
        props = None
        if session_expiry is not None:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = session_expiry
        if protocol == mqtt.MQTTv5:
            self.c.connect(host, port, clean_start=True, properties=props)
        else:
            self.c.connect(host, port)
        self.c.loop_start()
        self.rc, self.props = self.connack.get(timeout=HANG_GUARD_S)

    def ack(self, mid):
        while True:
            got, codes = self.acks.get(timeout=HANG_GUARD_S)
            if got == mid:
                return codes

    def subscribe(self, topic, **options):
        props = options.pop("properties", None)
        _, mid = self.c.subscribe(topic, options=SubscribeOptions(qos=1, **options), properties=props)
        return self.ack(mid)

    def publish(self, topic, payload, retain=False, properties=None):
        info = self.c.publish(topic, payload, qos=1, retain=retain, properties=properties)
        self.ack(info.mid)

    def until_marker(self, marker):
        """Every message delivered before the marker payload arrives."""
        before = []
        while True:
            m = self.messages.get(timeout=HANG_GUARD_S)
            if m.payload == marker:
                return before
            before.append(m)

    def wait_for(self, payload, seconds):
        deadline = time.monotonic() + seconds
        while True:
            try:
                if self.messages.get(timeout=max(0.0, deadline - time.monotonic())).payload == payload:
                    return True
            except queue.Empty:
                return False

    def close(self, reasoncode=None):
        if reasoncode is None:
            self.c.disconnect()
        else:
            from paho.mqtt.reasoncodes import ReasonCodes
            self.c.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, identifier=reasoncode))
        self.c.loop_stop()


def say(name, value):
    print(f"{name}={value}", flush=True)


def main():
    host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    p = f"{prefix}/{uuid.uuid4().hex[:8]}"
    marker = b"marker"

    a = Client(host, port)
    say("v5_empty_id_connack", a.rc)
    say("v5_assigned_client_id", getattr(a.props, "AssignedClientIdentifier", None) or "none")
    for prop in ("SharedSubscriptionAvailable", "TopicAliasMaximum", "ReceiveMaximum", "MaximumPacketSize", "RetainAvailable",
                 "WildcardSubscriptionAvailable", "SubscriptionIdentifierAvailable", "MaximumQoS", "ResponseInformation",
                 "ServerKeepAlive"):
        say(f"connack_{prop}", getattr(a.props, prop, "absent"))

    v3 = Client(host, port, protocol=mqtt.MQTTv311)
    say("v311_empty_id_clean_session_connack", v3.rc)
    v3.close()

    say("shared_subscription_suback", a.subscribe(f"$share/g/{p}/shared")[0])

    b = Client(host, port)
    b.subscribe("$SYS/broker/version")
    b.subscribe(f"{p}/sys-marker")
    a.publish(f"{p}/sys-marker", marker)
    say("sys_broker_version", ",".join(m.payload.decode() for m in b.until_marker(marker)) or "none")

    a.subscribe(f"{p}/nolocal", noLocal=True)
    a.subscribe(f"{p}/nolocal-marker")
    a.publish(f"{p}/nolocal", b"own")
    b.publish(f"{p}/nolocal-marker", marker)
    say("no_local_own_message_delivered", len(a.until_marker(marker)) > 0)

    a.subscribe(f"{p}/rap", retainAsPublished=True)
    b.publish(f"{p}/rap", b"live", retain=True)
    say("retain_as_published_flag", a.messages.get(timeout=HANG_GUARD_S).retain)

    b.subscribe(f"{p}/rap-marker")
    b.subscribe(f"{p}/rap", retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)
    a.publish(f"{p}/rap-marker", marker)
    say("retain_handling_2_sends_retained", len(b.until_marker(marker)) > 0)

    ids = Properties(PacketTypes.SUBSCRIBE)
    ids.SubscriptionIdentifier = 7
    a.subscribe(f"{p}/subid", properties=ids)
    b.publish(f"{p}/subid", b"x")
    say("subscription_identifier", getattr(a.messages.get(timeout=HANG_GUARD_S).properties, "SubscriptionIdentifier", None))

    expiring = Properties(PacketTypes.PUBLISH)
    expiring.MessageExpiryInterval = 1
    b.publish(f"{p}/expiry", b"expires", retain=True, properties=expiring)
    time.sleep(2.5)  # the interval has to pass on the broker's clock: this probe measures, it asserts nothing
    c = Client(host, port)
    c.subscribe(f"{p}/expiry-marker")
    c.subscribe(f"{p}/expiry")
    a.publish(f"{p}/expiry-marker", marker)
    say("expired_retained_message_delivered", len(c.until_marker(marker)) > 0)

    c.subscribe(f"{p}/will")
    w = Client(host, port, will={"topic": f"{p}/will", "payload": b"asked", "qos": 1})
    w.close(reasoncode=4)  # DISCONNECT 0x04, "Disconnect with Will Message"
    # The broker handles that connection's end on its own time, so no marker can show the will's absence:
    # wait for the will itself (the wait ends as soon as it arrives; only a broker that drops it waits it out).
    say("disconnect_with_will_message_sends_will", c.wait_for(b"asked", WILL_WAIT_S))

    # A connection that drops without DISCONNECT (mosquitto_sub killed) and asked for a 3 s will delay.
    dropper = subprocess.Popen(
        ["stdbuf", "-oL", "mosquitto_sub", "-h", host, "-p", str(port), "-V", "5", "-d", "-t", f"{p}/nothing", "-x", "60",
         "--will-topic", f"{p}/will", "--will-payload", "dropped", "-D", "will", "will-delay-interval", "3"],
        stdout=subprocess.PIPE, text=True)
    for line in dropper.stdout:
        if "received SUBACK" in line:
            break
    dropper.kill()
    dropped = time.monotonic()
    while c.messages.get(timeout=HANG_GUARD_S).payload != b"dropped":
        pass
    say("will_delay_3s_will_after_s", f"{time.monotonic() - dropped:.2f}")
    dropper.wait()

    for client in (a, b, c):
        client.close()


if __name__ == "__main__":
    main()
