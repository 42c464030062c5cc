"""The hub's settings: environment variables prefixed XIECHA_HUB_, read once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.desks import default_desks, desk_list
from services.common.paths import keys_dir
from services.common.trust import own_url
from services.hub.desk_keys import DeskKeys, from_directory


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIECHA_HUB_", frozen=True)

    database_url: str = "postgresql://postgres:postgres@127.0.0.1:5432/xiecha_hub"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    amqp_password: str = ""
    """When set, the hub connects as its own broker user (``broker_url``) with it."""
    rabbit_admin_url: str = "http://guest:guest@127.0.0.1:15672"
    """RabbitMQ management API, used to apply the policies of protocol/topology.py."""
    http_host: str = "127.0.0.1"
    http_port: int = 8100
    agreements_csv: str = ""
    """Optional CSV (code,status,signed_on) of real partner agreements; demo data otherwise."""
    consumer_concurrency: int = Field(32, ge=1, le=1000)
    db_pool_size: int = Field(10, ge=2, le=200)
    log_level: str = "INFO"
    desks: str = Field(default_factory=default_desks)
    """Which desk serves which provinces (region:code+code,...), shown on the map."""
    desk_keys_dir: str = ""
    """Where each desk's public key is (``desk-<region>.pub``); XIECHA_KEYS_DIR or .run/keys
    when empty. The hub hands these keys to every desk with the registry."""
    map_approval_number: str = ""
    """The map's approval number (审图号) for the map page's footer."""

    def desk_keys(self) -> DeskKeys:
        directory = Path(self.desk_keys_dir) if self.desk_keys_dir else keys_dir()
        return from_directory(desk_list(self.desks), directory)

    @property
    def broker_url(self) -> str:
        return own_url(self.amqp_url, self.amqp_password, "hub")
