"""Request and response models of ``/v1/keys``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["forwarder", "planner", "coordinator", "admin"]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class KeyOut(BaseModel):
    """A key of your organisation; the secret itself is never shown again."""

    id: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedKeyOut(KeyOut):
    """A new key: ``secret`` is shown this once."""

    secret: str
