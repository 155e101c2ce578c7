"""OBS Studio over obs-websocket v5: the client and the station's scene collection."""

from radio.obs.client import ObsClient, ObsRequestError, ObsUnavailable

__all__ = ["ObsClient", "ObsRequestError", "ObsUnavailable"]
