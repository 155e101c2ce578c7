"""The embedded MQTT broker (amqtt) for `radio up` with no broker configured.

A convenience for one machine: bound to 127.0.0.1 only, MQTT 3.1.1 (no shared
subscriptions), state in memory. Production uses mosquitto (see docker-compose.yml).
"""

from __future__ import annotations

import logging

from amqtt.broker import Broker
from amqtt.errors import BrokerError
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The embedded broker could not start (its port is taken)."""


class LoopbackAuth(BaseAuthPlugin):
    """Lets every client in (the broker listens on 127.0.0.1 only), as a named session.

    amqtt's own anonymous plugin marks sessions anonymous, and amqtt keeps no QoS 1
    messages for an anonymous session while it is disconnected: a worker restarted against
    the embedded broker would lose the work sent meanwhile (tested).
    """

    async def authenticate(self, *, session: Session) -> bool:
        return True


class EmbeddedBroker:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.address = f"{host}:{port}"
        self._broker = Broker(
            {
                "listeners": {"default": {"type": "tcp", "bind": self.address}},
                # No $SYS publisher, no packet logger; every client let in, on loopback only.
                "plugins": {
                    "radio.broker.LoopbackAuth": {},
                },
            }
        )

    async def start(self) -> None:
        amqtt_log = logging.getLogger("amqtt.broker")
        level = amqtt_log.level
        amqtt_log.setLevel(logging.CRITICAL)  # its traceback says less than our one line
        try:
            await self._broker.start()
        except BrokerError as exc:
            raise BrokerUnavailable(
                f"the embedded broker cannot listen on {self.address} ({exc.__cause__ or exc}); "
                "is another `radio up` running? Set bus.embedded_port, or RADIO_BROKER_URL "
                "to use a broker that is already there") from None
        finally:
            amqtt_log.setLevel(level)
        log.info("embedded broker listening on %s", self.address)

    async def stop(self) -> None:
        await self._broker.shutdown()
