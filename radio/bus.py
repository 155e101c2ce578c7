"""The MQTT bus: one connection per worker, reconnecting with back-off.

Work is published with QoS 1 and received on a persistent session, so messages
published while a worker is away wait for it on the broker. On a real broker (MQTT v5)
a worker subscribes through a shared subscription (`$share/<worker>/...`), so several
instances of it split the work; the embedded broker speaks 3.1.1 only.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from radio import retry
from radio.config import Settings

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool], Awaitable[None]]
Will = Callable[[], tuple[str, bytes]]  # (topic, payload), asked for at each (re)connect
SESSION_EXPIRY_S = 7 * 24 * 3600


@dataclass(frozen=True)
class Subscription:
    topic: str  # relative to the prefix, may contain + and #
    qos: int = 1
    shared: bool = True  # split between instances where the broker allows it


class Bus:
    """A reconnecting MQTT connection with a last will and persistent subscriptions."""

    def __init__(self, settings: Settings, client_id: str, *,
                 will: Will | None = None,
                 subscriptions: tuple[Subscription, ...] = (),
                 share_group: str | None = None, persistent: bool = True) -> None:
        self.settings = settings
        self.prefix = settings.bus.topic_prefix.strip("/")
        self.address = settings.broker()
        self.client_id = client_id
        self.will = will
        self.subscriptions = subscriptions
        self.share_group = share_group
        self.persistent = persistent
        self.v5 = settings.bus.mqtt_version == "5" or (
            settings.bus.mqtt_version == "auto" and not self.address.embedded)
        self.connected = asyncio.Event()
        self.on_connect: Callable[[], Awaitable[None]] | None = None
        self._client: aiomqtt.Client | None = None

    def topic(self, relative: str) -> str:
        return f"{self.prefix}/{relative}"

    def relative(self, topic: str) -> str:
        return topic.removeprefix(self.prefix + "/")

    def _filter(self, sub: Subscription) -> str:
        full = self.topic(sub.topic)
        if sub.shared and self.share_group and self.v5 and self.settings.bus.shared_subscriptions:
            return f"$share/{self.share_group}/{full}"
        return full

    def _client_kwargs(self) -> dict:
        kwargs: dict = {
            "hostname": self.address.host, "port": self.address.port,
            "username": self.address.username, "password": self.address.password,
            "identifier": self.client_id, "keepalive": self.settings.bus.keepalive_s,
            "timeout": 10,
        }
        if self.will:
            topic, payload = self.will()
            kwargs["will"] = aiomqtt.Will(self.topic(topic), payload, qos=1, retain=True)
        if self.v5:
            kwargs["protocol"] = aiomqtt.ProtocolVersion.V5
            kwargs["clean_start"] = not self.persistent
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = SESSION_EXPIRY_S if self.persistent else 0
            kwargs["properties"] = props
        else:
            kwargs["protocol"] = aiomqtt.ProtocolVersion.V311
            kwargs["clean_session"] = not self.persistent
        return kwargs

    async def run(self, on_message: MessageHandler) -> None:
        """Stay connected until cancelled; hand every message to `on_message`."""
        backoff = retry.Backoff(0.5, 15.0, jitter=(0.5, 1.5))
        async for attempt in retry.forever(backoff, on=aiomqtt.MqttError,
                                           before_sleep=self._say_retrying):
            with attempt:
                await self._session(on_message, backoff)

    async def _session(self, on_message: MessageHandler, backoff: retry.Backoff) -> None:
        """One connection, from connect until it is lost (aiomqtt.MqttError)."""
        try:
            client = aiomqtt.Client(**self._client_kwargs())
            # Acknowledge a QoS 1 message only after the handler has stored it, so a
            # crash or a lost connection before then gets it redelivered. aiomqtt does
            # not expose paho's manual ack, so reach its paho client.
            client._client.manual_ack_set(True)
            async with client:
                self._client = client
                for sub in self.subscriptions:
                    await client.subscribe(self._filter(sub), qos=sub.qos)
                self.connected.set()
                backoff.reset()
                log.info("%s connected to %r", self.client_id, self.address)
                if self.on_connect:
                    await self.on_connect()
                async for message in client.messages:
                    await on_message(self.relative(message.topic.value),
                                     bytes(message.payload or b""), bool(message.retain))
                    client._client.ack(message.mid, message.qos)
        finally:
            self.connected.clear()
            self._client = None

    def _say_retrying(self, state: retry.RetryCallState) -> None:
        log.warning("%s: broker unreachable (%s); retrying in %.1fs", self.client_id,
                    retry.failure(state) or "connection ended", state.upcoming_sleep)

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1,
                      retain: bool = False) -> None:
        """Publish, waiting out a lost connection; never drops a QoS 1 message."""
        while True:
            await self.connected.wait()
            client = self._client
            if client is None:
                continue
            try:
                await client.publish(self.topic(topic), payload, qos=qos, retain=retain)
                return
            except aiomqtt.MqttError as exc:
                if qos == 0:
                    return
                log.warning("publish to %s failed (%s); will retry after reconnect", topic, exc)
                await asyncio.sleep(0.5)


async def publish_once(settings: Settings, topic: str, payload: bytes, *, retain: bool = False,
                       client_id: str = "radio-cli") -> None:
    """Publish one message and disconnect (for the CLI)."""
    bus = Bus(settings, f"{client_id}-{random.randrange(1 << 30)}", persistent=False)
    async with aiomqtt.Client(**bus._client_kwargs()) as client:
        await client.publish(bus.topic(topic), payload, qos=1, retain=retain)


async def read_retained(settings: Settings, topic_filter: str, wait_s: float = 1.0,
                        ) -> dict[str, bytes]:
    """Collect the retained messages under a filter (for `radio status` and friends)."""
    bus = Bus(settings, f"radio-cli-{random.randrange(1 << 30)}", persistent=False)
    found: dict[str, bytes] = {}
    async with aiomqtt.Client(**bus._client_kwargs()) as client:
        await client.subscribe(bus.topic(topic_filter), qos=1)
        try:
            async with asyncio.timeout(wait_s):
                async for message in client.messages:
                    # amqtt has been seen to hand a subscriber retained messages of other
                    # topics (onair/now under status/#): keep only what the filter matches.
                    if message.payload and message.topic.matches(bus.topic(topic_filter)):
                        found[bus.relative(message.topic.value)] = bytes(message.payload)
        except TimeoutError:
            pass
    return found
