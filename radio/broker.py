"""The embedded MQTT broker (amqtt) for `radio up` with no broker configured.

A convenience for one machine: bound to 127.0.0.1 only, MQTT 3.1.1 (no shared
subscriptions), state in memory. Production uses mosquitto (see docker-compose.yml).
"""

from __future__ import annotations

import logging

from amqtt.broker import Broker

log = logging.getLogger(__name__)


class EmbeddedBroker:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.address = f"{host}:{port}"
        self._broker = Broker(
            {
                "listeners": {"default": {"type": "tcp", "bind": self.address}},
                # No $SYS publisher, no packet logger: anonymous on loopback only.
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
                },
            }
        )

    async def start(self) -> None:
        await self._broker.start()
        log.info("embedded broker listening on %s", self.address)

    async def stop(self) -> None:
        await self._broker.shutdown()
